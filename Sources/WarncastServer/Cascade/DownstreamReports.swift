import Foundation
import Hummingbird
import Logging
import WarncastCore
import WarncastNet
import WarncastStore

/// A warning's per-tier report: this node's own roll-up and blind spots, and the reports of
/// the lower-tier nodes it handed the warning to, each with theirs in turn.
public struct WarningReport: ResponseEncodable, Decodable, Sendable {
    public var warning: Warning.ID
    public var node: String?
    public var depth: Tier
    public var tiers: [RollupEntry]
    /// The same per channel: loudspeaker, each SMS group, email, lower-tier nodes …
    public var byChannel: [String: [RollupEntry]]?
    /// Recipients not (yet) delivered, with their last error; at most 1000.
    public var blindSpots: [DeliveryView]
    /// Lower-tier nodes' reports, asked for when this one was made. Their rows are also
    /// added into `tiers` (see `RollupMerge`), in place of the hand-downs themselves.
    public var downstream: [DownstreamReport]?
    /// When this node released the warning: a lower node's seconds count from its own release.
    public var releasedAt: Timestamp?
    /// Only in answers to an upper node: when each division (on each channel) was first
    /// reached, this node's and its lower nodes', for the upper node's timeline.
    public var reaches: [WarningTimeline.Reach]?
    /// This node's broadcast terminals in the warning's area, online and offline now, per
    /// division down to `depth`.
    public var terminals: [TerminalCount]?
    /// The same as the warning went out (the `terminals.at_release` audit entry): how many
    /// were online, and the divisions where none was.
    public var terminalsAtRelease: [String: String]?
}

extension WarningReport {
    /// The part of the report a reader of `region` may see: the rows of divisions within it
    /// (a row of a tier above also counts other regions' recipients), its blind spots,
    /// terminals and reaches, and the lower nodes' reports cut the same way. The terminals at
    /// release stay whole: they are the audit entry of the release, which the warning's
    /// history shows too.
    func scoped(to region: RegionCode) -> WarningReport {
        func within(_ code: String) -> Bool { RegionCode(code)?.isWithin(region) ?? false }
        var report = self
        report.tiers = tiers.filter { $0.region.isWithin(region) }
        report.byChannel = byChannel?.mapValues { $0.filter { $0.region.isWithin(region) } }
        report.blindSpots = blindSpots.filter { within($0.region) }
        report.reaches = reaches?.filter { within($0.division) }
        report.terminals = terminals?.filter { within($0.region) }
        report.downstream = downstream?.map { answer in
            var answer = answer
            answer.report = answer.report?.scoped(to: region)
            return answer
        }
        return report
    }
}

/// What one lower-tier node said about the warning, or why it could not be asked.
public struct DownstreamReport: Codable, Sendable {
    /// The node's name in the recipients registry, and where it was asked.
    public var recipient: String
    public var url: String
    /// Its id for the warning.
    public var warning: String
    public var report: WarningReport?
    public var error: String?
}

/// Asks lower-tier nodes for their reports: a signed `GET /v1/cascade/warnings/{id}/report`
/// through the libcurl engine, which they verify with this node's public key.
public struct DownstreamReports: Sendable {
    let transport: any Transport
    let signer: MessageSigner
    /// The channels whose recipients are lower-tier nodes.
    let channels: Set<String>
    let timeoutMilliseconds: Int

    let now: @Sendable () -> Date

    public init(
        transport: any Transport, signer: MessageSigner, channels: Set<String>, timeoutMilliseconds: Int = 5000,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.now = now
        self.transport = transport
        self.signer = signer
        self.channels = channels
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    public static func reportPath(_ id: String) -> String { "/v1/cascade/warnings/\(id)/report" }

    /// A lower node's answer, with the hand-down it is about.
    struct Fetched: Sendable {
        var handDown: DeliveryReference
        var answer: DownstreamReport
    }

    func fetch(warningID: Warning.ID, depth: Tier, store: any Store) async throws -> [Fetched] {
        let targets = try await store.deliveryReferences(warningID: warningID, channels: channels)
        return await withTaskGroup(of: Fetched.self) { group in
            for target in targets {
                group.addTask { Fetched(handDown: target, answer: await fetch(target, depth: depth)) }
            }
            var reports: [Fetched] = []
            for await report in group { reports.append(report) }
            return reports.sorted { $0.answer.recipient < $1.answer.recipient }
        }
    }

    private func fetch(_ target: DeliveryReference, depth: Tier) async -> DownstreamReport {
        let base = target.address.hasSuffix("/") ? String(target.address.dropLast()) : target.address
        let path = Self.reportPath(target.reference)
        var answer = DownstreamReport(recipient: target.recipientName, url: base, warning: target.reference)
        do {
            let headers = try signer.headers(body: Data(), idempotencyKey: "GET \(path)", timestamp: Timestamp.string(now()))
            let result = try await transport.perform(
                HTTPRequestSpec(
                    method: "GET", url: base + path + "?depth=\(depth.rawValue)", headers: headers,
                    connectTimeoutMilliseconds: min(3000, timeoutMilliseconds), totalTimeoutMilliseconds: timeoutMilliseconds))
            guard result.status == 200 else {
                answer.error = "HTTP \(result.status): \(String(decoding: result.body.prefix(200), as: UTF8.self))"
                return answer
            }
            answer.report = try JSONDecoder().decode(WarningReport.self, from: result.body)
        } catch {
            answer.error = "\(error)"
        }
        return answer
    }
}

extension DownstreamReport {
    init(recipient: String, url: String, warning: String) {
        self.init(recipient: recipient, url: url, warning: warning, report: nil, error: nil)
    }
}

/// Builds a warning's report, with its downstream nodes' when there are any.
struct WarningReportBuilder: Sendable {
    let store: any Store
    let node: String
    let downstream: DownstreamReports?
    /// Which recipients are terminals sending heartbeats.
    var terminals = TerminalWatch(channels: [])
    let now: @Sendable () -> Date

    /// The report's `?depth=` (default county, as `warncast report`), or a clear refusal.
    static func depth(of request: Request) throws -> Tier {
        guard let text = request.uri.queryParameters["depth"] else { return .county }
        guard let tier = Tier(rawValue: String(text)) else {
            throw APIError.badQuery("depth must be one of \(Tier.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return tier
    }

    /// The warning's report. The rows count this node's own recipients and, for each lower
    /// node that answered, that node's rows in place of the hand-down it was sent; a lower
    /// node that could not be asked is still counted by its hand-down. `forUpstream` adds
    /// the reaches an upper node's timeline needs.
    ///
    /// `within` a region (the caller's), the report is that region's part: the rows of its
    /// divisions, its blind spots, the lower nodes that serve part of it.
    func report(
        warningID id: Warning.ID, depth: Tier, forUpstream: Bool = false, within scope: RegionCode? = nil
    ) async throws
        -> WarningReport
    {
        // A reader below the depth asked for (a township's, of a county-deep report) gets
        // rows of its own tier at least: the rows above it are cut.
        let depth = scope.map { max(depth, $0.tier) } ?? depth
        var lower = try await downstream?.fetch(warningID: id, depth: depth, store: store) ?? []
        if let scope { lower = lower.filter { RegionCode($0.handDown.region)?.overlaps(scope) ?? false } }
        // A lower node with nobody to reach (still awaiting its own approval, rejected, no
        // recipients there) has no rows to stand for the hand-down: the hand-down stays.
        let answered = lower.filter { $0.answer.report?.tiers.contains { $0.targeted > 0 } == true }
        let rollup = try await store.rollup(warningID: id, depth: depth, excluding: Set(answered.map(\.handDown.deliveryID)))
        let warning = try await store.warning(id: id)
        let released = warning?.approval?.releasedAt
        var tiers = rollup.total
        for fetched in answered {
            guard let report = fetched.answer.report else { continue }
            // Their seconds count from their release; ours from ours.
            var shift = 0.0
            if let theirs = report.releasedAt?.date, let ours = released?.date { shift = theirs.timeIntervalSince(ours) }
            let served = RegionCode(fetched.handDown.region).map { RollupMerge.served(by: $0, report.tiers, \.region) } ?? []
            tiers = RollupMerge.merge(tiers, served, shift: shift)
        }
        let report = WarningReport(
            warning: id, node: node, depth: depth, tiers: tiers, byChannel: rollup.byChannel,
            blindSpots: try await store.undelivered(warningID: id, limit: 1000, within: scope),
            downstream: lower.isEmpty ? nil : lower.map(\.answer), releasedAt: released,
            reaches: forUpstream ? try await reaches(warningID: id, lower: lower) : nil,
            terminals: try await terminalCounts(areas: warning?.areas ?? [], depth: depth),
            terminalsAtRelease: try await store.terminalsAtRelease(warningID: id))
        return scope.map { report.scoped(to: $0) } ?? report
    }

    /// Online and offline terminals per division of `areas`, or nil when this node has none.
    private func terminalCounts(areas: [RegionCode], depth: Tier) async throws -> [TerminalCount]? {
        guard !terminals.channels.isEmpty else { return nil }
        var counts: [String: TerminalCount] = [:]
        for area in areas {
            for count in try await store.terminalCounts(terminals, within: area, depth: depth, at: now()) {
                counts[count.region] = count
            }
        }
        return counts.isEmpty ? nil : counts.keys.sorted().map { counts[$0]! }
    }

    /// When each division was first reached, on each channel, for the timeline. A hand-down
    /// does not reach anybody by itself: its division is replaced by the lower node's own
    /// divisions when that node answers with some, and counts as not reached otherwise (it
    /// cannot be asked, or has not sent the warning on).
    func reaches(warningID id: Warning.ID) async throws -> [WarningTimeline.Reach] {
        let lower = try await downstream?.fetch(warningID: id, depth: .county, store: store) ?? []
        return try await reaches(warningID: id, lower: lower)
    }

    private func reaches(warningID id: Warning.ID, lower: [DownstreamReports.Fetched]) async throws -> [WarningTimeline.Reach] {
        let own = try await store.reaches(warningID: id)
        guard let cascade = downstream?.channels, !cascade.isEmpty else { return own }
        let answered = lower.filter { $0.answer.report?.reaches?.isEmpty == false }
        let replaced = Set(answered.map(\.handDown.region))
        var reaches: [WarningTimeline.Reach] = []
        for reach in own {
            guard cascade.contains(reach.channel) else {
                reaches.append(reach)
                continue
            }
            if !replaced.contains(reach.division) {
                reaches.append(WarningTimeline.Reach(channel: reach.channel, division: reach.division, firstDelivered: nil))
            }
        }
        for fetched in answered {
            guard let division = RegionCode(fetched.handDown.region) else { continue }
            reaches += RollupMerge.served(by: division, fetched.answer.report?.reaches ?? []) { RegionCode($0.division) }
        }
        return reaches
    }
}

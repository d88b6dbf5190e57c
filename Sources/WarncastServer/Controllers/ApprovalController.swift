import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOFoundationEssentialsCompat
import WarncastCore
import WarncastStore

/// Approving and rejecting warnings, and the queue of warnings awaiting a decision.
struct ApprovalController {
    let store: any Store
    let releases: ReleaseAnnouncer
    let now: @Sendable () -> Date
    /// Which channels a warning released by a decision is planned on.
    let routing: DeliveryRouting

    func register<Methods: RouterMethods>(on registrar: RouteRegistrar<Methods>)
    where Methods.Context == WarncastRequestContext {
        registrar.on(.post, "/warnings/{id}/approve", use: approve)
        registrar.on(.post, "/warnings/{id}/reject", use: reject)
        registrar.on(.get, "/approvals/pending", use: pending)
    }

    /// The answer to a decision.
    struct DecisionResponse: ResponseEncodable {
        var id: Warning.ID
        var status: WarningStatus
        /// `recorded`, `released`, `reviewed` or `rejected`.
        var outcome: String
        var approval: ApprovalState?
        var replaced: [String]
    }

    struct RejectRequest: Decodable {
        var reason: String?
    }

    @Sendable func approve(_ request: Request, context: WarncastRequestContext) async throws -> DecisionResponse {
        try await decide(.approve, reason: nil, context: context)
    }

    @Sendable func reject(_ request: Request, context: WarncastRequestContext) async throws -> DecisionResponse {
        let body = try await request.body.collect(upTo: 64 * 1024)
        var reason: String?
        if body.readableBytes > 0 {
            reason = try JSONBody.decode(RejectRequest.self, from: body, expected: #"send {"reason": "…"} as JSON"#).reason
        }
        return try await decide(.reject, reason: reason, context: context)
    }

    private func decide(_ decision: Approval.Decision, reason: String?, context: WarncastRequestContext) async throws -> DecisionResponse {
        let principal = try context.requirePrincipal()
        let id = Warning.ID(rawValue: try context.parameters.require("id"))
        _ = try await store.warning(id: id, visibleTo: principal)
        let decided: Decided
        do {
            decided = try await store.decide(warningID: id, decision, by: principal, reason: reason, at: now(), routing: routing)
        } catch let error as ApprovalError {
            throw APIError(error)
        }
        if decided.outcome == .released {
            await releases.announce(decided.warning)
        }
        context.logger.info(
            "approval decision",
            metadata: [
                "warning": .string(id.rawValue), "decision": .string(decision.rawValue), "outcome": .string("\(decided.outcome)"),
            ])
        return DecisionResponse(
            id: id, status: decided.warning.status, outcome: "\(decided.outcome)", approval: decided.warning.approval,
            replaced: decided.replaced)
    }

    struct PendingList: ResponseEncodable {
        var pending: [Pending]
        var count: Int
    }

    /// A warning awaiting a decision, with the terminals of its area as they are now: the
    /// approver sees which villages would not hear it before letting it go.
    struct Pending: Encodable {
        var warning: Warning
        var terminals: TerminalSummary?

        enum CodingKeys: String, CodingKey { case terminals }

        func encode(to encoder: any Encoder) throws {
            try warning.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encodeIfPresent(terminals, forKey: .terminals)
        }
    }

    @Sendable func pending(_ request: Request, context: WarncastRequestContext) async throws -> PendingList {
        let principal = try context.requireReader()
        let warnings = try await store.warnings(WarningQuery(awaitingOnly: true, visibleTo: principal.scope, limit: 1000))
        var pending: [Pending] = []
        // Warnings awaiting approval often share their areas (a province's, a county's): each
        // set of areas is counted once per request (a province of a million recipients takes
        // a tenth of a second or more).
        var counted: [Set<RegionCode>: TerminalSummary] = [:]
        let at = now()
        for warning in warnings {
            var terminals: TerminalSummary?
            if !routing.terminals.channels.isEmpty {
                let areas = Set(warning.areas)
                if let known = counted[areas] {
                    terminals = known
                } else {
                    terminals = try await store.terminalSummary(routing.terminals, areas: warning.areas, villages: true, at: at)
                    counted[areas] = terminals
                }
            }
            pending.append(Pending(warning: warning, terminals: terminals))
        }
        return PendingList(pending: pending, count: warnings.count)
    }
}

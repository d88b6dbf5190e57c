import Crypto
import Foundation

/// The checks a submission passes before it touches the store: CAP validity, the level,
/// the event catalogue, the department's right to issue that event, and its jurisdiction.
public struct IntakeCheck: Sendable {
    public var catalogue: EventCatalogue
    /// `<geocode>` value names that carry a division code.
    public static let geocodeNames: Set<String> = ["gb/t 2260", "gb2260", "division", "adcode"]
    static let capStatuses = Set(CAPConformance.statuses)
    static let capScopes = Set(CAPConformance.scopes)

    /// The node's language: of the blocks the catalogue recognises, the warning's headline
    /// and times are read from the one in this language.
    public var language: String

    public init(catalogue: EventCatalogue, language: String = "zh-CN") {
        self.catalogue = catalogue
        self.language = language
    }

    /// Validates `alert` as a submission by `principal` and returns its normalised form.
    public func check(
        _ alert: CAPAlert, raw: Data, format: CAPFormat, principal: Principal, now: Date
    ) throws(IntakeError) -> WarningDraft {
        guard principal.role == .issuer, let department = principal.department else {
            throw .notAnIssuer("only an issuer token of a department may submit warnings")
        }
        try checkEnvelope(alert)
        guard let messageType = MessageType(rawValue: alert.msgType) else {
            throw .unsupportedMessageType(alert.msgType)
        }
        let sent = try time(alert.sent, field: "sent")
        let references = try self.references(of: alert, type: messageType)
        guard let first = alert.info.first else { throw .missingField("info") }
        // The warning is read from a block whose event the catalogue knows, wherever it
        // stands (a translation may name the event in its own language): the one in the
        // node's language if that is one of them, else the first.
        let known = alert.info.indices.filter { catalogue.recognise(alert.info[$0]) != nil }
        let preferred = alert.infoIndex(for: nil, fallback: language)
        guard let primary = known.contains(preferred) ? preferred : known.first,
            let recognised = catalogue.recognise(alert.info[primary])
        else { throw .unknownEventType(first.event) }
        let event = recognised.event
        let info = alert.info[primary]
        let level = try self.level(of: info, named: recognised.level)
        guard department.mayIssue(event: event.code) else {
            throw .eventNotAllowed(event: event.code, department: department.id)
        }
        guard department.maySend(as: alert.sender) else {
            throw .senderNotAllowed(sender: alert.sender, department: department.id)
        }
        try checkTranslations(alert.info, primary: primary, event: event, level: level, department: department)
        let areas = try self.areas(of: alert.info, department: department)
        let effective = try info.effective.map { (text) throws(IntakeError) in try time(text, field: "effective") } ?? sent
        let onset = try info.onset.map { (text) throws(IntakeError) in try time(text, field: "onset") }
        let expires = try info.expires.map { (text) throws(IntakeError) in try time(text, field: "expires") }
        if let expires {
            guard expires > effective else { throw .expiresBeforeEffective }
            guard expires > now else { throw .alreadyExpired(info.expires ?? "") }
        }
        return WarningDraft(
            identifier: alert.identifier, sender: alert.sender, sent: sent, messageType: messageType,
            capStatus: alert.status, level: level, event: event.code, headline: info.headline,
            areas: areas, references: references, effective: effective, onset: onset,
            expires: expires, departmentID: department.id, alert: alert, raw: raw, format: format,
            fingerprint: Self.fingerprint(of: alert))
    }

    private func checkEnvelope(_ alert: CAPAlert) throws(IntakeError) {
        // Any white space, not only the space: `references` are split on white space, so an
        // identifier or sender with a tab or a line break could never be referenced, and its
        // warning never updated or lifted before it expires.
        let forbidden = CharacterSet(charactersIn: ",<&").union(.whitespacesAndNewlines)
        for (field, value) in [("identifier", alert.identifier), ("sender", alert.sender)] {
            guard value.rangeOfCharacter(from: forbidden) == nil else {
                throw .invalidField(field, reason: "must not contain white space, commas, '<' or '&'")
            }
        }
        guard Self.capStatuses.contains(alert.status) else {
            throw .invalidField("status", reason: "must be one of Actual, Exercise, System, Test, Draft")
        }
        guard Self.capScopes.contains(alert.scope) else {
            throw .invalidField("scope", reason: "must be one of Public, Restricted, Private")
        }
    }

    /// Every other block is authorised like the primary one and says the same: the same
    /// catalogue event and the same level. A block whose event the catalogue does not know
    /// (named in its own language) is a translation only if it carries the primary block's
    /// `<eventCode>`s.
    private func checkTranslations(
        _ infos: [CAPInfo], primary: Int, event: EventType, level: Level, department: Department
    ) throws(IntakeError) {
        for (index, info) in infos.enumerated() where index != primary {
            let recognised = catalogue.recognise(info)
            guard let other = recognised?.event ?? translated(info, of: infos[primary], event: event) else {
                throw .invalidInfoBlock(
                    index: index,
                    reason:
                        "event '\(info.event)' is not in the event catalogue, and the block does not carry the eventCode of info[\(primary)]"
                )
            }
            guard department.mayIssue(event: other.code) else {
                throw .invalidInfoBlock(index: index, reason: "department '\(department.id)' may not issue '\(other.code)' warnings")
            }
            guard other.code == event.code else {
                throw .invalidInfoBlock(index: index, reason: "event '\(other.code)' differs from info[\(primary)]'s '\(event.code)'")
            }
            let otherLevel: Level
            do {
                otherLevel = try self.level(of: info, named: recognised?.level)
            } catch {
                throw .invalidInfoBlock(index: index, reason: error.detail)
            }
            guard otherLevel == level else {
                throw .invalidInfoBlock(
                    index: index, reason: "level \(otherLevel.rawValue) differs from info[\(primary)]'s \(level.rawValue)")
            }
        }
    }

    /// `event` when `info` carries every `<eventCode>` of `primary` (and `primary` has one).
    private func translated(_ info: CAPInfo, of primary: CAPInfo, event: EventType) -> EventType? {
        guard !primary.eventCode.isEmpty, primary.eventCode.allSatisfy({ info.eventCode.contains($0) }) else { return nil }
        return event
    }

    private func references(of alert: CAPAlert, type: MessageType) throws(IntakeError) -> [MessageReference] {
        guard let text = alert.references else {
            if type == .alert { return [] }
            throw .referencesMissing(type.rawValue)
        }
        guard let list = MessageReference.parseList(text) else {
            throw .invalidField("references", reason: "must be space-separated sender,identifier,sent triples")
        }
        return list
    }

    /// The level from the `level` parameter, the colour in the event's name (`named`) or the
    /// severity; every one that is there must agree.
    private func level(of info: CAPInfo, named: Level?) throws(IntakeError) -> Level {
        let level = try parameterOrSeverityLevel(of: info, named: named)
        if let named, named != level {
            throw .invalidField("info.event", reason: "'\(info.event)' says \(named.rawValue), but the level is \(level.rawValue)")
        }
        return level
    }

    private func parameterOrSeverityLevel(of info: CAPInfo, named: Level?) throws(IntakeError) -> Level {
        guard let severity = Severity(rawValue: info.severity) else {
            throw .invalidField("info.severity", reason: "must be Extreme, Severe, Moderate, Minor or Unknown")
        }
        if info.parameter(named: "level") == nil, let named {
            guard severity == .unknown || severity == named.severity else {
                throw .levelMismatch(level: named.rawValue, severity: severity.rawValue)
            }
            return named
        }
        if let text = info.parameter(named: "level") {
            guard let level = Level(rawValue: text.lowercased()) else {
                throw .invalidField("info.parameter level", reason: "must be blue, yellow, orange or red")
            }
            guard severity == .unknown || severity == level.severity else {
                throw .levelMismatch(level: level.rawValue, severity: severity.rawValue)
            }
            return level
        }
        guard let level = Level(severity: severity) else { throw .levelMissing }
        return level
    }

    private func areas(of infos: [CAPInfo], department: Department) throws(IntakeError) -> [RegionCode] {
        var codes: [RegionCode] = []
        // Seen codes in a set: a message listing thousands of villages costs their number of
        // steps, not its square.
        var seen: Set<RegionCode> = []
        let located = infos.enumerated().flatMap { i, info in info.area.enumerated().map { ("info[\(i)].area[\($0)]", $1) } }
        for (path, area) in located {
            guard area.geocode.contains(where: { Self.geocodeNames.contains($0.valueName.lowercased()) }) else {
                throw .areaNeedsGeocode(path: path, areaDesc: area.areaDesc)
            }
            for geocode in area.geocode where Self.geocodeNames.contains(geocode.valueName.lowercased()) {
                guard let code = RegionCode(geocode.value) else { throw .invalidRegionCode(geocode.value) }
                guard department.mayWarn(code) else {
                    throw .areaOutsideJurisdiction(
                        area: code.rawValue, department: department.id, region: department.region.rawValue)
                }
                if seen.insert(code).inserted { codes.append(code) }
            }
        }
        guard !codes.isEmpty else { throw .areaMissing }
        return codes
    }

    private func time(_ text: String, field: String) throws(IntakeError) -> Date {
        guard let date = CAPTime.parse(text) else { throw .invalidTime(field: field, value: text) }
        return date
    }

    /// A stable digest of the message content, independent of the format it arrived in.
    public static func fingerprint(of alert: CAPAlert) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(alert)) ?? Data()
        return SHA256.hash(data: data).hexString
    }
}

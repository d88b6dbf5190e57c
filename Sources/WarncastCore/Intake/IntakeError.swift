import Foundation

/// Why a submitted warning was refused. Each case has a stable machine-readable `code`
/// (the `error` field of the HTTP response) and a human `detail`.
public enum IntakeError: Error, Sendable, Equatable {
    case bodyTooLarge(limit: Int)
    case unsupportedMediaType(String)
    case malformedXML(String)
    /// DOCTYPE, ENTITY and other markup declarations are never accepted.
    case xmlDeclarationForbidden(String)
    case xmlTooComplex(String)
    /// Processing instructions (`<?target …?>`) other than the XML declaration.
    case xmlProcessingInstruction(String)
    /// Only UTF-8 documents are read.
    case unsupportedEncoding(String)
    case malformedJSON(String)
    /// A control character XML 1.0 cannot carry (U+0000 to U+001F but tab, LF and CR).
    case controlCharacter(UInt32)
    case notCAP12(String)
    case missingField(String)
    case invalidField(String, reason: String)
    case invalidTime(field: String, value: String)
    case unsupportedMessageType(String)
    case levelMissing
    case levelMismatch(level: String, severity: String)
    case unknownEventType(String)
    case eventNotAllowed(event: String, department: String)
    /// The CAP sender is not one of the department's.
    case senderNotAllowed(sender: String, department: String)
    /// An `<info>` block after the first disagrees with it or is not allowed (blocks are
    /// translations of one warning).
    case invalidInfoBlock(index: Int, reason: String)
    case areaMissing
    /// An `<area>` located only by `<polygon>`, `<circle>` or a geocode that is not a
    /// division code: Warncast cannot tell which divisions it covers.
    case areaNeedsGeocode(path: String, areaDesc: String)
    case invalidRegionCode(String)
    case unknownRegion([String])
    case areaOutsideJurisdiction(area: String, department: String, region: String)
    case expiresBeforeEffective
    case alreadyExpired(String)
    case referencesMissing(String)
    case unknownReference(String)
    case referenceNotOwned(String)
    case identifierConflict(String)
    case notAnIssuer(String)
    /// No approval rule matches; the configuration must cover this case.
    case noApprovalRule(String)

    public var code: String {
        switch self {
        case .bodyTooLarge: "body_too_large"
        case .unsupportedMediaType: "unsupported_media_type"
        case .malformedXML: "malformed_xml"
        case .xmlDeclarationForbidden: "xml_doctype_forbidden"
        case .xmlTooComplex: "xml_too_complex"
        case .xmlProcessingInstruction: "xml_processing_instruction"
        case .unsupportedEncoding: "unsupported_encoding"
        case .malformedJSON: "malformed_json"
        case .controlCharacter: "control_character"
        case .notCAP12: "not_cap_1_2"
        case .missingField: "missing_field"
        case .invalidField: "invalid_field"
        case .invalidTime: "invalid_time"
        case .unsupportedMessageType: "unsupported_msg_type"
        case .levelMissing: "level_missing"
        case .levelMismatch: "level_severity_mismatch"
        case .unknownEventType: "unknown_event_type"
        case .senderNotAllowed: "sender_not_allowed"
        case .invalidInfoBlock: "info_block_invalid"
        case .eventNotAllowed: "event_not_allowed"
        case .areaMissing: "area_missing"
        case .areaNeedsGeocode: "area_needs_geocode"
        case .invalidRegionCode: "invalid_region_code"
        case .unknownRegion: "unknown_region"
        case .areaOutsideJurisdiction: "area_outside_jurisdiction"
        case .expiresBeforeEffective: "expires_before_effective"
        case .alreadyExpired: "already_expired"
        case .referencesMissing: "references_missing"
        case .unknownReference: "unknown_reference"
        case .referenceNotOwned: "reference_not_owned"
        case .identifierConflict: "identifier_conflict"
        case .notAnIssuer: "not_an_issuer"
        case .noApprovalRule: "no_approval_rule"
        }
    }

    public var detail: String {
        switch self {
        case .bodyTooLarge(let limit): "the body is larger than the limit of \(limit) bytes"
        case .unsupportedMediaType(let type):
            "content type '\(type)' is not accepted; send application/cap+xml, application/xml or application/json"
        case .malformedXML(let reason): "the XML cannot be parsed: \(reason)"
        case .xmlDeclarationForbidden(let what):
            "\(what) found: document type and entity declarations are refused, never resolved"
        case .xmlProcessingInstruction(let what):
            "\(what) found: processing instructions are refused; only the XML declaration may open the document"
        case .xmlTooComplex(let reason): "the XML is nested too deeply or is too large: \(reason)"
        case .unsupportedEncoding(let what): "only UTF-8 documents are accepted; this one has \(what)"
        case .malformedJSON(let reason): "the JSON cannot be read: \(reason)"
        case .controlCharacter(let value):
            value > 0xFFFD
                ? "the text contains U+\(String(format: "%04X", value)), which XML cannot carry"
                : "the text contains the control character U+\(String(format: "%04X", value)); only tab, line feed and carriage return are allowed"
        case .notCAP12(let reason): "not a CAP 1.2 alert: \(reason)"
        case .missingField(let field): "required CAP field '\(field)' is missing"
        case .invalidField(let field, let reason): "field '\(field)' \(reason)"
        case .invalidTime(let field, let value):
            "\(field) '\(value)' is not a CAP time with an explicit UTC offset, e.g. 2026-07-01T08:00:00+08:00"
        case .unsupportedMessageType(let type):
            "msgType '\(type)' is not accepted; use Alert, Update or Cancel"
        case .levelMissing:
            "no warning level: add a parameter 'level' (blue, yellow, orange, red) or a known severity"
        case .levelMismatch(let level, let severity):
            "level '\(level)' does not match severity '\(severity)'"
        case .unknownEventType(let event): "event '\(event)' is not in the event catalogue"
        case .eventNotAllowed(let event, let department):
            "department '\(department)' may not issue '\(event)' warnings"
        case .senderNotAllowed(let sender, let department):
            "sender '\(sender)' is not one of department '\(department)''s sender addresses (the department registry's senders)"
        case .invalidInfoBlock(let index, let reason):
            "info[\(index)] (block \(index + 1)): \(reason); the blocks of one message are translations of one warning"
        case .areaMissing: "no area carries a division code in <geocode>"
        case .areaNeedsGeocode(let path, let areaDesc):
            "\(path) ('\(areaDesc)') has no division code: a polygon or circle alone cannot be resolved to the divisions whose recipients it reaches; add a <geocode> with valueName 'GB/T 2260' and the code of each division it covers"
        case .invalidRegionCode(let code): "'\(code)' is not a division code (6, 9 or 12 digits)"
        case .unknownRegion(let codes): "unknown region(s): \(codes.joined(separator: ", "))"
        case .areaOutsideJurisdiction(let area, let department, let region):
            "area \(area) lies outside region \(region) of department '\(department)'"
        case .expiresBeforeEffective: "expires is not later than effective (or sent)"
        case .alreadyExpired(let expires): "expires \(expires) is already past"
        case .referencesMissing(let type): "a \(type) message must name the message it replaces in 'references'"
        case .unknownReference(let reference): "referenced message '\(reference)' is not known here"
        case .referenceNotOwned(let reference):
            "referenced message '\(reference)' was issued by another department"
        case .identifierConflict(let identifier):
            "identifier '\(identifier)' was already accepted from this sender with different content"
        case .notAnIssuer(let reason): reason
        case .noApprovalRule(let subject):
            "no approval rule matches \(subject); the release centre must add one before this can be accepted"
        }
    }
}

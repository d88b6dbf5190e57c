import Foundation

/// What the OASIS CAP 1.2 schema requires beyond the fields a reader picks out: elements in
/// the schema's order, no element the schema does not define, single elements not repeated,
/// every enumeration, language tags and the date-time pattern. A message that passes is
/// written out (`CAPWriter`) as schema-valid CAP, so nothing Warncast sends on is invalid.
/// Errors name the element by its path, e.g. `info[0].urgency`.
public enum CAPConformance {
    /// Children of each element in schema order; the ones that may repeat are marked.
    static let alert = Sequence([
        "identifier", "sender", "sent", "status", "msgType", "source", "scope", "restriction", "addresses", "code*",
        "note", "references", "incidents", "info*",
    ])
    static let info = Sequence([
        "language", "category*", "event", "responseType*", "urgency", "severity", "certainty", "audience", "eventCode*",
        "effective", "onset", "expires", "senderName", "headline", "description", "instruction", "web", "contact",
        "parameter*", "resource*", "area*",
    ])
    static let resource = Sequence(["resourceDesc", "mimeType", "size", "uri", "derefUri", "digest"])
    static let area = Sequence(["areaDesc", "polygon*", "circle*", "geocode*", "altitude", "ceiling"])
    static let pair = Sequence(["valueName", "value"])

    /// XML signatures may follow the alert's own elements (the schema's `any` in the
    /// xmldsig namespace).
    static let signatureNamespace = "http://www.w3.org/2000/09/xmldsig#"

    public static let statuses = ["Actual", "Exercise", "System", "Test", "Draft"]
    public static let messageTypes = ["Alert", "Update", "Cancel", "Ack", "Error"]
    public static let scopes = ["Public", "Restricted", "Private"]
    public static let categories = [
        "Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env", "Transport", "Infra", "CBRNE", "Other",
    ]
    public static let responseTypes = [
        "Shelter", "Evacuate", "Prepare", "Execute", "Avoid", "Monitor", "Assess", "AllClear", "None",
    ]
    public static let urgencies = ["Immediate", "Expected", "Future", "Past", "Unknown"]
    public static let severities = ["Extreme", "Severe", "Moderate", "Minor", "Unknown"]
    public static let certainties = ["Observed", "Likely", "Possible", "Unlikely", "Unknown"]

    struct Sequence {
        let names: [String]
        let repeating: Set<String>

        init(_ spelled: [String]) {
            names = spelled.map { $0.hasSuffix("*") ? String($0.dropLast()) : $0 }
            repeating = Set(spelled.filter { $0.hasSuffix("*") }.map { String($0.dropLast()) })
        }
    }

    /// Checks the order and names of the elements of a parsed `<alert>`.
    static func checkStructure(of root: XMLNode) throws(IntakeError) {
        try check(root, alert, path: "", allowingSignature: true)
        for (index, info) in root.all("info").enumerated() {
            let path = "info[\(index)]"
            try check(info, self.info, path: path)
            for name in ["eventCode", "parameter"] {
                for (n, child) in info.all(name).enumerated() { try check(child, pair, path: "\(path).\(name)[\(n)]") }
            }
            for (n, child) in info.all("resource").enumerated() { try check(child, resource, path: "\(path).resource[\(n)]") }
            for (n, child) in info.all("area").enumerated() {
                try check(child, area, path: "\(path).area[\(n)]")
                for (g, geocode) in child.all("geocode").enumerated() {
                    try check(geocode, pair, path: "\(path).area[\(n)].geocode[\(g)]")
                }
            }
        }
    }

    private static func check(_ node: XMLNode, _ sequence: Sequence, path: String, allowingSignature: Bool = false) throws(IntakeError) {
        var position = 0
        var previous: String?
        var signatureSeen = false
        for child in node.children {
            let location = path.isEmpty ? child.name : "\(path).\(child.name)"
            // Only the enveloped <Signature> itself: any other element of that namespace would
            // be read by its local name as a CAP field (a <ds:info> as an extra block).
            if allowingSignature && child.namespace == signatureNamespace && child.name == "Signature" {
                signatureSeen = true
                continue
            }
            guard child.namespace == CAPReader.namespace, let index = sequence.names.firstIndex(of: child.name) else {
                throw .invalidField(location, reason: "is not an element CAP 1.2 defines here")
            }
            if signatureSeen {
                throw .invalidField(location, reason: "comes after the <Signature>, which must be last")
            }
            if index < position {
                throw .invalidField(location, reason: "is out of order: CAP 1.2 puts it before <\(previous ?? "")>")
            }
            if index == position, previous == child.name, !sequence.repeating.contains(child.name) {
                throw .invalidField(location, reason: "appears more than once")
            }
            position = index
            previous = child.name
        }
    }

    /// Enumerations, language tags, times and the fields CAP requires, for a message read
    /// from XML or JSON.
    public static func checkValues(of alert: CAPAlert) throws(IntakeError) {
        try oneOf(alert.status, statuses, "status")
        try oneOf(alert.msgType, messageTypes, "msgType")
        try oneOf(alert.scope, scopes, "scope")
        try time(alert.sent, "sent")
        if alert.scope == "Restricted" && alert.restriction == nil {
            throw .invalidField("restriction", reason: "is required when scope is Restricted")
        }
        if alert.scope == "Private" && alert.addresses == nil {
            throw .invalidField("addresses", reason: "is required when scope is Private")
        }
        for (index, info) in alert.info.enumerated() {
            let path = "info[\(index)]"
            if let language = info.language, !isLanguageTag(language) {
                throw .invalidField(
                    "\(path).language", reason: "'\(language)' is not a language tag (RFC 3066 / BCP 47), e.g. zh-CN, mn-Mong, en")
            }
            guard !info.category.isEmpty else { throw .missingField("\(path).category") }
            for category in info.category { try oneOf(category, categories, "\(path).category") }
            for type in info.responseType { try oneOf(type, responseTypes, "\(path).responseType") }
            try oneOf(info.urgency, urgencies, "\(path).urgency")
            try oneOf(info.severity, severities, "\(path).severity")
            try oneOf(info.certainty, certainties, "\(path).certainty")
            for (field, value) in [("effective", info.effective), ("onset", info.onset), ("expires", info.expires)] {
                if let value { try time(value, "\(path).\(field)") }
            }
            for (n, resource) in (info.resource ?? []).enumerated() {
                if let size = resource.size, !size.allSatisfy({ $0.isASCII && $0.isNumber }) || size.isEmpty {
                    throw .invalidField("\(path).resource[\(n)].size", reason: "must be a whole number of bytes")
                }
            }
            for (n, area) in info.area.enumerated() {
                for (field, value) in [("altitude", area.altitude), ("ceiling", area.ceiling)] {
                    if let value, !isDecimal(value) {
                        throw .invalidField("\(path).area[\(n)].\(field)", reason: "must be a decimal number")
                    }
                }
            }
        }
    }

    private static func oneOf(_ value: String, _ allowed: [String], _ path: String) throws(IntakeError) {
        guard allowed.contains(value) else {
            throw .invalidField(path, reason: "'\(value)' is not one of \(allowed.joined(separator: ", "))")
        }
    }

    /// CAP's date-time: `YYYY-MM-DDThh:mm:ss` and an explicit offset, no fraction, no `Z`.
    private static func time(_ value: String, _ path: String) throws(IntakeError) {
        let bytes = Array(value.utf8)
        let shape = "dddd-dd-ddTdd:dd:dd+dd:dd"
        let matches =
            bytes.count == shape.utf8.count
            && zip(bytes, shape.utf8).allSatisfy { byte, expected in
                switch expected {
                case UInt8(ascii: "d"): byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
                case UInt8(ascii: "+"): byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-")
                default: byte == expected
                }
            }
        guard matches, CAPTime.parse(value) != nil else { throw .invalidTime(field: path, value: value) }
    }

    /// `xs:decimal`: an optional sign, digits, and at most one decimal point with a digit on
    /// one side of it at least (`12`, `-0.5`, `.5`, `3.`); no exponent, no hexadecimal.
    static func isDecimal(_ text: String) -> Bool {
        var digits = Substring(text)
        if digits.first == "+" || digits.first == "-" { digits = digits.dropFirst() }
        let parts = digits.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let allDigits = parts.allSatisfy { $0.allSatisfy { $0.isASCII && $0.isNumber } }
        return allDigits && parts.contains { !$0.isEmpty } && parts.count <= 2 && !digits.contains("..")
    }

    /// `xs:language`: letters, then hyphen-separated parts of letters and digits, 1 to 8 each.
    public static func isLanguageTag(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard let first = parts.first, (1...8).contains(first.count), first.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            return false
        }
        return parts.dropFirst().allSatisfy { part in
            (1...8).contains(part.count) && part.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
        }
    }
}

import Foundation

/// The message formats accepted at intake.
public enum CAPFormat: String, Sendable, Codable {
    case xml
    case json

    /// The format for an HTTP `Content-Type`, ignoring parameters such as `charset`.
    public init(contentType: String) throws(IntakeError) {
        let base =
            contentType.split(separator: ";").first.map {
                $0.trimmingCharacters(in: .whitespaces).lowercased()
            } ?? ""
        switch base {
        case "application/cap+xml", "application/xml", "text/xml": self = .xml
        case "application/json": self = .json
        default: throw .unsupportedMediaType(contentType)
        }
    }
}

/// Turns the bytes of a submission into a `CAPAlert`, refusing anything malformed or hostile.
public enum CAPReader {
    public static let namespace = "urn:oasis:names:tc:emergency:cap:1.2"

    public static func read(_ data: Data, format: CAPFormat) throws(IntakeError) -> CAPAlert {
        switch format {
        case .xml: try readXML(data)
        case .json: try readJSON(data)
        }
    }

    public static func readJSON(_ data: Data) throws(IntakeError) -> CAPAlert {
        // What XML 1.0 cannot carry is refused here, so every CAP sent on is well-formed.
        if let control = ControlCharacters.firstEscaped(inJSON: data) { throw .controlCharacter(control) }
        do {
            let alert = try JSONDecoder().decode(CAPAlert.self, from: data)
            try CAPConformance.checkValues(of: alert)
            return alert
        } catch let error as IntakeError {
            throw error
        } catch let DecodingError.keyNotFound(key, context) {
            throw .missingField(path(context.codingPath + [key]))
        } catch let DecodingError.typeMismatch(_, context) {
            throw .invalidField(path(context.codingPath), reason: "has the wrong type")
        } catch let DecodingError.valueNotFound(_, context) {
            throw .missingField(path(context.codingPath))
        } catch {
            throw .malformedJSON("not valid JSON")
        }
    }

    public static func readXML(_ data: Data) throws(IntakeError) -> CAPAlert {
        let root: XMLNode
        do {
            root = try SafeXMLParser().parse(data)
        } catch {
            switch error {
            case .declarationForbidden(let what): throw .xmlDeclarationForbidden(what)
            case .malformed(let reason): throw .malformedXML(reason)
            case .tooComplex(let reason): throw .xmlTooComplex(reason)
            case .unsupportedEncoding(let what): throw .unsupportedEncoding(what)
            case .processingInstruction(let what): throw .xmlProcessingInstruction(what)
            case .controlCharacter(let value): throw .controlCharacter(value)
            }
        }
        guard root.name == "alert" else { throw .notCAP12("the root element is <\(root.name)>, not <alert>") }
        guard root.namespace == namespace else {
            throw .notCAP12("the alert's namespace is '\(root.namespace ?? "")', expected '\(namespace)'")
        }
        try CAPConformance.checkStructure(of: root)
        let alert = try alert(from: root)
        try CAPConformance.checkValues(of: alert)
        return alert
    }

    private static func alert(from node: XMLNode) throws(IntakeError) -> CAPAlert {
        CAPAlert(
            identifier: try required(node, "identifier"),
            sender: try required(node, "sender"),
            sent: try required(node, "sent"),
            status: try required(node, "status"),
            msgType: try required(node, "msgType"),
            source: node.value("source"),
            scope: try required(node, "scope"),
            restriction: node.value("restriction"),
            addresses: node.value("addresses"),
            code: node.values("code"),
            note: node.value("note"),
            references: node.value("references"),
            incidents: node.value("incidents"),
            info: try node.all("info").map { (info) throws(IntakeError) in try self.info(from: info) }
        )
    }

    private static func info(from node: XMLNode) throws(IntakeError) -> CAPInfo {
        CAPInfo(
            language: node.value("language"),
            category: node.values("category"),
            event: try required(node, "event", in: "info"),
            responseType: node.values("responseType"),
            urgency: try required(node, "urgency", in: "info"),
            severity: try required(node, "severity", in: "info"),
            certainty: try required(node, "certainty", in: "info"),
            audience: node.value("audience"),
            eventCode: try pairs(node, "eventCode"),
            effective: node.value("effective"),
            onset: node.value("onset"),
            expires: node.value("expires"),
            senderName: node.value("senderName"),
            headline: node.value("headline"),
            description: node.value("description"),
            instruction: node.value("instruction"),
            web: node.value("web"),
            contact: node.value("contact"),
            parameter: try pairs(node, "parameter"),
            resource: try node.all("resource").map { (resource) throws(IntakeError) in
                CAPResource(
                    resourceDesc: try required(resource, "resourceDesc", in: "info.resource"),
                    mimeType: try required(resource, "mimeType", in: "info.resource"),
                    size: resource.value("size"), uri: resource.value("uri"), derefUri: resource.value("derefUri"),
                    digest: resource.value("digest"))
            },
            area: try node.all("area").map { (area) throws(IntakeError) in
                CAPArea(
                    areaDesc: try required(area, "areaDesc", in: "info.area"),
                    polygon: area.values("polygon"),
                    circle: area.values("circle"),
                    geocode: try pairs(area, "geocode"),
                    altitude: area.value("altitude"),
                    ceiling: area.value("ceiling"))
            }
        )
    }

    private static func pairs(_ node: XMLNode, _ name: String) throws(IntakeError) -> [CAPValue] {
        try node.all(name).map { (pair) throws(IntakeError) in
            CAPValue(
                valueName: try required(pair, "valueName", in: name),
                value: pair.value("value") ?? "")
        }
    }

    private static func required(_ node: XMLNode, _ name: String, in parent: String? = nil) throws(IntakeError) -> String {
        guard let value = node.value(name) else {
            throw .missingField(parent.map { "\($0).\(name)" } ?? name)
        }
        return value
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            .joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
    }
}

import Foundation

/// Writes a `CAPAlert` as CAP 1.2 XML, elements in the order the schema requires. Every
/// machine-to-machine channel gets this form, whichever format the warning arrived in.
public enum CAPWriter {
    public static func xml(_ alert: CAPAlert) -> Data {
        var out = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
        out += "<alert xmlns=\"\(CAPReader.namespace)\">\n"
        element(&out, 1, "identifier", alert.identifier)
        element(&out, 1, "sender", alert.sender)
        element(&out, 1, "sent", alert.sent)
        element(&out, 1, "status", alert.status)
        element(&out, 1, "msgType", alert.msgType)
        element(&out, 1, "source", alert.source)
        element(&out, 1, "scope", alert.scope)
        element(&out, 1, "restriction", alert.restriction)
        element(&out, 1, "addresses", alert.addresses)
        for code in alert.code { element(&out, 1, "code", code) }
        element(&out, 1, "note", alert.note)
        element(&out, 1, "references", alert.references)
        element(&out, 1, "incidents", alert.incidents)
        for info in alert.info { write(info, to: &out) }
        out += "</alert>\n"
        return Data(out.utf8)
    }

    private static func write(_ info: CAPInfo, to out: inout String) {
        out += "  <info>\n"
        element(&out, 2, "language", info.language)
        for category in info.category { element(&out, 2, "category", category) }
        element(&out, 2, "event", info.event)
        for type in info.responseType { element(&out, 2, "responseType", type) }
        element(&out, 2, "urgency", info.urgency)
        element(&out, 2, "severity", info.severity)
        element(&out, 2, "certainty", info.certainty)
        element(&out, 2, "audience", info.audience)
        for code in info.eventCode { pair(&out, 2, "eventCode", code) }
        element(&out, 2, "effective", info.effective)
        element(&out, 2, "onset", info.onset)
        element(&out, 2, "expires", info.expires)
        element(&out, 2, "senderName", info.senderName)
        element(&out, 2, "headline", info.headline)
        element(&out, 2, "description", info.description)
        element(&out, 2, "instruction", info.instruction)
        element(&out, 2, "web", info.web)
        element(&out, 2, "contact", info.contact)
        for parameter in info.parameter { pair(&out, 2, "parameter", parameter) }
        for resource in info.resource ?? [] {
            out += "    <resource>\n"
            element(&out, 3, "resourceDesc", resource.resourceDesc)
            element(&out, 3, "mimeType", resource.mimeType)
            element(&out, 3, "size", resource.size)
            element(&out, 3, "uri", resource.uri)
            element(&out, 3, "derefUri", resource.derefUri)
            element(&out, 3, "digest", resource.digest)
            out += "    </resource>\n"
        }
        for area in info.area {
            out += "    <area>\n"
            element(&out, 3, "areaDesc", area.areaDesc)
            for polygon in area.polygon { element(&out, 3, "polygon", polygon) }
            for circle in area.circle { element(&out, 3, "circle", circle) }
            for geocode in area.geocode { pair(&out, 3, "geocode", geocode) }
            element(&out, 3, "altitude", area.altitude)
            element(&out, 3, "ceiling", area.ceiling)
            out += "    </area>\n"
        }
        out += "  </info>\n"
    }

    private static func pair(_ out: inout String, _ depth: Int, _ name: String, _ value: CAPValue) {
        let indent = String(repeating: "  ", count: depth)
        out += "\(indent)<\(name)>\n"
        element(&out, depth + 1, "valueName", value.valueName)
        element(&out, depth + 1, "value", value.value)
        out += "\(indent)</\(name)>\n"
    }

    private static func element(_ out: inout String, _ depth: Int, _ name: String, _ value: String?) {
        guard let value else { return }
        out += String(repeating: "  ", count: depth) + "<\(name)>\(escape(value))</\(name)>\n"
    }

    /// Escapes the characters XML gives meaning to in text, and carriage returns, which a
    /// parser would otherwise turn into line feeds.
    public static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "\r": result += "&#13;"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}

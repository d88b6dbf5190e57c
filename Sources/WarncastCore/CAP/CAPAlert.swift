import Foundation

/// A CAP 1.2 `<alert>` message, field for field. The JSON form Warncast accepts uses the
/// same names (`identifier`, `msgType`, `info[].area[].geocode[]` …), so both formats
/// decode into this one type.
public struct CAPAlert: Sendable, Codable, Equatable {
    public var identifier: String
    public var sender: String
    public var sent: String
    public var status: String
    public var msgType: String
    public var source: String?
    public var scope: String
    public var restriction: String?
    public var addresses: String?
    public var code: [String]
    public var note: String?
    /// Whitespace-separated `sender,identifier,sent` triples of earlier messages.
    public var references: String?
    public var incidents: String?
    public var info: [CAPInfo]

    public init(
        identifier: String, sender: String, sent: String, status: String, msgType: String,
        source: String? = nil, scope: String, restriction: String? = nil, addresses: String? = nil,
        code: [String] = [], note: String? = nil, references: String? = nil,
        incidents: String? = nil, info: [CAPInfo]
    ) {
        self.identifier = identifier
        self.sender = sender
        self.sent = sent
        self.status = status
        self.msgType = msgType
        self.source = source
        self.scope = scope
        self.restriction = restriction
        self.addresses = addresses
        self.code = code
        self.note = note
        self.references = references
        self.incidents = incidents
        self.info = info
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        identifier = try c.text(.identifier)
        sender = try c.text(.sender)
        sent = try c.text(.sent)
        status = try c.text(.status)
        msgType = try c.text(.msgType)
        source = try c.optionalText(.source)
        scope = try c.text(.scope)
        restriction = try c.optionalText(.restriction)
        addresses = try c.optionalText(.addresses)
        code = try c.texts(.code)
        note = try c.optionalText(.note)
        references = try c.optionalText(.references)
        incidents = try c.optionalText(.incidents)
        info = try c.decodeIfPresent([CAPInfo].self, forKey: .info) ?? []
    }
}

/// A CAP `<info>` block: what happened, how bad, what to do, where.
public struct CAPInfo: Sendable, Codable, Equatable {
    public var language: String?
    public var category: [String]
    public var event: String
    public var responseType: [String]
    public var urgency: String
    public var severity: String
    public var certainty: String
    public var audience: String?
    public var eventCode: [CAPValue]
    public var effective: String?
    public var onset: String?
    public var expires: String?
    public var senderName: String?
    public var headline: String?
    public var description: String?
    public var instruction: String?
    public var web: String?
    public var contact: String?
    public var parameter: [CAPValue]
    /// `<resource>` blocks; `nil` when there are none, so the fingerprint of a message
    /// without any is what it was before resources were read.
    public var resource: [CAPResource]?
    public var area: [CAPArea]

    public init(
        language: String? = nil, category: [String], event: String, responseType: [String] = [],
        urgency: String, severity: String, certainty: String, audience: String? = nil,
        eventCode: [CAPValue] = [], effective: String? = nil, onset: String? = nil,
        expires: String? = nil, senderName: String? = nil, headline: String? = nil,
        description: String? = nil, instruction: String? = nil, web: String? = nil,
        contact: String? = nil, parameter: [CAPValue] = [], resource: [CAPResource]? = nil, area: [CAPArea] = []
    ) {
        self.language = language
        self.category = category
        self.event = event
        self.responseType = responseType
        self.urgency = urgency
        self.severity = severity
        self.certainty = certainty
        self.audience = audience
        self.eventCode = eventCode
        self.effective = effective
        self.onset = onset
        self.expires = expires
        self.senderName = senderName
        self.headline = headline
        self.description = description
        self.instruction = instruction
        self.web = web
        self.contact = contact
        self.parameter = parameter
        self.resource = resource?.isEmpty == true ? nil : resource
        self.area = area
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        language = try c.optionalText(.language)
        category = try c.texts(.category)
        event = try c.text(.event)
        responseType = try c.texts(.responseType)
        urgency = try c.text(.urgency)
        severity = try c.text(.severity)
        certainty = try c.text(.certainty)
        audience = try c.optionalText(.audience)
        eventCode = try c.decodeIfPresent([CAPValue].self, forKey: .eventCode) ?? []
        effective = try c.optionalText(.effective)
        onset = try c.optionalText(.onset)
        expires = try c.optionalText(.expires)
        senderName = try c.optionalText(.senderName)
        headline = try c.optionalText(.headline)
        description = try c.optionalText(.description)
        instruction = try c.optionalText(.instruction)
        web = try c.optionalText(.web)
        contact = try c.optionalText(.contact)
        parameter = try c.decodeIfPresent([CAPValue].self, forKey: .parameter) ?? []
        resource = try c.decodeIfPresent([CAPResource].self, forKey: .resource).flatMap { $0.isEmpty ? nil : $0 }
        area = try c.decodeIfPresent([CAPArea].self, forKey: .area) ?? []
    }

    /// The value of the first `<parameter>` named `name`.
    public func parameter(named name: String) -> String? {
        parameter.first { $0.valueName.caseInsensitiveCompare(name) == .orderedSame }?.value
    }
}

/// A CAP `<area>`: a description and, for Warncast, division codes in `<geocode>`.
public struct CAPArea: Sendable, Codable, Equatable {
    public var areaDesc: String
    public var polygon: [String]
    public var circle: [String]
    public var geocode: [CAPValue]
    public var altitude: String?
    public var ceiling: String?

    public init(
        areaDesc: String, polygon: [String] = [], circle: [String] = [], geocode: [CAPValue] = [],
        altitude: String? = nil, ceiling: String? = nil
    ) {
        self.areaDesc = areaDesc
        self.polygon = polygon
        self.circle = circle
        self.geocode = geocode
        self.altitude = altitude
        self.ceiling = ceiling
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        areaDesc = try c.text(.areaDesc)
        polygon = try c.texts(.polygon)
        circle = try c.texts(.circle)
        geocode = try c.decodeIfPresent([CAPValue].self, forKey: .geocode) ?? []
        altitude = try c.optionalText(.altitude)
        ceiling = try c.optionalText(.ceiling)
    }
}

/// A CAP `<resource>`: a file that goes with the warning (an image, an audio message),
/// named by its description and MIME type, with its size, address and SHA-1 digest.
public struct CAPResource: Sendable, Codable, Equatable {
    public var resourceDesc: String
    public var mimeType: String
    public var size: String?
    public var uri: String?
    public var derefUri: String?
    public var digest: String?

    public init(
        resourceDesc: String, mimeType: String, size: String? = nil, uri: String? = nil, derefUri: String? = nil,
        digest: String? = nil
    ) {
        self.resourceDesc = resourceDesc
        self.mimeType = mimeType
        self.size = size
        self.uri = uri
        self.derefUri = derefUri
        self.digest = digest
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        resourceDesc = try c.text(.resourceDesc)
        mimeType = try c.text(.mimeType)
        size = try c.optionalText(.size)
        uri = try c.optionalText(.uri)
        derefUri = try c.optionalText(.derefUri)
        digest = try c.optionalText(.digest)
    }
}

/// A CAP `valueName` / `value` pair (`<eventCode>`, `<parameter>`, `<geocode>`).
public struct CAPValue: Sendable, Codable, Equatable {
    public var valueName: String
    public var value: String

    public init(valueName: String, value: String) {
        self.valueName = valueName
        self.value = value
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        valueName = try c.text(.valueName)
        value = try c.optionalText(.value) ?? ""
    }
}

/// JSON text is read the way XML text is: trimmed, and a blank value is no value, so both
/// forms of one message decode alike and every accepted message can be written as CAP XML.
extension KeyedDecodingContainer {
    fileprivate func text(_ key: Key) throws -> String {
        guard let text = try optionalText(key) else {
            throw DecodingError.valueNotFound(
                String.self, DecodingError.Context(codingPath: codingPath + [key], debugDescription: "blank"))
        }
        return text
    }

    fileprivate func optionalText(_ key: Key) throws -> String? {
        guard let raw = try decodeIfPresent(String.self, forKey: key) else { return nil }
        let text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }

    fileprivate func texts(_ key: Key) throws -> [String] {
        (try decodeIfPresent([String].self, forKey: key) ?? [])
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }
}

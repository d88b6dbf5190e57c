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
        identifier = try c.decode(String.self, forKey: .identifier)
        sender = try c.decode(String.self, forKey: .sender)
        sent = try c.decode(String.self, forKey: .sent)
        status = try c.decode(String.self, forKey: .status)
        msgType = try c.decode(String.self, forKey: .msgType)
        source = try c.decodeIfPresent(String.self, forKey: .source)
        scope = try c.decode(String.self, forKey: .scope)
        restriction = try c.decodeIfPresent(String.self, forKey: .restriction)
        addresses = try c.decodeIfPresent(String.self, forKey: .addresses)
        code = try c.decodeIfPresent([String].self, forKey: .code) ?? []
        note = try c.decodeIfPresent(String.self, forKey: .note)
        references = try c.decodeIfPresent(String.self, forKey: .references)
        incidents = try c.decodeIfPresent(String.self, forKey: .incidents)
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
    public var area: [CAPArea]

    public init(
        language: String? = nil, category: [String], event: String, responseType: [String] = [],
        urgency: String, severity: String, certainty: String, audience: String? = nil,
        eventCode: [CAPValue] = [], effective: String? = nil, onset: String? = nil,
        expires: String? = nil, senderName: String? = nil, headline: String? = nil,
        description: String? = nil, instruction: String? = nil, web: String? = nil,
        contact: String? = nil, parameter: [CAPValue] = [], area: [CAPArea] = []
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
        self.area = area
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        language = try c.decodeIfPresent(String.self, forKey: .language)
        category = try c.decodeIfPresent([String].self, forKey: .category) ?? []
        event = try c.decode(String.self, forKey: .event)
        responseType = try c.decodeIfPresent([String].self, forKey: .responseType) ?? []
        urgency = try c.decode(String.self, forKey: .urgency)
        severity = try c.decode(String.self, forKey: .severity)
        certainty = try c.decode(String.self, forKey: .certainty)
        audience = try c.decodeIfPresent(String.self, forKey: .audience)
        eventCode = try c.decodeIfPresent([CAPValue].self, forKey: .eventCode) ?? []
        effective = try c.decodeIfPresent(String.self, forKey: .effective)
        onset = try c.decodeIfPresent(String.self, forKey: .onset)
        expires = try c.decodeIfPresent(String.self, forKey: .expires)
        senderName = try c.decodeIfPresent(String.self, forKey: .senderName)
        headline = try c.decodeIfPresent(String.self, forKey: .headline)
        description = try c.decodeIfPresent(String.self, forKey: .description)
        instruction = try c.decodeIfPresent(String.self, forKey: .instruction)
        web = try c.decodeIfPresent(String.self, forKey: .web)
        contact = try c.decodeIfPresent(String.self, forKey: .contact)
        parameter = try c.decodeIfPresent([CAPValue].self, forKey: .parameter) ?? []
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
        areaDesc = try c.decode(String.self, forKey: .areaDesc)
        polygon = try c.decodeIfPresent([String].self, forKey: .polygon) ?? []
        circle = try c.decodeIfPresent([String].self, forKey: .circle) ?? []
        geocode = try c.decodeIfPresent([CAPValue].self, forKey: .geocode) ?? []
        altitude = try c.decodeIfPresent(String.self, forKey: .altitude)
        ceiling = try c.decodeIfPresent(String.self, forKey: .ceiling)
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
}

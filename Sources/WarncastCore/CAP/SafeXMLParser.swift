import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// Parses untrusted XML into an `XMLNode` tree with every entity feature switched off.
///
/// A document type declaration is refused before the parser sees the bytes, so external
/// entities, parameter entities and "billion laughs" expansions can never be resolved.
/// Depth and element count are bounded as well.
struct SafeXMLParser {
    var maxDepth = 32
    var maxElements = 20_000

    enum Failure: Error, Equatable {
        /// The document declares a DOCTYPE, an entity or another markup declaration.
        case declarationForbidden(String)
        case malformed(String)
        case tooComplex(String)
        /// Not UTF-8: the declaration scan below reads bytes as UTF-8 would.
        case unsupportedEncoding(String)
        /// A processing instruction other than the XML declaration.
        case processingInstruction(String)
        /// A control character XML 1.0 does not allow anywhere in a document.
        case controlCharacter(UInt32)
    }

    func parse(_ data: Data) throws(Failure) -> XMLNode {
        if let problem = Self.encodingProblem(in: data) {
            throw .unsupportedEncoding(problem)
        }
        // XML 1.0 allows no control character but tab, line feed and carriage return, in text,
        // comments or anywhere else; the parser is never handed one.
        if let control = data.first(where: { $0 < 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }) {
            throw .controlCharacter(UInt32(control))
        }
        if let forbidden = Self.forbiddenMarkup(in: data) { throw forbidden }
        let parser = XMLParser(data: data)
        parser.shouldProcessNamespaces = true
        parser.shouldResolveExternalEntities = false
        let builder = TreeBuilder(maxDepth: maxDepth, maxElements: maxElements)
        parser.delegate = builder
        let ok = parser.parse()
        if let failure = builder.failure { throw failure }
        // Foundation on Linux may return true and still record an error (content after the
        // root element, an unquoted attribute): either one refuses the document. libxml2's
        // warnings (an XML 1.1 declaration, a relative namespace URI) are recorded the same
        // way and do not.
        let code = (parser.parserError as? NSError)?.code
        let failed = code.map { !Self.libxml2Warnings.contains($0) } ?? false
        guard ok, !failed, let root = builder.root else {
            throw .malformed("line \(parser.lineNumber), column \(parser.columnNumber): \(Self.reason(code))")
        }
        return root
    }

    /// libxml2's warning codes (XML_WAR_*): recorded like errors, but the document is read.
    static let libxml2Warnings: Set<Int> = [27, 93, 97, 98, 99, 100, 102, 106, 107]

    /// libxml2's error as a reader would say it (Foundation on Linux only gives
    /// `NSXMLParserErrorDomain error N`).
    static func reason(_ code: Int?) -> String {
        guard let code else { return "not a well-formed XML document" }
        return Self.libxml2Errors[code].map { "\($0) (XML error \(code))" } ?? "not a well-formed XML document (XML error \(code))"
    }

    /// libxml2's error numbers (xmlParserErrors), which Foundation passes on as its codes.
    static let libxml2Errors: [Int: String] = [
        4: "no root element: the document is empty or does not start with '<'",
        // libxml2 gives this one for many things: an element, comment or CDATA section left
        // open at the end, an unquoted attribute, content after the root element.
        5:
            "not well-formed here: an element, comment or CDATA section left open, an unquoted attribute, or content after the root element",
        9: "a character XML does not allow",
        23: "an entity reference lacks its ';'",
        26: "an undeclared entity is used",
        38: "'<' inside an attribute value",
        39: "an attribute value is not quoted",
        40: "an attribute value is not closed",
        41: "an attribute has no value",
        42: "an attribute is given twice",
        43: "a quoted value is missing",
        44: "a quoted value is not closed",
        45: "a comment is not closed",
        57: "the XML declaration is not closed",
        63: "a CDATA section is not closed",
        64: "the XML declaration is not at the very start",
        68: "'&' or '<' is not followed by a name (write &amp; and &lt;)",
        73: "a tag is not closed with '>'",
        74: "an end tag is not closed",
        76: "an end tag does not match its start tag",
        77: "an element is not closed",
        85: "an element is not closed, or closed in the wrong order",
        86: "content after the root element",
        201: "a namespace prefix is not declared",
    ]

    /// Why `data` is not a UTF-8 document, if it is not: a UTF-16 or UTF-32 byte order mark,
    /// NUL bytes (UTF-16 without a mark), bytes that are not UTF-8, or an XML declaration
    /// naming another encoding. Only UTF-8 is read, so no declaration can hide in an
    /// encoding the scan for `<!` does not see.
    static func encodingProblem(in data: Data) -> String? {
        let bytes = [UInt8](data)
        if bytes.starts(with: [0xFE, 0xFF]) || bytes.starts(with: [0xFF, 0xFE]) { return "a UTF-16 byte order mark" }
        if bytes.starts(with: [0x00, 0x00, 0xFE, 0xFF]) { return "a UTF-32 byte order mark" }
        if bytes.contains(0) { return "NUL bytes (UTF-16 or UTF-32 text)" }
        guard var text = String(validating: bytes, as: UTF8.self) else { return "bytes that are not UTF-8" }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        if text.hasPrefix("<?xml"), let end = text.range(of: "?>") {
            let declaration = text[..<end.lowerBound].lowercased()
            if let range = declaration.range(of: "encoding") {
                let value = declaration[range.upperBound...].drop { $0 == " " || $0 == "=" || $0 == "\"" || $0 == "'" }
                    .prefix { $0 != "\"" && $0 != "'" && $0 != " " }
                if value != "utf-8" && value != "utf8" { return "an encoding declaration of '\(value)'" }
            }
        }
        return nil
    }

    /// Finds markup a warning never needs: `<!` that opens anything but a comment or a CDATA
    /// section (a DOCTYPE, an entity), and processing instructions other than the XML
    /// declaration at the very start. Comments and CDATA sections are skipped whole, so text
    /// inside them is not mistaken for markup.
    static func forbiddenMarkup(in data: Data) -> Failure? {
        let bytes = [UInt8](data)
        // A UTF-8 byte order mark may come before the declaration.
        let start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        var index = start
        /// Moves past the construct opened at `index` (`opener` bytes long) and its `end`,
        /// looking for `end` only after the opener: `<!-->` does not close a comment.
        /// Returns false when the document ends before `end`.
        @discardableResult
        func skip(opener: Int, past end: String) -> Bool {
            let terminator = Array(end.utf8)
            index += opener
            while index < bytes.count && !bytes[index...].starts(with: terminator) { index += 1 }
            index += terminator.count
            return index <= bytes.count
        }
        while index + 1 < bytes.count {
            guard bytes[index] == UInt8(ascii: "<") else {
                index += 1
                continue
            }
            let rest = bytes[(index + 1)...].prefix(9)
            // A comment or CDATA section left open would hide the rest of the document from
            // this scan, whatever the parser makes of it.
            if rest.starts(with: Array("!--".utf8)) {
                guard skip(opener: 4, past: "-->") else { return .malformed("a comment is not closed with -->") }
            } else if rest.starts(with: Array("![CDATA[".utf8)) {
                guard skip(opener: 9, past: "]]>") else { return .malformed("a CDATA section is not closed with ]]>") }
            } else if rest.first == UInt8(ascii: "!") {
                let word = String(decoding: rest.dropFirst().prefix { $0 >= 0x41 && $0 <= 0x7A }, as: UTF8.self)
                return .declarationForbidden(word.isEmpty ? "<!" : "<!\(word)")
            } else if rest.first == UInt8(ascii: "?") {
                let isDeclaration =
                    index == start && rest.dropFirst().starts(with: Array("xml".utf8)) && rest.count > 4
                    && [0x20, 0x09, 0x0A, 0x0D].contains(rest[rest.startIndex + 4])
                guard isDeclaration else {
                    let name = bytes[(index + 2)...].prefix(40).prefix { $0 > 0x20 && $0 != UInt8(ascii: "?") }
                    let target = String(decoding: name, as: UTF8.self)
                    return .processingInstruction("<?\(target)")
                }
                let opened = index
                skip(opener: 2, past: "?>")
                // Markup inside an unclosed declaration would otherwise be skipped unseen.
                if bytes[opened..<min(index, bytes.count)].dropFirst().contains(UInt8(ascii: "<")) {
                    return .malformed("the XML declaration is not closed with ?>")
                }
            } else {
                index += 1
            }
        }
        return nil
    }
}

/// Collects parser events into a tree. It lives only for one synchronous `parse()` call.
private final class TreeBuilder: NSObject, XMLParserDelegate {
    let maxDepth: Int
    let maxElements: Int
    var stack: [XMLNode] = []
    var root: XMLNode?
    var failure: SafeXMLParser.Failure?
    var elementCount = 0

    init(maxDepth: Int, maxElements: Int) {
        self.maxDepth = maxDepth
        self.maxElements = maxElements
    }

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
        qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]
    ) {
        elementCount += 1
        if stack.count >= maxDepth || elementCount > maxElements {
            stop(parser, .tooComplex("more than \(maxDepth) levels or \(maxElements) elements"))
            return
        }
        stack.append(XMLNode(name: elementName, namespace: namespaceURI))
    }

    func parser(
        _ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?,
        qualifiedName qName: String?
    ) {
        guard let node = stack.popLast() else { return }
        if stack.isEmpty {
            root = node
        } else {
            stack[stack.count - 1].children.append(node)
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard !stack.isEmpty else { return }
        stack[stack.count - 1].text += string
    }

    func parser(_ parser: XMLParser, foundCDATA block: Data) {
        guard !stack.isEmpty else { return }
        stack[stack.count - 1].text += String(decoding: block, as: UTF8.self)
    }

    func parser(_ parser: XMLParser, foundInternalEntityDeclarationWithName name: String, value: String?) {
        stop(parser, .declarationForbidden("<!ENTITY"))
    }

    func parser(
        _ parser: XMLParser, foundExternalEntityDeclarationWithName name: String,
        publicID: String?, systemID: String?
    ) {
        stop(parser, .declarationForbidden("<!ENTITY"))
    }

    func parser(_ parser: XMLParser, resolveExternalEntityName name: String, systemID: String?) -> Data? {
        stop(parser, .declarationForbidden("external entity \(name)"))
        return nil
    }

    private func stop(_ parser: XMLParser, _ failure: SafeXMLParser.Failure) {
        if self.failure == nil { self.failure = failure }
        parser.abortParsing()
    }
}

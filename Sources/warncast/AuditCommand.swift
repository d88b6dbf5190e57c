import ArgumentParser
import Foundation
import WarncastCore
import WarncastDispatch
import WarncastNet
import WarncastStore

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "The hash-chained audit log, and exports for auditors.",
        subcommands: [Verify.self, List.self, Export.self, VerifyExport.self])

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Export the audit log or the deliveries of a time range from warncastd, streamed to a file.")

        @OptionGroup var daemon: DaemonOptions
        @Option(help: "What to export: audit or deliveries.") var kind = "audit"
        @Option(help: "From this time, e.g. 2026-07-01T00:00:00+08:00 (default: 30 days before --until).") var since: String?
        @Option(help: "Until this time (default: now).") var until: String?
        @Option(help: "csv or json (JSON Lines).") var format = "csv"
        @Option(name: .shortAndLong, help: "File to write.") var output: String

        func run() async throws {
            guard ExportKind(rawValue: kind) != nil else { throw ValidationError("--kind must be audit or deliveries") }
            guard ExportFormat(rawValue: format) != nil else { throw ValidationError("--format must be csv or json") }
            var query = ["format=\(format)"]
            if let since { query.append("since=\(FormEncoding.escape(since))") }
            if let until { query.append("until=\(FormEncoding.escape(until))") }
            // Readable by its owner only: it holds names, phone numbers and addresses.
            _ = FileManager.default.createFile(atPath: output, contents: nil, attributes: [.posixPermissions: 0o600])
            guard let file = FileHandle(forWritingAtPath: output) else { throw CLIError("cannot write \(output)") }
            defer { try? file.close() }
            var shown = Date.distantPast
            let base = try daemon.baseURL()
            let authorities = try daemon.trustedAuthorities()
            let result: (status: Int, error: Data)
            do {
                result = try CurlTransfer.download(
                    base + "/v1/export/\(kind)?" + query.joined(separator: "&"),
                    headers: ["Authorization: Bearer \(try daemon.bearer())"], caBundle: authorities, to: file
                ) { bytes in
                    // Progress on stderr, at most a few times a second, so the file stays clean.
                    guard Date().timeIntervalSince(shown) > 0.25 else { return }
                    shown = Date()
                    FileHandle.standardError.write(Data("\rexported \(bytes / 1024) KiB".utf8))
                }
            } catch {
                try? FileManager.default.removeItem(atPath: output)
                throw DaemonOptions.unreachable(base, error)
            }
            guard (200..<300).contains(result.status) else {
                try? FileManager.default.removeItem(atPath: output)
                throw CLIError("export refused (HTTP \(result.status)): \(String(decoding: result.error, as: UTF8.self))")
            }
            try file.synchronize()
            let written = try FileManager.default.attributesOfItem(atPath: output)[.size] as? Int ?? 0
            FileHandle.standardError.write(Data("\rexported \(written / 1024) KiB to \(output)\n".utf8))
            let check = try ExportVerifier.verify(try Data(contentsOf: URL(fileURLWithPath: output)))
            print("\(check.rows) \(check.kind.rawValue) row(s) in \(output), last hash \(check.lastHash)")
        }
    }

    struct VerifyExport: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify-export",
            abstract: "Check an exported file on its own: each row's hash and each link to the row before.")

        @Argument(help: "An exported CSV or JSON Lines file.") var file: String

        func run() async throws {
            let data = try TextFile.data(file)
            do {
                let result = try ExportVerifier.verify(data)
                print("\(file): \(result.rows) \(result.kind.rawValue) row(s) intact, last hash \(result.lastHash)")
                if result.kind == .audit {
                    print("its first entry follows hash \(result.anchor) of the live log")
                    if result.redacted > 0 {
                        print(
                            "\(result.redacted) entr(y/ies) outside the exporter's region are redacted: their links are checked, not their content"
                        )
                    }
                    if result.unanchored > 0 {
                        print(
                            "\(result.unanchored) shown entr(y/ies) come before a redacted one, whose hash cannot be computed from this file: "
                                + "the file and its last hash do not vouch for them; compare them with the live log or an unredacted export"
                        )
                    }
                } else {
                    print("compare the last hash with the export.deliveries entry of the audit log")
                }
            } catch {
                throw CLIError("\(file): BROKEN at \(error)")
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every link of the audit chain and the receipts' seals; report every broken link.")

        @OptionGroup var options: StoreOptions

        func run() async throws {
            let context = try CLIContext(options)
            switch try await context.store.verifyAudit() {
            case .intact(let entries, let lastHash):
                print("audit log intact: \(entries) entries, last hash \(lastHash)")
            case .broken(let breaks):
                for item in breaks.dropLast() {
                    FileHandle.standardError.write(Data("audit log BROKEN at entry \(item.sequence): \(item.reason)\n".utf8))
                }
                let last = breaks[breaks.count - 1]
                throw CLIError("audit log BROKEN at entry \(last.sequence): \(last.reason) (\(breaks.count) break(s) in all)")
            }
            switch try await context.store.verifyReceipts() {
            case .intact(let seals, let deliveries, let lastHash):
                print("receipts intact: \(deliveries) finished deliveries match \(seals) seals, last hash \(lastHash)")
            case .broken(let delivery, let reason):
                throw CLIError("receipts BROKEN at delivery \(delivery): \(reason)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print audit entries as JSON lines.")

        @OptionGroup var options: StoreOptions
        @Option(help: "First entry to print.") var from: Int64 = 1
        @Option(help: "How many entries.") var limit: Int = 100

        func run() async throws {
            let context = try CLIContext(options)
            for entry in try await context.store.auditEntries(from: from, limit: limit) {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(entry), as: UTF8.self))
            }
        }
    }
}

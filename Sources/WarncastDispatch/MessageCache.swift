import Foundation
import Synchronization
import WarncastCore
import WarncastStore

/// Released warnings as adapters need them, built once per warning and adapter. Every
/// delivery asks, so a message already built is handed over under a lock, without a hop to
/// an actor; the first deliveries of a warning share one load.
final class MessageCache: Sendable {
    let outbox: any Outbox
    let defaultLanguage: String
    private let loads = Mutex<[String: Task<OutgoingMessage, any Error>]>([:])

    init(outbox: any Outbox, defaultLanguage: String = "zh-CN") {
        self.outbox = outbox
        self.defaultLanguage = defaultLanguage
    }

    func message(for warningID: Warning.ID, adapter name: AdapterKind, using adapter: any ChannelAdapter) async throws -> OutgoingMessage {
        let key = warningID.rawValue + "|" + name.rawValue
        let load = loads.withLock { loads in
            if let load = loads[key] { return load }
            if loads.count > 256 { loads.removeAll() }
            let load = Task { [outbox, defaultLanguage] in
                guard let warning = try await outbox.warning(id: warningID) else {
                    throw DispatchError.unknownWarning(warningID.rawValue)
                }
                let original = adapter.wantsOriginal ? try await outbox.rawMessage(id: warningID)?.data : nil
                return OutgoingMessage(warning: warning, original: original, defaultLanguage: defaultLanguage, preparedBy: adapter)
            }
            loads[key] = load
            return load
        }
        do {
            return try await load.value
        } catch {
            // A failed load is not kept: the next delivery tries again.
            loads.withLock { loads in
                if loads[key] == load { loads[key] = nil }
            }
            throw error
        }
    }
}

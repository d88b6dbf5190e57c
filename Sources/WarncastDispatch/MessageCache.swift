import Foundation
import WarncastCore
import WarncastStore

/// Released warnings as adapters need them, built once per warning.
actor MessageCache {
    let outbox: any Outbox
    let defaultLanguage: String
    private var messages: [String: OutgoingMessage] = [:]

    init(outbox: any Outbox, defaultLanguage: String = "zh-CN") {
        self.outbox = outbox
        self.defaultLanguage = defaultLanguage
    }

    func message(for warningID: Warning.ID, adapter name: AdapterKind, using adapter: any ChannelAdapter) async throws -> OutgoingMessage {
        let key = warningID.rawValue + "|" + name.rawValue
        if let message = messages[key] { return message }
        guard let warning = try await outbox.warning(id: warningID) else { throw DispatchError.unknownWarning(warningID.rawValue) }
        let original = adapter.wantsOriginal ? try await outbox.rawMessage(id: warningID)?.data : nil
        let message = OutgoingMessage(warning: warning, original: original, defaultLanguage: defaultLanguage, preparedBy: adapter)
        if messages.count > 256 { messages.removeAll() }
        messages[key] = message
        return message
    }
}

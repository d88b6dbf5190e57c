import Foundation
import Logging
import WarncastCore
import WarncastNet
import WarncastStore

/// Tells the people on duty, through the channels they are recipients on (an SMS group, a
/// carrier gateway), when a gateway goes down, deliveries are given up, or an approval is
/// overdue. Contacts are recipient ids of the registry. The same trouble is told at most once
/// per `minInterval`; every notice, sent or not, is in the audit log. A notice that fails for
/// a reason that may pass (no answer in time, no connection or another transport error, 408,
/// 429 or 5xx) is tried again after each of `retryDelays`, the same message each time, so a
/// gateway that took the first try but whose answer was lost can tell the two apart.
public actor DutyNotifier: DispatchTroubleListener, EscalationNotifier {
    let store: any Store
    let adapters: [String: any ChannelAdapter]
    let transport: any Transport
    /// Who is told of delivery trouble (`notify.contacts`).
    let contacts: [String]
    let minInterval: TimeInterval
    let node: String
    let logger: Logger
    let now: @Sendable () -> Date
    /// The waits before the second, third … try of a notice that failed for a passing reason.
    let retryDelays: [Duration]
    private var lastTold: [String: Date] = [:]

    public init(
        store: any Store, adapters: [String: any ChannelAdapter], transport: any Transport, contacts: [String],
        minInterval: TimeInterval, node: String, logger: Logger, now: @escaping @Sendable () -> Date = Date.init,
        retryDelays: [Duration] = [.seconds(2), .seconds(10)]
    ) {
        self.retryDelays = retryDelays
        self.store = store
        self.adapters = adapters
        self.transport = transport
        self.contacts = contacts
        self.minInterval = minInterval
        self.node = node
        self.logger = logger
        self.now = now
    }

    nonisolated public func heard(_ trouble: DispatchTrouble) {
        Task { await tell(about: trouble) }
    }

    func tell(about trouble: DispatchTrouble) async {
        switch trouble {
        case .gatewayDown(let channel, let endpoint, let error):
            let gateway = Self.withoutQuery(endpoint)
            await tell(
                contacts, key: "gateway:\(channel):\(gateway)", subject: channel,
                text: "【Warncast \(node)】通道 \(channel) 的网关 \(gateway) 连续失败，已暂停并重试（\(error)）。Gateway down on channel \(channel).")
        case .givenUp(let channel, let warning, _, let error):
            await tell(
                contacts, key: "gave-up:\(channel):\(warning)", subject: warning,
                text: "【Warncast \(node)】预警 \(warning) 在通道 \(channel) 上有投递已放弃（\(error)），请查看 warncast report。Deliveries given up.")
        }
    }

    public func notify(_ escalation: Escalation) async {
        let missing = escalation.missing.map { "\($0.role)@\($0.scope.rawValue)" }.joined(separator: " ")
        await tell(
            escalation.contacts, key: "escalation:\(escalation.warningID):\(escalation.number)", subject: escalation.warningID,
            text:
                "【Warncast \(node)】\(escalation.level.rawValue) 预警待审批已超时（第\(escalation.number)次催办）：\(escalation.headline ?? escalation.warningID)；待 \(missing) 审批。"
        )
    }

    /// Sends `text` to every contact (recipient id) once per `minInterval` for `key`, to all
    /// of them at once: one contact's gateway being tried again does not hold up the others.
    func tell(_ contacts: [String], key: String, subject: String, text: String) async {
        guard !contacts.isEmpty else { return }
        let at = now()
        if let last = lastTold[key], at.timeIntervalSince(last) < minInterval { return }
        lastTold[key] = at
        await withTaskGroup(of: Void.self) { group in
            for contact in contacts {
                group.addTask { await self.tell(contact, key: key, subject: subject, text: text) }
            }
        }
    }

    /// Sends `text` to one contact and audits the outcome.
    private func tell(_ contact: String, key: String, subject: String, text: String) async {
        let outcome = await send(text, to: contact)
        let event = AuditEvent(
            actor: .notifier, action: outcome.sent ? .noticeSent : .noticeFailed, subject: subject,
            detail: ["contact": contact, "about": key, "result": outcome.detail])
        do {
            try await store.appendAudit(event, at: now())
        } catch {
            logger.error("cannot audit a notice", metadata: ["contact": .string(contact), "error": "\(error)"])
        }
        if outcome.sent {
            logger.notice("duty contact told", metadata: ["contact": .string(contact), "about": .string(key)])
        } else {
            logger.error(
                "duty contact not told", metadata: ["contact": .string(contact), "about": .string(key), "why": .string(outcome.detail)])
        }
    }

    /// Through each endpoint of the contact's channel in turn until one takes it.
    private func send(_ text: String, to contact: String) async -> (sent: Bool, detail: String) {
        let recipient: Recipient
        do {
            guard let found = try await store.recipient(id: contact) else {
                return (false, "no active recipient with this id (never added, or removed)")
            }
            recipient = found
        } catch {
            return (false, "recipients cannot be read: \(error)")
        }
        guard let adapter = adapters[recipient.channel] else { return (false, "channel \(recipient.channel) is not configured") }
        let probe = DeliveryJob(id: 0, warningID: "notice", recipient: recipient, idempotencyKey: "notice", attempt: 1)
        // Built once: a try again sends the same message (the same key or Message-ID).
        var requests: [(endpoint: String, request: HTTPRequestSpec)] = []
        for endpoint in adapter.endpoints(for: probe) {
            guard var request = adapter.notice(text, to: recipient, via: endpoint) else { break }
            request.connectTimeoutMilliseconds = 3000
            request.totalTimeoutMilliseconds = 10_000
            requests.append((endpoint, request))
        }
        guard !requests.isEmpty else { return (false, "channel \(recipient.channel) cannot carry notices") }
        var last = ""
        // An endpoint that refused the notice is not asked again.
        var refused: Set<String> = []
        for (index, delay) in ([nil] + retryDelays.map(Optional.some)).enumerated() {
            if let delay {
                do { try await Task.sleep(for: delay) } catch { return (false, last + " (stopping after \(index) tries)") }
            }
            var passing = false
            for (endpoint, request) in requests where !refused.contains(endpoint) {
                do {
                    let result = try await transport.perform(request)
                    switch HTTPStatusClass(result.status) {
                    case .taken:
                        let tries = index == 0 ? "" : " (try \(index + 1))"
                        return (true, "\(recipient.channel) via \(Self.withoutQuery(endpoint)): HTTP \(result.status)\(tries)")
                    case .retryable: passing = true
                    case .refused: refused.insert(endpoint)
                    }
                    last = "\(Self.withoutQuery(endpoint)): HTTP \(result.status)"
                } catch let error as CurlError {
                    // No answer, no connection, or another transport error: as for deliveries.
                    last = "\(Self.withoutQuery(endpoint)): \(error)"
                    passing = true
                } catch {
                    last = "\(Self.withoutQuery(endpoint)): \(error)"
                    refused.insert(endpoint)
                }
            }
            guard passing else { return (false, last) }
            if index > 0 && index == retryDelays.count { last += " (\(index + 1) tries)" }
        }
        return (false, last)
    }

    /// A URL without its query, which may hold credentials.
    static func withoutQuery(_ url: String) -> String {
        String(url.prefix { $0 != "?" })
    }
}

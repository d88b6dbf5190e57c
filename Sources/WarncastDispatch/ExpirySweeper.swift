import Foundation
import Logging
import ServiceLifecycle
import WarncastStore

/// Once a second, expires the deliveries whose warning expired before they went out.
struct ExpirySweeper: Service {
    let outbox: any Outbox
    let logger: Logger
    let now: @Sendable () -> Date
    let stopping: @Sendable () -> Bool

    func run() async throws {
        while !stopping() {
            do {
                let expired = try await outbox.expireDeliveries(at: now())
                if expired > 0 { logger.notice("deliveries expired with their warning", metadata: ["count": .stringConvertible(expired)]) }
            } catch {
                logger.error("cannot expire deliveries", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }
}

import Foundation
import Logging
import WarncastCore
import WarncastStore

/// Plans the rest of a release that has more recipients than one planning step takes (see
/// `PlanningStep`): a step per transaction, ringing the channels after each so that what is
/// planned goes out while the rest is planned. It also finishes, after a restart, whatever
/// a stopped daemon had not planned yet.
struct DeliveryPlanner {
    let outbox: any Outbox
    let routing: DeliveryRouting
    let doorbell = Doorbell()
    /// Rung after every step that planned deliveries.
    let planned: @Sendable () -> Void
    let logger: Logger
    let now: @Sendable () -> Date
    let stopping: @Sendable () -> Bool

    func run() async throws {
        while !stopping() {
            do {
                if let step = try await outbox.planNextStep(routing: routing, at: now()) {
                    if step.planned > 0 { planned() }
                    if step.finished {
                        logger.info("release planned", metadata: ["warning": .string(step.warningID)])
                    }
                    continue
                }
            } catch {
                logger.error("cannot plan deliveries", metadata: ["error": "\(error)"])
            }
            // Nothing left to plan: wait for a release, or look again in a second.
            await doorbell.wait(timeout: .seconds(1))
        }
    }
}

import Foundation
import Logging
import WarncastCore
import WarncastStore

/// Takes a submission from bytes to a stored warning: read the CAP, check it against the
/// principal's rights, store it. Every refusal is counted and written to the audit log.
public struct WarningIntake: Sendable {
    let store: any Store
    let check: IntakeCheck
    let metrics: ServerMetrics
    let now: @Sendable () -> Date

    public init(store: any Store, catalogue: EventCatalogue, metrics: ServerMetrics, now: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.check = IntakeCheck(catalogue: catalogue)
        self.metrics = metrics
        self.now = now
    }

    /// Accepts `body` from `principal`, or throws the `IntakeError` that refused it.
    public func submit(_ body: Data, contentType: String, principal: Principal, logger: Logger) async throws -> Acceptance {
        var identifier: String?
        do {
            let format = try CAPFormat(contentType: contentType)
            let alert = try CAPReader.read(body, format: format)
            identifier = alert.identifier
            let draft = try check.check(alert, raw: body, format: format, principal: principal, now: now())
            let acceptance = try await store.accept(draft, by: principal, at: now())
            metrics.countSubmission(result: isDuplicate(acceptance) ? "duplicate" : "accepted")
            logger.info("warning accepted", metadata: [
                "warning": .string(acceptance.warning.id), "identifier": .string(draft.identifier),
                "duplicate": .stringConvertible(isDuplicate(acceptance)),
            ])
            return acceptance
        } catch let error as IntakeError {
            try await refuse(error, identifier: identifier, principal: principal, logger: logger)
            throw error
        }
    }

    /// Records a submission refused before or during intake, e.g. for its size.
    public func refuse(_ error: IntakeError, identifier: String?, principal: Principal?, logger: Logger) async throws {
        metrics.countSubmission(result: "refused", reason: error.code)
        logger.notice("warning refused", metadata: [
            "reason": .string(error.code), "identifier": .string(identifier ?? "-"),
        ])
        var detail = ["reason": error.code, "detail": error.detail]
        detail["identifier"] = identifier
        try await store.appendAudit(
            AuditEvent(
                actor: principal?.auditName ?? "anonymous", action: "warning.refused",
                subject: identifier ?? "-", detail: detail),
            at: now())
    }

    private func isDuplicate(_ acceptance: Acceptance) -> Bool {
        if case .duplicate = acceptance { return true }
        return false
    }
}

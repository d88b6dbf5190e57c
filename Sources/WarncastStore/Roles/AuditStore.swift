import Foundation
import WarncastCore

/// The append-only records: the audit log's hash chain, the receipts' seals, and retention
/// of the attempt detail around them.
public protocol AuditStore: Sendable {
    func appendAudit(_ event: AuditEvent, at: Date) async throws
    /// The audit entries about one subject (a warning's history), oldest first.
    func auditEntries(subject: String) async throws -> [AuditEntry]
    func auditEntries(from sequence: Int64, limit: Int) async throws -> [AuditEntry]
    /// The entries of `[since, until)` as a piece of the chain: from the first recorded in it
    /// to the last, with every entry between (one stamped a little out of order, by a writer
    /// that waited for the lock, is not left out); nil when none.
    func auditSpan(since: Date, until: Date) async throws -> ClosedRange<Int64>?
    /// A page of the entries in `span` after `sequence`.
    func exportAudit(in span: ClosedRange<Int64>, after sequence: Int64, limit: Int) async throws -> [AuditEntry]
    func verifyAudit() async throws -> AuditVerification
    /// Walks the receipts' seal chain and checks every finished delivery against it.
    func verifyReceipts() async throws -> SealVerification
    /// Deletes attempts and gateway reports recorded before `cutoff` (retention); returns
    /// how many of each. Warnings, deliveries and the audit log are never deleted.
    func prune(before cutoff: Date, actor: AuditActor, at: Date) async throws -> (attempts: Int, receipts: Int)
}

import Foundation
import Hummingbird
import WarncastCore
import WarncastStore

/// A warning's timeline, and the warnings that were late by the configured thresholds.
struct TimelinessController {
    let store: any Store
    /// Counts a lower node's divisions, not the hand-down, as reached.
    let reports: WarningReportBuilder
    let thresholds: [Level: TimelinessThreshold]
    let now: @Sendable () -> Date

    func register<Methods: RouterMethods>(on registrar: RouteRegistrar<Methods>)
    where Methods.Context == WarncastRequestContext {
        registrar.on(.get, "/warnings/{id}/timeline", use: timeline)
        registrar.on(.get, "/late", use: late)
    }

    /// `lowerNodes`: ask the lower-tier nodes for their villages (the timeline of one
    /// warning); without, this node's own deliveries only, hand-downs counted when accepted
    /// (the late list, which looks at up to 1000 warnings and must not wait on each county).
    /// `within` a region (the reader's), the deliveries waiting for a retry are that region's.
    func timeline(of warning: Warning, lowerNodes: Bool = true, within region: RegionCode? = nil) async throws -> WarningTimeline {
        let reaches = lowerNodes ? try await reports.reaches(warningID: warning.id) : try await store.reaches(warningID: warning.id)
        var timeline = WarningTimeline(
            warning: warning, reaches: reaches, threshold: thresholds[warning.level], now: now())
        timeline.retrying = try await store.retrying(warningID: warning.id, within: region)
        if lowerNodes { timeline.terminalsAtRelease = try await store.terminalsAtRelease(warningID: warning.id) }
        return timeline
    }

    @Sendable func timeline(_ request: Request, context: WarncastRequestContext) async throws -> WarningTimeline {
        let reader = try context.requireReader()
        let warning = try await store.warning(id: Warning.ID(rawValue: context.parameters.require("id")), visibleTo: reader)
        return try await timeline(of: warning, within: reader.scope)
    }

    struct LateWarning: Codable {
        var id: Warning.ID
        var identifier: String
        var level: Level
        var event: String
        var headline: String?
        var department: String
        var status: WarningStatus
        var submittedAt: Timestamp
        var releasedAt: Timestamp?
        var late: [LateStep]
    }

    struct LateList: ResponseEncodable {
        var since: String
        var until: String
        /// Warnings looked at (at most 1000, newest first).
        var examined: Int
        var warnings: [LateWarning]
    }

    /// Warnings submitted in `[since, until)` (default: the last 7 days) with a late step.
    @Sendable func late(_ request: Request, context: WarncastRequestContext) async throws -> LateList {
        let principal = try context.requireReader()
        var query = try WarningController.query(from: request.uri.queryParameters, scope: principal.scope)
        let until = query.until ?? now()
        let since = query.since ?? until.addingTimeInterval(-7 * 86_400)
        query.since = since
        query.until = until
        query.limit = 1000
        let warnings = try await store.warnings(query)
        var late: [LateWarning] = []
        for warning in warnings where thresholds[warning.level] != nil && warning.status != .rejected {
            let steps = try await timeline(of: warning, lowerNodes: false).late
            guard !steps.isEmpty else { continue }
            late.append(
                LateWarning(
                    id: warning.id, identifier: warning.identifier, level: warning.level, event: warning.event,
                    headline: warning.headline, department: warning.department, status: warning.status,
                    submittedAt: warning.receivedAt, releasedAt: warning.approval?.releasedAt, late: steps))
        }
        return LateList(since: Timestamp.string(since), until: Timestamp.string(until), examined: warnings.count, warnings: late)
    }
}

extension WarningTimeline: ResponseEncodable {}

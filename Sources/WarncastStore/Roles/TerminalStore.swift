import Foundation
import WarncastCore

/// Broadcast terminals: their heartbeats and playback reports, and who is online where.
/// Terminals are the recipients on the channels `watch` names; a terminal proves itself with
/// its recipient secret, given as the forms it may be stored in.
public protocol TerminalStore: Sendable {
    func recordHeartbeat(
        terminal id: String, secretHashes: [String], _ heartbeat: TerminalHeartbeat, watch: TerminalWatch, at date: Date
    ) async throws -> TerminalCheck
    /// Whether `id` is a terminal whose secret is one of `secretHashes`.
    func terminalAccepts(_ id: String, secretHashes: [String], watch: TerminalWatch) async throws -> Bool
    /// A terminal's report that it broadcast (or failed to broadcast) one of its deliveries.
    func recordPlayback(
        terminal id: String, secretHashes: [String], _ playback: TerminalPlayback, at date: Date
    ) async throws -> PlaybackResult
    /// The terminals within `region`, by region and id; only offline ones if `offlineOnly`.
    func terminals(
        _ watch: TerminalWatch, within region: RegionCode, offlineOnly: Bool, limit: Int, at date: Date
    ) async throws
        -> [TerminalView]
    /// The terminals within any of `areas`.
    /// `villages`: also find the registry's villages without any terminal (`unequipped`).
    func terminalSummary(_ watch: TerminalWatch, areas: [RegionCode], villages: Bool, at date: Date) async throws -> TerminalSummary
    /// Online and offline terminals per division, at every tier down to `depth`, within `region`.
    func terminalCounts(_ watch: TerminalWatch, within region: RegionCode, depth: Tier, at date: Date) async throws -> [TerminalCount]
}

/// Whether a heartbeat was taken.
public enum TerminalCheck: Sendable, Equatable {
    /// Recorded; the status it reported before (nil: its first heartbeat).
    case recorded(previous: TerminalStatus?)
    /// No terminal with this id and secret (an unknown id reads the same, so ids cannot be probed).
    case forged
}

public enum PlaybackResult: Sendable, Equatable {
    /// The delivery's state after the report.
    case recorded(DeliveryState)
    /// The key is not a delivery of this terminal, or the secret is not its own.
    case forged
}

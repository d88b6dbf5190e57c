import GRDB
import WarncastCore

/// Timestamps are stored as their text, exactly as written.
extension Timestamp: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { text.databaseValue }

    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> Timestamp? {
        String.fromDatabaseValue(dbValue).map { Timestamp(stored: $0) }
    }
}

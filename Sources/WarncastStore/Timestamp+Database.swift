import GRDB
import WarncastCore

/// Timestamps are stored as their text, exactly as written.
extension Timestamp: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { text.databaseValue }

    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> Timestamp? {
        String.fromDatabaseValue(dbValue).map { Timestamp(stored: $0) }
    }
}

/// Warning ids are stored as their text.
extension Warning.ID: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { rawValue.databaseValue }

    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> Warning.ID? {
        String.fromDatabaseValue(dbValue).map(Warning.ID.init(rawValue:))
    }
}

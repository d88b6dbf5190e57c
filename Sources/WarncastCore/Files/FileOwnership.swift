import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Files of the daemon's state that `warncast` may write when an operator runs it as root
/// (`warncast keys rotate`, the first `warncast token create` on a new node): written as
/// root they would belong to root, mode 0600, and warncastd, running as its own user,
/// could no longer open them at its next start. Run as root, such a file is given to the
/// owner of what it replaces, or of its folder (the unit's state directory, which belongs
/// to the daemon's user). SQLite does the same for the WAL and shared-memory files it makes.
public enum FileOwnership {
    /// When this process runs as root, gives `path` the owner and group of `like` (a file or
    /// folder); otherwise, or when they are the same already, does nothing.
    public static func match(_ path: String, like reference: String) throws(FileReadError) {
        guard geteuid() == 0 else { return }
        var wanted = stat()
        var current = stat()
        guard stat(reference, &wanted) == 0, stat(path, &current) == 0 else { return }
        guard current.st_uid != wanted.st_uid || current.st_gid != wanted.st_gid else { return }
        guard chown(path, wanted.st_uid, wanted.st_gid) == 0 else {
            throw FileReadError(
                file: path, reason: "cannot give it to the owner of \(reference): \(String(cString: strerror(errno)))")
        }
    }

    /// `match(path, like:)` the file `path` replaces when there is one, else its folder.
    public static func matchReplaced(_ path: String, replacing old: String) throws(FileReadError) {
        let reference =
            FileManager.default.fileExists(atPath: old) ? old : URL(fileURLWithPath: old).deletingLastPathComponent().path
        try match(path, like: reference)
    }
}

import Foundation

/// The file a queue connection is on, watched so that the store notices when it vanishes while
/// hookgate runs (a data folder deleted or a volume swapped by hand): otherwise every webhook would
/// be answered `queued` into a deleted file, and lost at the next start.
///
/// Before each batch its connection's thread asks ``follow(_:)``, a `stat` of the path:
/// - the writer, finding the file gone, copies everything its open connection still sees (the
///   deleted file stays readable through it) into a new file at the path (`VACUUM INTO`), and
///   carries on there, pending deliveries included;
/// - the writer, finding another file in its place, refuses writes (503, `/readyz` not ready)
///   rather than mix two queues: a restart opens the new one;
/// - the reader reopens once a new file is in place.
struct QueueFile {
    enum Role {
        case writer
        case reader
    }

    let path: String
    let role: Role
    /// Opens a connection on `path` with the queue's settings.
    let open: (String) throws -> SQLiteDatabase
    /// Told what happened when the file was followed.
    let report: @Sendable (String) -> Void
    /// Device and inode of the file the connection is on.
    private var known: Identity?
    /// When the path is next compared by identity; until then only its presence is checked.
    private var nextIdentityCheck = ContinuousClock.now

    init(path: String, role: Role, open: @escaping (String) throws -> SQLiteDatabase, report: @escaping @Sendable (String) -> Void) {
        self.path = path
        self.role = role
        self.open = open
        self.report = report
        known = Self.identity(of: path)
    }

    struct Identity: Equatable {
        var device: UInt64
        var inode: UInt64
    }

    static func identity(of path: String) -> Identity? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let device = (attributes[.systemNumber] as? NSNumber)?.uint64Value,
              let inode = (attributes[.systemFileNumber] as? NSNumber)?.uint64Value
        else { return nil }
        return Identity(device: device, inode: inode)
    }

    /// A new connection to use instead of `database` (which it has closed), or nil to keep it.
    ///
    /// A vanished file is seen at the next batch (a `stat`, cheap); a replaced one within a
    /// second (Foundation's attributes, which also look up the owner's name, cost more).
    mutating func follow(_ database: SQLiteDatabase) throws -> SQLiteDatabase? {
        let now = ContinuousClock.now
        guard !FileManager.default.fileExists(atPath: path) || now >= nextIdentityCheck else { return nil }
        nextIdentityCheck = now + .seconds(1)
        let current = Self.identity(of: path)
        guard current != known else { return nil }
        switch role {
        case .reader:
            guard let current else { return nil }  // the writer puts a file back
            database.close()
            known = current
            return try open(path)
        case .writer:
            guard current == nil else {
                throw StoreError("the queue's file \(path) was replaced by another while hookgate runs; restart hookgate to use it")
            }
            let copy = path + ".recovering"
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            unlink(copy)
            try database.query("VACUUM INTO ?", [.text(copy)])
            database.close()
            for suffix in ["-wal", "-shm"] { unlink(path + suffix) }
            guard rename(copy, path) == 0 else {
                throw StoreError("cannot put the queue back at \(path): \(String(cString: strerror(errno)))")
            }
            known = Self.identity(of: path)
            report("the queue's file \(path) was deleted while hookgate runs; what it held, pending deliveries included, was copied to a new file there")
            return try open(path)
        }
    }
}

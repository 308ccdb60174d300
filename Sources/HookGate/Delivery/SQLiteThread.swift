import Foundation

/// Runs all work on one ``SQLiteDatabase`` on a thread of its own, with group commit.
///
/// Callers hand over closures and await them. The thread takes everything that has arrived, runs
/// the reads, then runs every write in one transaction (`BEGIN IMMEDIATE` … `COMMIT`, one sync to
/// disk) and only then resumes the writers. Reads that arrive during a commit run before the next
/// batch, so a steady stream of writes cannot starve the worker's reads. A webhook therefore costs
/// two thread hops (there and back), however many statements its write runs; through sqlite-nio
/// every statement was a hop to its thread pool and back, and most of the queued path's CPU time
/// went to waking threads.
final class SQLiteThread: @unchecked Sendable {
    // @unchecked: `database` and `file` are touched only on `thread`; everything else is guarded
    // by `condition`.
    private var database: SQLiteDatabase
    /// The file the connection is on, checked before each batch (nil: not watched).
    private var file: QueueFile?
    private let condition = NSCondition()
    private var reads: [Job] = []
    private var writes: [Write] = []
    private var closing: [CheckedContinuation<Void, Never>] = []
    private var closed = false
    private var thread: Thread?

    private typealias Job = (SQLiteDatabase) -> Void

    private struct Write {
        /// Runs the write inside the shared transaction; returns how to resume its caller once committed.
        let run: (SQLiteDatabase) throws -> @Sendable () -> Void
        let fail: @Sendable (any Error) -> Void
        /// Whether its commit must be on disk before it counts (`write`), or may reach the disk
        /// with a later sync (`writeLater`).
        let durable: Bool
        /// A readiness probe: its success alone does not prove the queue writable (a small row
        /// may fit where a webhook's does not).
        var probe = false
    }

    /// Whether commits are synced to disk now (`PRAGMA synchronous` FULL, as the database is
    /// opened) or left to the next sync (NORMAL; safe from corruption in WAL mode). A batch of
    /// `writeLater` records alone is committed without a sync of its own.
    private var syncingCommits = true

    /// Called on the database thread when a batch fails after the last one committed (once per
    /// run of failures, so a broken disk is logged once, not per batch).
    private let startedFailing: @Sendable (any Error) -> Void
    private var failing = false
    /// When a batch last failed to commit.
    private var lastFailure: ContinuousClock.Instant?

    init(database: SQLiteDatabase, file: QueueFile? = nil, name: String, startedFailing: @escaping @Sendable (any Error) -> Void) {
        self.database = database
        self.file = file
        self.startedFailing = startedFailing
        let thread = Thread { [self] in loop() }
        thread.name = name
        self.thread = thread
        thread.start()
    }

    /// False after a batch failed to commit, until one commits.
    var isWritable: Bool {
        condition.lock()
        defer { condition.unlock() }
        return !failing
    }

    /// Whether a batch failed to commit within `interval` (a full disk fails the webhooks' writes
    /// while a small write may still fit in a page already allocated).
    func failed(within interval: Duration) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard let lastFailure else { return false }
        return ContinuousClock.now - lastFailure < interval
    }

    /// Runs `operation` alone (not in a write batch), in order with the other work.
    func read<T: Sendable>(_ operation: @escaping @Sendable (SQLiteDatabase) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let accepted = submit { reads.append { database in continuation.resume(with: Result { try operation(database) }) } }
            if !accepted { continuation.resume(throwing: SQLiteFailure.closed) }
        }
    }

    /// Runs `operation` in the next shared transaction and returns its result once that is committed:
    /// synced to disk when `durable`, else as ``writeLater(_:settled:)`` commits. `committed` runs
    /// on this thread right after the commit, before anything else reads the database.
    func write<T: Sendable>(
        probe: Bool = false, durable: Bool = true, _ operation: @escaping @Sendable (SQLiteDatabase) throws -> T,
        committed: (@Sendable (T) -> Void)? = nil
    ) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let accepted = submit {
                writes.append(Write(
                    run: { database in
                        let value = try operation(database)
                        return {
                            committed?(value)
                            continuation.resume(returning: value)
                        }
                    },
                    fail: { continuation.resume(throwing: $0) },
                    durable: durable, probe: probe))
            }
            if !accepted { continuation.resume(throwing: SQLiteFailure.closed) }
        }
    }

    /// Runs `operation` in the next shared transaction without waiting for it; `settled` hears
    /// that it was committed (nil) or failed (the operation's or the commit's error, or that the
    /// database was closed). Its commit is not synced to disk unless the batch also holds a
    /// `write`: a crash (of the machine, not the process) may lose it.
    func writeLater(_ operation: @escaping @Sendable (SQLiteDatabase) throws -> Void, settled: @escaping @Sendable ((any Error)?) -> Void) {
        let accepted = submit {
            writes.append(Write(run: { database in
                try operation(database)
                return { settled(nil) }
            }, fail: { settled($0) }, durable: false))
        }
        if !accepted { settled(SQLiteFailure.closed) }
    }

    /// Finishes the work already handed over, then closes the database and ends the thread.
    func close() async {
        await withCheckedContinuation { continuation in
            condition.lock()
            defer { condition.unlock() }
            if closed && thread == nil {
                continuation.resume()
                return
            }
            closed = true
            closing.append(continuation)
            condition.signal()
        }
    }

    /// Adds work unless the thread is closing; false when it is.
    private func submit(_ add: () -> Void) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !closed else { return false }
        add()
        condition.signal()
        return true
    }

    private func loop() {
        while true {
            condition.lock()
            while reads.isEmpty && writes.isEmpty && !closed { condition.wait() }
            let (batchReads, batchWrites) = (reads, writes)
            reads = []
            writes = []
            let finished = closed && batchReads.isEmpty && batchWrites.isEmpty
            condition.unlock()

            if finished { break }
            let fileProblem = followFile()
            for read in batchReads { read(database) }
            if !batchWrites.isEmpty {
                if let fileProblem {
                    fail(batchWrites, fileProblem)
                } else {
                    commit(batchWrites)
                }
            }
        }
        database.close()
        condition.lock()
        thread = nil
        let waiting = closing
        closing = []
        condition.unlock()
        for continuation in waiting { continuation.resume() }
    }

    private func commit(_ batch: [Write]) {
        do {
            let durable = batch.contains { $0.durable }
            if durable != syncingCommits {
                try database.query(durable ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL")
                syncingCommits = durable
            }
            try database.query("BEGIN IMMEDIATE")
            var resumes: [@Sendable () -> Void] = []
            resumes.reserveCapacity(batch.count)
            do {
                for write in batch { resumes.append(try write.run(database)) }
                try database.query("COMMIT")
            } catch {
                _ = try? database.query("ROLLBACK")
                throw error
            }
            setFailing(false, provenWritable: batch.contains { !$0.probe })
            for resume in resumes { resume() }
        } catch {
            fail(batch, error)
        }
    }

    private func fail(_ batch: [Write], _ error: any Error) {
        if setFailing(true) { startedFailing(error) }
        for write in batch { write.fail(error) }
    }

    /// Checks that the connection's file is still the one on disk, and follows it when it is not
    /// (``QueueFile/follow(_:)``); the error, when writes must be refused.
    private func followFile() -> (any Error)? {
        guard var watched = file else { return nil }
        defer { file = watched }
        do {
            if let reopened = try watched.follow(database) {
                database = reopened
                syncingCommits = true
            }
            return nil
        } catch {
            return error
        }
    }

    /// Records whether the last batch failed; true when that changed from committing to failing.
    @discardableResult
    private func setFailing(_ value: Bool, provenWritable: Bool = false) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        let started = value && !failing
        failing = value
        if value { lastFailure = .now }
        if provenWritable { lastFailure = nil }
        return started
    }
}

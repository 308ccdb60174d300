import Foundation
import Logging
import NIOCore
import SQLiteNIO

/// The durable queue in SQLite: the only code that touches the database.
///
/// Every write goes through group commit: writes that arrive while a transaction is being
/// committed wait and share the next one, so many concurrent webhooks pay for one sync to disk.
/// The database runs in WAL mode with `synchronous=FULL`, so a write has returned only once it
/// is durable.
public actor DeliveryStore {
    private let connection: SQLiteConnection
    private let logger: Logger
    private var pendingWrites: [PendingWrite] = []
    private var flushing = false
    private var locked = false
    private var lockWaiters: [CheckedContinuation<Void, Never>] = []
    /// False after a write failed, until one succeeds; `/readyz` reports it.
    public private(set) var isWritable = true

    /// How long a write waits for another process's lock (the `deliveries` command).
    static let busyTimeoutMilliseconds = 2000
    public static let fileName = "hookgate.sqlite"

    private struct PendingWrite {
        let run: @Sendable (SQLiteConnection) async throws -> Void
        let finish: @Sendable ((any Error)?) -> Void
    }

    private init(connection: SQLiteConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// Opens (creating if needed) the queue in `directory`.
    public static func open(directory: String, logger: Logger) async throws(StoreError) -> DeliveryStore {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw StoreError("cannot create the data folder \(directory): \(error.localizedDescription)")
        }
        let path = (directory as NSString).appendingPathComponent(fileName)
        do {
            let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
            for statement in [
                "PRAGMA busy_timeout = \(busyTimeoutMilliseconds)",
                "PRAGMA journal_mode = WAL",
                "PRAGMA synchronous = FULL",
                """
                CREATE TABLE IF NOT EXISTS deliveries (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    endpoint TEXT NOT NULL,
                    source TEXT NOT NULL,
                    delivery_id TEXT,
                    target TEXT NOT NULL,
                    notifier TEXT NOT NULL,
                    events TEXT NOT NULL,
                    state TEXT NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    created_at REAL NOT NULL,
                    next_attempt_at REAL NOT NULL,
                    updated_at REAL NOT NULL,
                    last_error TEXT,
                    merge_key TEXT
                )
                """,
                "CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (state, target, next_attempt_at, id)",
                "CREATE TABLE IF NOT EXISTS seen (key TEXT PRIMARY KEY, seen_at REAL NOT NULL)",
                "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)",
            ] {
                _ = try await connection.query(statement, [])
            }
            // Queues made before notifications could be merged lack the column.
            let columns = try await connection.query("PRAGMA table_info(deliveries)", []).compactMap { $0.column("name")?.string }
            if !columns.contains("merge_key") {
                _ = try await connection.query("ALTER TABLE deliveries ADD COLUMN merge_key TEXT", [])
            }
            return DeliveryStore(connection: connection, logger: logger)
        } catch {
            throw StoreError("cannot open the queue \(path): \(error)")
        }
    }

    public func close() async {
        try? await connection.close()
    }

    // MARK: Writes

    /// Queues `deliveries` in one durable transaction, unless `dedupeKey` was seen within `window`.
    ///
    /// A delivery with a merge key is merged into a pending one of the same target and key whose
    /// next attempt is still ahead (more than ``mergeMargin`` away): that row is not being
    /// delivered now, since the worker only takes rows that are due, so when it is delivered it
    /// is after this delivery arrived, and its refresh covers both.
    /// - Returns: for each delivery, the row that carries it; nil for a duplicate.
    public func enqueue(_ deliveries: [NewDelivery], dedupeKey: String?, window: Duration, now: Date = Date()) async throws(StoreError) -> [Enqueued]? {
        let rows = try encode(deliveries)
        let mergeKeys = deliveries.map(\.mergeKey)
        let targets = deliveries.map(\.target)
        return try await write { connection in
            if let dedupeKey, try await !Self.claim(dedupeKey, window: window, now: now, on: connection) { return nil }
            var enqueued: [Enqueued] = []
            for (index, row) in rows.enumerated() {
                let times: [SQLiteData] = [.float(now.timeIntervalSince1970), .float(now.timeIntervalSince1970), .float(now.timeIntervalSince1970)]
                guard let mergeKey = mergeKeys[index] else {
                    let inserted = try await connection.query(
                        """
                        INSERT INTO deliveries (endpoint, source, delivery_id, target, notifier, events, state, attempts, created_at, next_attempt_at, updated_at, merge_key)
                        VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?, NULL) RETURNING id
                        """, row + times)
                    enqueued.append(Enqueued(id: Int(inserted.first?.column("id")?.integer ?? 0), merged: false))
                    continue
                }
                // One statement in the usual case (nothing to merge into): the insert happens only
                // when no identical refresh is waiting for a retry; only a merge asks which row it was.
                let waiting: [SQLiteData] = [.text(targets[index]), .float(now.timeIntervalSince1970 + Self.mergeMargin.seconds), .text(mergeKey)]
                let inserted = try await connection.query(
                    """
                    INSERT INTO deliveries (endpoint, source, delivery_id, target, notifier, events, state, attempts, created_at, next_attempt_at, updated_at, merge_key)
                    SELECT ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?
                    WHERE NOT EXISTS (\(Self.waitingRow)) RETURNING id
                    """, row + times + [.text(mergeKey)] + waiting)
                if let id = inserted.first?.column("id")?.integer {
                    enqueued.append(Enqueued(id: id, merged: false))
                    continue
                }
                let pending = try await connection.query(Self.waitingRow, waiting)
                guard let id = pending.first?.column("id")?.integer else { throw StoreError("a refresh was neither queued nor merged") }
                enqueued.append(Enqueued(id: id, merged: true))
            }
            return enqueued
        }
    }

    /// The oldest pending row of a target with a merge key whose next attempt is still ahead: binds
    /// the target, the earliest next attempt that counts as waiting, and the merge key.
    private static let waitingRow =
        "SELECT id FROM deliveries WHERE state = 'pending' AND target = ? AND next_attempt_at > ? AND merge_key = ? ORDER BY id LIMIT 1"

    /// How far ahead a pending row's next attempt must be for a new delivery to merge into it,
    /// so that a clock step cannot make a row being delivered look like one waiting.
    static let mergeMargin: Duration = .seconds(1)

    /// Records a delivery made while the sender waited: delivered, or failed with its error.
    /// A success also claims `dedupeKey`, so a redelivery of the same webhook is a duplicate.
    public func recordAttempt(_ delivery: NewDelivery, error: String?, dedupeKey: String?, window: Duration, now: Date = Date()) async throws(StoreError) {
        let row = try encode([delivery])[0]
        try await write { connection in
            if error == nil, let dedupeKey { _ = try await Self.claim(dedupeKey, window: window, now: now, on: connection) }
            _ = try await connection.query(
                """
                INSERT INTO deliveries (endpoint, source, delivery_id, target, notifier, events, state, attempts, created_at, next_attempt_at, updated_at, last_error)
                VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)
                """,
                row + [.text(error == nil ? "delivered" : "failed"), .float(now.timeIntervalSince1970), .float(now.timeIntervalSince1970),
                       .float(now.timeIntervalSince1970), error.map(SQLiteData.text) ?? .null])
        }
    }

    /// Marks queued deliveries delivered, all in one statement.
    public func markDelivered(_ ids: [Int], now: Date = Date()) async throws(StoreError) {
        guard !ids.isEmpty else { return }
        let marks = ids.map { _ in "?" }.joined(separator: ", ")
        try await write { connection in
            _ = try await connection.query(
                "UPDATE deliveries SET state = 'delivered', attempts = attempts + 1, updated_at = ? WHERE id IN (\(marks))",
                [.float(now.timeIntervalSince1970)] + ids.map { .integer($0) })
        }
    }

    /// Makes a queued delivery a dead letter.
    public func markFailed(_ id: Int, attempts: Int, error: String, now: Date = Date()) async throws(StoreError) {
        try await update(id, state: .failed, attempts: attempts, next: now, error: error, now: now)
    }

    /// Schedules the next attempt of a queued delivery.
    public func reschedule(_ id: Int, attempts: Int, next: Date, error: String, now: Date = Date()) async throws(StoreError) {
        try await update(id, state: .pending, attempts: attempts, next: next, error: error, now: now)
    }

    private func update(_ id: Int, state: StoredDelivery.State, attempts: Int, next: Date, error: String?, now: Date) async throws(StoreError) {
        try await write { connection in
            _ = try await connection.query(
                "UPDATE deliveries SET state = ?, attempts = ?, next_attempt_at = ?, updated_at = ?, last_error = COALESCE(?, last_error) WHERE id = ?",
                [.text(state.rawValue), .integer(attempts), .float(next.timeIntervalSince1970), .float(now.timeIntervalSince1970),
                 error.map(SQLiteData.text) ?? .null, .integer(id)])
        }
    }

    /// Puts a dead letter (or, with `id` nil, every dead letter) back in the queue, due now.
    /// - Returns: how many were requeued.
    public func retry(id: Int?, now: Date = Date()) async throws(StoreError) -> Int {
        try await write { connection in
            let rows = try await connection.query(
                "UPDATE deliveries SET state = 'pending', next_attempt_at = ?, updated_at = ? WHERE state = 'failed'\(id == nil ? "" : " AND id = ?") RETURNING id",
                [.float(now.timeIntervalSince1970), .float(now.timeIntervalSince1970)] + (id.map { [SQLiteData.integer($0)] } ?? []))
            return rows.count
        }
    }

    /// Deletes delivered rows (and dead letters too when `failed`), and expired duplicate keys.
    public func purge(failed: Bool, seenBefore: Date) async throws(StoreError) -> Int {
        try await write { connection in
            let rows = try await connection.query(
                "DELETE FROM deliveries WHERE state = 'delivered'\(failed ? " OR state = 'failed'" : "") RETURNING id", [])
            _ = try await connection.query("DELETE FROM seen WHERE seen_at < ?", [.float(seenBefore.timeIntervalSince1970)])
            return rows.count
        }
    }

    /// Forgets duplicate keys older than the window.
    public func pruneSeen(before: Date) async throws(StoreError) {
        try await write { connection in
            _ = try await connection.query("DELETE FROM seen WHERE seen_at < ?", [.float(before.timeIntervalSince1970)])
        }
    }

    /// A small durable write, to prove the queue can be written (`/readyz`).
    public func probe(now: Date = Date()) async throws(StoreError) {
        try await write { connection in
            _ = try await connection.query("INSERT OR REPLACE INTO meta (key, value) VALUES ('probe', ?)", [.text("\(now.timeIntervalSince1970)")])
        }
    }

    /// Inserts `key` or refreshes it when older than the window; false when it is a duplicate.
    private static func claim(_ key: String, window: Duration, now: Date, on connection: SQLiteConnection) async throws -> Bool {
        let cutoff = now.timeIntervalSince1970 - window.seconds
        let claimed = try await connection.query(
            "INSERT INTO seen (key, seen_at) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET seen_at = excluded.seen_at WHERE seen.seen_at < ? RETURNING key",
            [.text(key), .float(now.timeIntervalSince1970), .float(cutoff)])
        return !claimed.isEmpty
    }

    // MARK: Reads

    /// Is `key` a delivery already handled within `window`?
    public func isDuplicate(_ key: String, window: Duration, now: Date = Date()) async throws(StoreError) -> Bool {
        try await read { connection in
            let rows = try await connection.query("SELECT 1 FROM seen WHERE key = ? AND seen_at >= ?", [.text(key), .float(now.timeIntervalSince1970 - window.seconds)])
            return !rows.isEmpty
        }
    }

    /// The oldest pending deliveries of `target` that are due, in queue order.
    public func due(target: String, limit: Int, now: Date = Date()) async throws(StoreError) -> [StoredDelivery] {
        try await select(
            "WHERE state = 'pending' AND target = ? AND next_attempt_at <= ? ORDER BY id LIMIT ?",
            [.text(target), .float(now.timeIntervalSince1970), .integer(limit)])
    }

    /// Pending deliveries per target.
    public func pendingSummary() async throws(StoreError) -> [TargetSummary] {
        try await read { connection in
            try await connection.query(
                "SELECT target, COUNT(*) AS n, MIN(created_at) AS oldest, MIN(next_attempt_at) AS next FROM deliveries WHERE state = 'pending' GROUP BY target ORDER BY target",
                []
            ).map { row in
                TargetSummary(
                    target: row.column("target")?.string ?? "", pending: Int(row.column("n")?.integer ?? 0),
                    oldestCreatedAt: Date(timeIntervalSince1970: row.column("oldest")?.double ?? 0),
                    nextAttemptAt: Date(timeIntervalSince1970: row.column("next")?.double ?? 0))
            }
        }
    }

    /// Deliveries in `states`, newest first.
    public func list(states: [StoredDelivery.State], limit: Int) async throws(StoreError) -> [StoredDelivery] {
        let marks = states.map { _ in "?" }.joined(separator: ", ")
        return try await select("WHERE state IN (\(marks)) ORDER BY id DESC LIMIT ?", states.map { .text($0.rawValue) } + [.integer(limit)])
    }

    /// Counts per state.
    public func counts() async throws(StoreError) -> [StoredDelivery.State: Int] {
        try await read { connection in
            var counts: [StoredDelivery.State: Int] = [:]
            for row in try await connection.query("SELECT state, COUNT(*) AS n FROM deliveries GROUP BY state", []) {
                if let state = row.column("state")?.string.flatMap(StoredDelivery.State.init(rawValue:)) {
                    counts[state] = Int(row.column("n")?.integer ?? 0)
                }
            }
            return counts
        }
    }

    private func select(_ clause: String, _ binds: [SQLiteData]) async throws(StoreError) -> [StoredDelivery] {
        try await read { connection in
            try await connection.query(
                "SELECT id, endpoint, source, delivery_id, target, notifier, events, state, attempts, created_at, next_attempt_at, updated_at, last_error FROM deliveries " + clause,
                binds
            ).map(Self.decode)
        }
    }

    private static func decode(_ row: SQLiteRow) throws -> StoredDelivery {
        let events = try JSONDecoder().decode([HookEvent].self, from: Data((row.column("events")?.string ?? "[]").utf8))
        return StoredDelivery(
            id: Int(row.column("id")?.integer ?? 0),
            endpoint: row.column("endpoint")?.string ?? "",
            source: row.column("source")?.string ?? "",
            deliveryID: row.column("delivery_id")?.string,
            target: row.column("target")?.string ?? "",
            notifier: row.column("notifier")?.string ?? "",
            events: events,
            state: row.column("state")?.string.flatMap(StoredDelivery.State.init(rawValue:)) ?? .pending,
            attempts: Int(row.column("attempts")?.integer ?? 0),
            createdAt: Date(timeIntervalSince1970: row.column("created_at")?.double ?? 0),
            nextAttemptAt: Date(timeIntervalSince1970: row.column("next_attempt_at")?.double ?? 0),
            updatedAt: Date(timeIntervalSince1970: row.column("updated_at")?.double ?? 0),
            lastError: row.column("last_error")?.string)
    }

    private func encode(_ deliveries: [NewDelivery]) throws(StoreError) -> [[SQLiteData]] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try deliveries.map { delivery throws(StoreError) in
            guard let events = try? encoder.encode(delivery.events) else { throw StoreError("cannot encode the events of \(delivery.endpoint)") }
            return [.text(delivery.endpoint), .text(delivery.source), delivery.deliveryID.map(SQLiteData.text) ?? .null,
                    .text(delivery.target), .text(delivery.notifier), .text(String(decoding: events, as: UTF8.self))]
        }
    }

    // MARK: Group commit

    /// Runs `operation` inside the next shared transaction and returns once it is committed.
    private func write<T: Sendable>(_ operation: @escaping @Sendable (SQLiteConnection) async throws -> T) async throws(StoreError) -> T {
        let box = ResultBox<T>()
        do {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                pendingWrites.append(PendingWrite(
                    run: { connection in box.set(try await operation(connection)) },
                    finish: { error in
                        if let error { continuation.resume(throwing: error) } else { continuation.resume() }
                    }))
                if !flushing {
                    flushing = true
                    Task { await self.flush() }
                }
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError("\(error)")
        }
        guard let value = box.get() else { throw StoreError("the write produced no result") }
        return value
    }

    /// Commits queued writes in batches until none are left.
    private func flush() async {
        await lock()
        while !pendingWrites.isEmpty {
            let batch = pendingWrites
            pendingWrites = []
            do {
                _ = try await connection.query("BEGIN IMMEDIATE", [])
                do {
                    for write in batch { try await write.run(connection) }
                    _ = try await connection.query("COMMIT", [])
                } catch {
                    _ = try? await connection.query("ROLLBACK", [])
                    throw error
                }
                isWritable = true
                for write in batch { write.finish(nil) }
            } catch {
                if isWritable { logger.error("the delivery queue cannot be written", metadata: ["queue.error": "\(error)"]) }
                isWritable = false
                let failure = StoreError("the delivery queue cannot be written: \(error)")
                for write in batch { write.finish(failure) }
            }
        }
        flushing = false
        unlock()
    }

    private func read<T: Sendable>(_ operation: (SQLiteConnection) async throws -> T) async throws(StoreError) -> T {
        await lock()
        defer { unlock() }
        do {
            return try await operation(connection)
        } catch {
            throw StoreError("the delivery queue cannot be read: \(error)")
        }
    }

    /// Serializes transactions and reads on the one connection (the actor alone does not: it
    /// interleaves at every `await`).
    private func lock() async {
        guard locked else {
            locked = true
            return
        }
        await withCheckedContinuation { lockWaiters.append($0) }
    }

    private func unlock() {
        if lockWaiters.isEmpty {
            locked = false
        } else {
            lockWaiters.removeFirst().resume()
        }
    }
}

/// Carries a write's result out of the transaction.
private final class ResultBox<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: T?
    func set(_ value: T) { lock.withLock { self.value = value } }
    func get() -> T? { lock.withLock { value } }
}

extension Duration {
    /// Seconds as a `Double`.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

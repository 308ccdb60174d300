import Foundation
import Logging
import NIOCore
import Synchronization

/// The durable queue in SQLite: the only code that touches the database.
///
/// Every write goes through group commit (``SQLiteThread``): writes that arrive while a
/// transaction is being committed wait and share the next one, so many concurrent webhooks pay for
/// one sync to disk. The database runs in WAL mode with `synchronous=FULL`, so a write has returned
/// only once it is durable.
public final class DeliveryStore: Sendable {
    /// Every write, and the worker's `due` reads (they must be ordered with the merges).
    private let database: SQLiteThread
    /// A second connection for the other reads: in WAL mode it sees the last commit and never
    /// waits for one in progress, so a sync delivery's duplicate check does not wait for a sync
    /// to disk.
    private let reader: SQLiteThread
    /// Per target, the highest row id the worker has read with ``due(target:limit:now:)``: a pending
    /// row above it has not been handed out, so nothing is delivering it yet. Touched only on the
    /// database thread (the Mutex only makes that checkable).
    private let handedOut = Mutex<[String: Int]>([:])
    /// Duplicate keys of sync deliveries whose record is not committed yet (see ``recordAttempt``).
    private let unrecorded = Mutex<[String: Int]>([:])
    /// Requests to forward, from their commit until every backend has them.
    let requests = RequestCache(budget: DeliveryStore.requestCacheBudget)
    /// 2 MiB: 250 GitHub pushes, more than the worker has in flight, while the process stays
    /// under 60 MB (8 MiB took peak RSS under load from 54 to 64 MiB).
    static let requestCacheBudget = 2 << 20

    /// False after a write failed, until one succeeds; `/readyz` reports it.
    public var isWritable: Bool { database.isWritable }

    /// How long a write waits for another process's lock (the `deliveries` command).
    static let busyTimeoutMilliseconds = 2000
    public static let fileName = "hookgate.sqlite"

    /// The backends added through the admin API, by group, as the queue held them when opened.
    public let savedBackends: [String: [String]]

    private init(database: SQLiteDatabase, reader: SQLiteDatabase, path: String, savedBackends: [String: [String]], logger: Logger) {
        self.savedBackends = savedBackends
        let report: @Sendable (String) -> Void = { message in logger.error("\(message)") }
        self.database = SQLiteThread(
            database: database, file: QueueFile(path: path, role: .writer, open: Self.connect, report: report), name: "hookgate-queue"
        ) { error in
            logger.error("the delivery queue cannot be written", metadata: ["queue.error": "\(error)"])
        }
        self.reader = SQLiteThread(
            database: reader, file: QueueFile(path: path, role: .reader, open: Self.connect, report: report), name: "hookgate-queue-read") { _ in }
    }

    /// How long after a failed write `/readyz` still says the queue cannot be written.
    public static let failureMemory: Duration = .seconds(30)

    /// Whether a write failed within ``failureMemory`` and no write but a probe succeeded since.
    public var failedRecently: Bool { database.failed(within: Self.failureMemory) }

    /// A connection to the queue at `path`, in WAL mode with durable commits.
    private static func connect(_ path: String) throws -> SQLiteDatabase {
        let database = try SQLiteDatabase(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
        try database.query("PRAGMA journal_mode = WAL")
        try database.query("PRAGMA synchronous = FULL")
        return database
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
            let database = try connect(path)
            for statement in [
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
                "CREATE TABLE IF NOT EXISTS seen (key TEXT PRIMARY KEY, seen_at REAL NOT NULL)",
                "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)",
                // Requests the `forward` action passes on, each stored once for all its deliveries.
                "CREATE TABLE IF NOT EXISTS requests (id INTEGER PRIMARY KEY AUTOINCREMENT, head TEXT NOT NULL, body BLOB NOT NULL)",
                "CREATE TABLE IF NOT EXISTS paused (target TEXT PRIMARY KEY, failures INTEGER NOT NULL, since REAL NOT NULL, probe_at REAL NOT NULL)",
                // Backends added through the admin API, by group.
                "CREATE TABLE IF NOT EXISTS backends (grp TEXT NOT NULL, url TEXT NOT NULL, added_at REAL NOT NULL, PRIMARY KEY (grp, url))",
            ] {
                try database.query(statement)
            }
            // Queues made before notifications could be merged lack the column.
            let columns = try database.query("PRAGMA table_info(deliveries)").compactMap { $0["name"].text }
            if !columns.contains("merge_key") {
                try database.query("ALTER TABLE deliveries ADD COLUMN merge_key TEXT")
            }
            if !columns.contains("request_id") {
                try database.query("ALTER TABLE deliveries ADD COLUMN request_id INTEGER")
            }
            try database.query("CREATE INDEX IF NOT EXISTS deliveries_request ON deliveries (request_id) WHERE request_id IS NOT NULL")
            // The worker's `due` walks a target's pending rows in queue order and stops at its
            // limit; through `deliveries_due` it had to sort every due row first, which made each
            // read cost the whole backlog (docs/performance.md).
            try database.query("CREATE INDEX IF NOT EXISTS deliveries_pending ON deliveries (target, id) WHERE state = 'pending'")
            // Every query `deliveries_due` served, `deliveries_pending` serves, and each index is
            // written at every insert and change of state.
            try database.query("DROP INDEX IF EXISTS deliveries_due")
            // Not a partial index (`WHERE merge_key IS NOT NULL`): proving that a query with
            // `merge_key = ?` may use one makes SQLite re-prepare the statement at every new binding.
            try database.query("CREATE INDEX IF NOT EXISTS deliveries_merge ON deliveries (target, merge_key, state)")
            try redactCredentials(in: database)
            var saved: [String: [String]] = [:]
            for row in try database.query("SELECT grp, url FROM backends ORDER BY added_at, url") {
                saved[row["grp"].text ?? "", default: []].append(row["url"].text ?? "")
            }
            let reader = try SQLiteDatabase(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
            return DeliveryStore(database: database, reader: reader, path: path, savedBackends: saved, logger: logger)
        } catch {
            throw StoreError("cannot open the queue \(path): \(error)")
        }
    }

    /// Rows written before targets were redacted may name a downstream with its password
    /// (`flux-api http://user:pass@…`): rewrite them as the notifiers now name themselves.
    private static func redactCredentials(in database: SQLiteDatabase) throws {
        for row in try database.query("SELECT id, target, last_error FROM deliveries WHERE target LIKE '%://%@%' OR last_error LIKE '%://%@%'") {
            let target = row["target"].text ?? "", error = row["last_error"].text
            try database.query(
                "UPDATE deliveries SET target = ?, last_error = ? WHERE id = ?",
                [.text(CredentialedURL.redactingCredentials(in: target)), SQLValue(error.map { CredentialedURL.redactingCredentials(in: $0) }),
                 .integer(row["id"].integer ?? 0)])
        }
    }

    public func close() async {
        await database.close()
        await reader.close()
    }

    // MARK: Writes

    /// Queues `deliveries` in one durable transaction, unless one of `dedupeKeys` was seen within
    /// `window`; otherwise claims them all.
    ///
    /// A delivery with a merge key is merged into a pending one of the same target and key that
    /// nothing is delivering now: one the worker has not read yet, or one whose next attempt is
    /// still ahead (more than ``mergeMargin`` away). Either way that row is delivered after this
    /// delivery arrived, and its refresh covers both.
    /// - Returns: for each delivery, the row that carries it; nil for a duplicate.
    public func enqueue(_ deliveries: [NewDelivery], dedupeKeys: [String], window: Duration, now: Date = Date()) async throws(StoreError) -> [Enqueued]? {
        let rows = encode(deliveries)
        let forwarded = deliveries.first { $0.request != nil }?.request
        let written: (rows: [Enqueued], request: Int?)? = try await write { database in
            guard try Self.claim(dedupeKeys, window: window, now: now, in: database) else { return nil }
            let time = SQLValue.real(now.timeIntervalSince1970)
            let request = try forwarded.map { try Self.store($0, in: database) }
            var enqueued: [Enqueued] = []
            for (delivery, row) in zip(deliveries, rows) {
                if let mergeKey = delivery.mergeKey {
                    let waiting = try database.query(
                        "SELECT id FROM deliveries WHERE target = ? AND merge_key = ? AND state = 'pending' AND (id > ? OR next_attempt_at > ?) ORDER BY id LIMIT 1",
                        [.text(delivery.target), .text(mergeKey), .integer(self.lastHandedOut(delivery.target)),
                         .real(now.timeIntervalSince1970 + Self.mergeMargin.seconds)])
                    if let id = waiting.first?["id"].integer {
                        enqueued.append(Enqueued(id: id, merged: true))
                        continue
                    }
                }
                let inserted = try database.query(
                    """
                    INSERT INTO deliveries (endpoint, source, delivery_id, target, notifier, events, state, attempts, created_at, next_attempt_at, updated_at, merge_key, request_id)
                    VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?, ?) RETURNING id
                    """, row + [time, time, time, SQLValue(delivery.mergeKey), delivery.request == nil ? .null : (request.map { .integer($0) } ?? .null)])
                guard let id = inserted.first?["id"].integer else { throw StoreError("the queue gave no id for a new row") }
                enqueued.append(Enqueued(id: id, merged: false))
            }
            return (enqueued, request)
        } committed: { [requests] written in
            // Only once committed (a rolled-back id may be given out again), and before the
            // worker can read the rows, deliver them and forget the request.
            if let id = written?.request, let forwarded { requests.admit(id, forwarded) }
        }
        return written?.rows
    }

    /// How far ahead a pending row's next attempt must be for a new delivery to merge into it,
    /// so that a clock step cannot make a row being delivered look like one waiting.
    static let mergeMargin: Duration = .seconds(1)

    /// Records a delivery made while the sender waited: delivered, or failed with its error.
    /// A success also claims `dedupeKeys`, so a redelivery of the same webhook is a duplicate.
    ///
    /// It does not wait for the commit, and the commit is not synced to disk on its own: the
    /// notification has already happened, so the sender's answer does not depend on this record.
    /// Should the process die before the commit (or the machine before the next sync), a
    /// redelivery notifies again (at least once).
    public func recordAttempt(
        _ delivery: NewDelivery, error: String?, dedupeKeys: [String], window: Duration, now: Date = Date(),
        failed: @escaping @Sendable (StoreError) -> Void
    ) {
        let row = encode([delivery])[0]
        // Until the claim is committed, ``isDuplicate`` finds the keys here, so a replay that
        // arrives right after this answer is still a duplicate.
        let claimed = error == nil ? dedupeKeys : []
        unrecorded.withLock { keys in for key in claimed { keys[key, default: 0] += 1 } }
        database.writeLater({ database in
            _ = try Self.claim(claimed, window: window, now: now, in: database)
            let time = SQLValue.real(now.timeIntervalSince1970)
            // A dead letter keeps what it would pass on, for `hookgate deliveries retry`.
            let request = try error == nil ? nil : delivery.request.map { try Self.store($0, in: database) }
            try database.query(
                """
                INSERT INTO deliveries (endpoint, source, delivery_id, target, notifier, events, state, attempts, created_at, next_attempt_at, updated_at, last_error, request_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?)
                """,
                row + [.text(error == nil ? "delivered" : "failed"), time, time, time, SQLValue(error), request.map { .integer($0) } ?? .null])
        }, settled: { [self] error in
            unrecorded.withLock { keys in
                for key in claimed {
                    keys[key, default: 1] -= 1
                    if keys[key] == 0 { keys[key] = nil }
                }
            }
            if let error { failed(StoreError("the delivery queue cannot be written: \(error)")) }
        })
    }

    /// Marks queued deliveries delivered, all in one statement.
    public func markDelivered(_ ids: [Int], now: Date = Date()) async throws(StoreError) {
        guard !ids.isEmpty else { return }
        let marks = ids.map { _ in "?" }.joined(separator: ", ")
        // Not synced to disk on its own: should the machine (not the process) crash before the
        // next sync, these rows are delivered again, which at-least-once allows.
        let deleted = try await write(durable: false) { database in
            let requests = try database.query(
                "UPDATE deliveries SET state = 'delivered', attempts = attempts + 1, updated_at = ? WHERE id IN (\(marks)) RETURNING request_id",
                [.real(now.timeIntervalSince1970)] + ids.map { .integer($0) }
            ).compactMap { $0["request_id"].integer }
            // A request delivered to every backend is not kept: it may be 25 MiB.
            return try Set(requests).flatMap { request in
                try database.query(
                    "DELETE FROM requests WHERE id = ? AND NOT EXISTS (SELECT 1 FROM deliveries WHERE request_id = ? AND state != 'delivered') RETURNING id",
                    [.integer(request), .integer(request)]
                ).compactMap { $0["id"].integer }
            }
        }
        requests.remove(deleted)
    }

    /// Stores a request for the deliveries that pass it on; returns its id.
    private static func store(_ request: ForwardedRequest, in database: SQLiteDatabase) throws -> Int {
        let inserted = try database.query(
            "INSERT INTO requests (head, body) VALUES (?, ?) RETURNING id", [.text(request.storedHead), .blob(Array(request.body.readableBytesView))])
        guard let id = inserted.first?["id"].integer else { throw StoreError("the queue gave no id for a stored request") }
        return id
    }

    /// Records that `target` is paused (`state` set) or answers again (nil), for `hookgate deliveries`.
    /// Written with the next commit, not waited for.
    public func recordPaused(_ target: String, _ state: PausedTarget?) {
        database.writeLater({ database in
            if let state {
                try database.query(
                    "INSERT OR REPLACE INTO paused (target, failures, since, probe_at) VALUES (?, ?, ?, ?)",
                    [.text(target), .integer(state.failures), .real(state.since.timeIntervalSince1970), .real(state.nextProbe.timeIntervalSince1970)])
            } else {
                try database.query("DELETE FROM paused WHERE target = ?", [.text(target)])
            }
        }, settled: { _ in })
    }

    /// Adds (`add`) or removes a backend of `group`, durably; false when nothing changed.
    public func saveBackend(group: String, url: String, add: Bool, now: Date = Date()) async throws(StoreError) -> Bool {
        try await write { database in
            let changed = add
                ? try database.query("INSERT OR IGNORE INTO backends (grp, url, added_at) VALUES (?, ?, ?) RETURNING url",
                                     [.text(group), .text(url), .real(now.timeIntervalSince1970)])
                : try database.query("DELETE FROM backends WHERE grp = ? AND url = ? RETURNING url", [.text(group), .text(url)])
            return !changed.isEmpty
        }
    }

    /// Forgets every recorded pause (a new process starts with every target closed).
    public func clearPaused() async throws(StoreError) {
        try await write { database in try database.query("DELETE FROM paused") }
    }

    /// Makes a queued delivery a dead letter.
    public func markFailed(_ id: Int, attempts: Int, error: String, now: Date = Date()) async throws(StoreError) {
        // A dead letter's request stays in the queue, for `hookgate deliveries retry`, and leaves
        // the cache: once another process purges it, its id may be given to another request.
        if let request = try await update(id, state: .failed, attempts: attempts, next: now, error: error, now: now) { requests.remove([request]) }
    }

    /// Schedules the next attempt of a queued delivery.
    public func reschedule(_ id: Int, attempts: Int, next: Date, error: String, now: Date = Date()) async throws(StoreError) {
        try await update(id, state: .pending, attempts: attempts, next: next, error: error, now: now)
    }

    /// - Returns: the id of the row's stored request, if it has one.
    @discardableResult
    private func update(_ id: Int, state: StoredDelivery.State, attempts: Int, next: Date, error: String?, now: Date) async throws(StoreError) -> Int? {
        try await write { database in
            try database.query(
                "UPDATE deliveries SET state = ?, attempts = ?, next_attempt_at = ?, updated_at = ?, last_error = COALESCE(?, last_error) WHERE id = ? RETURNING request_id",
                [.text(state.rawValue), .integer(attempts), .real(next.timeIntervalSince1970), .real(now.timeIntervalSince1970),
                 SQLValue(error), .integer(id)]
            ).first?["request_id"].integer
        }
    }

    /// Puts a dead letter (or, with `id` nil, every dead letter) back in the queue, due now.
    /// - Returns: how many were requeued.
    public func retry(id: Int?, now: Date = Date()) async throws(StoreError) -> Int {
        try await write { database in
            try database.query(
                "UPDATE deliveries SET state = 'pending', next_attempt_at = ?, updated_at = ? WHERE state = 'failed'\(id == nil ? "" : " AND id = ?") RETURNING id",
                [.real(now.timeIntervalSince1970), .real(now.timeIntervalSince1970)] + (id.map { [SQLValue.integer($0)] } ?? [])
            ).count
        }
    }

    /// Follows the config being served: rows queued under an old name of an action (`renamed`)
    /// take its new target, and pending rows whose target is not in `targets` become dead letters
    /// with `reason`, since no action of the config delivers them any more.
    /// - Returns: how many were given up.
    public func follow(targets: Set<String>, renamed: [String: String], reason: String, now: Date = Date()) async throws(StoreError) -> Int {
        // Dead letters keep their requests only in the queue (see ``markFailed``); reloads are rare.
        defer { requests.removeAll() }
        return try await write { database in
            for (old, new) in renamed {
                try database.query("UPDATE deliveries SET target = ? WHERE target = ? AND state != 'delivered'", [.text(new), .text(old)])
            }
            let pending = try database.query("SELECT DISTINCT target FROM deliveries INDEXED BY deliveries_pending WHERE state = 'pending'").compactMap { $0["target"].text }
            var given = 0
            for target in pending where !targets.contains(target) {
                given += try database.query(
                    "UPDATE deliveries INDEXED BY deliveries_pending SET state = 'failed', updated_at = ?, last_error = ? WHERE state = 'pending' AND target = ? RETURNING id",
                    [.real(now.timeIntervalSince1970), .text(reason), .text(target)]).count
            }
            return given
        }
    }

    /// Deletes delivered rows (and dead letters too when `failed`), and expired duplicate keys.
    public func purge(failed: Bool, seenBefore: Date) async throws(StoreError) -> Int {
        try await write { database in
            let rows = try database.query(
                "DELETE FROM deliveries WHERE state = 'delivered'\(failed ? " OR state = 'failed'" : "") RETURNING id")
            try database.query("DELETE FROM requests WHERE id NOT IN (SELECT request_id FROM deliveries WHERE request_id IS NOT NULL)")
            try database.query("DELETE FROM seen WHERE seen_at < ?", [.real(seenBefore.timeIntervalSince1970)])
            return rows.count
        }
    }

    /// Forgets duplicate keys older than the window.
    public func pruneSeen(before: Date) async throws(StoreError) {
        try await write { database in
            try database.query("DELETE FROM seen WHERE seen_at < ?", [.real(before.timeIntervalSince1970)])
        }
    }

    /// Deletes delivered rows that arrived before `before`, at most `batch` per transaction so
    /// that webhooks keep their turn at the database.
    /// - Returns: how many were deleted.
    @discardableResult
    public func pruneDelivered(before: Date, batch: Int = 500) async throws(StoreError) -> Int {
        var deleted = 0
        while true {
            let count = try await write(durable: false) { database in
                // Rows are numbered as they arrive, so the first row that arrived after `before`
                // bounds the ones to look at: walking from the front costs only what is deleted
                // (and any older dead letters), never the whole table.
                let bound = try database.query(
                    "SELECT id FROM deliveries WHERE created_at >= ? ORDER BY id LIMIT 1", [.real(before.timeIntervalSince1970)]
                ).first?["id"].integer ?? Int.max
                return try database.query(
                    "DELETE FROM deliveries WHERE id IN (SELECT id FROM deliveries WHERE id < ? AND state = 'delivered' ORDER BY id LIMIT ?) RETURNING id",
                    [.integer(bound), .integer(batch)]
                ).count
            }
            deleted += count
            if count < batch { return deleted }
        }
    }

    /// A small durable write, to prove the queue can be written (`/readyz`).
    public func probe(now: Date = Date()) async throws(StoreError) {
        try await write(probe: true) { database in
            try database.query("INSERT OR REPLACE INTO meta (key, value) VALUES ('probe', ?)", [.text("\(now.timeIntervalSince1970)")])
        }
    }

    /// Inserts each key, or refreshes it when older than the window; false, claiming none, when one
    /// of them was seen within the window (a duplicate). Runs inside one transaction, so no other
    /// write comes between the check and the claim.
    private static func claim(_ keys: [String], window: Duration, now: Date, in database: SQLiteDatabase) throws -> Bool {
        guard window > .zero else {
            // Suppression is off; the keys are still kept (recovery asks what was accepted).
            for key in keys {
                try database.query("INSERT INTO seen (key, seen_at) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET seen_at = excluded.seen_at",
                                   [.text(key), .real(now.timeIntervalSince1970)])
            }
            return true
        }
        let since = SQLValue.real(now.timeIntervalSince1970 - window.seconds)
        if keys.count > 1 {
            for key in keys where try !database.query("SELECT 1 FROM seen WHERE key = ? AND seen_at >= ?", [.text(key), since]).isEmpty {
                return false
            }
        }
        for key in keys {
            let claimed = try database.query(
                "INSERT INTO seen (key, seen_at) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET seen_at = excluded.seen_at WHERE seen.seen_at < ? RETURNING key",
                [.text(key), .real(now.timeIntervalSince1970), since])
            if claimed.isEmpty { return false }
        }
        return true
    }

    private func lastHandedOut(_ target: String) -> Int {
        handedOut.withLock { $0[target] ?? 0 }
    }

    // MARK: Reads

    /// Is one of `keys` a delivery already handled within `window`?
    public func isDuplicate(_ keys: [String], window: Duration, now: Date = Date()) async throws(StoreError) -> Bool {
        // A zero window turns duplicate suppression off, for attempts not yet committed too.
        guard !keys.isEmpty, window > .zero else { return false }
        if unrecorded.withLock({ seen in keys.contains { seen[$0] != nil } }) { return true }
        return try await read(on: reader) { database in
            try keys.contains { key in
                try !database.query("SELECT 1 FROM seen WHERE key = ? AND seen_at >= ?", [.text(key), .real(now.timeIntervalSince1970 - window.seconds)]).isEmpty
            }
        }
    }

    /// The oldest pending deliveries of `target` that are due, in queue order. They count as
    /// handed out from now on: nothing merges into them unless they are rescheduled.
    public func due(target: String, limit: Int, now: Date = Date()) async throws(StoreError) -> [StoredDelivery] {
        try await read(on: database) { database in
            let rows = try Self.select(
                "INDEXED BY deliveries_pending WHERE state = 'pending' AND target = ? AND next_attempt_at <= ? ORDER BY id LIMIT ?",
                [.text(target), .real(now.timeIntervalSince1970), .integer(limit)], in: database)
            if let last = rows.last?.id {
                self.handedOut.withLock { $0[target] = max($0[target] ?? 0, last) }
            }
            return rows
        }
    }

    /// The stored request `id`; nil when it is gone.
    public func request(_ id: Int) async throws(StoreError) -> ForwardedRequest? {
        if let kept = requests.request(id) { return kept }
        return try await read(on: reader) { database in
            guard let row = try database.query("SELECT head, body FROM requests WHERE id = ?", [.integer(id)]).first else { return nil }
            return try ForwardedRequest(storedHead: row["head"].text ?? "{}", body: row["body"].blob ?? [])
        }
    }

    /// The targets paused by their circuit breakers.
    public func pausedTargets() async throws(StoreError) -> [PausedTarget] {
        try await read(on: reader) { database in
            try database.query("SELECT target, failures, since, probe_at FROM paused ORDER BY target").map { row in
                PausedTarget(
                    target: row["target"].text ?? "", failures: row["failures"].integer ?? 0,
                    since: Date(timeIntervalSince1970: row["since"].real ?? 0), nextProbe: Date(timeIntervalSince1970: row["probe_at"].real ?? 0))
            }
        }
    }

    /// Pending deliveries per target.
    public func pendingSummary() async throws(StoreError) -> [TargetSummary] {
        try await read(on: reader) { database in
            try database.query(
                "SELECT target, COUNT(*) AS n, MIN(created_at) AS oldest, MIN(next_attempt_at) AS next FROM deliveries WHERE state = 'pending' GROUP BY target ORDER BY target"
            ).map { row in
                TargetSummary(
                    target: row["target"].text ?? "", pending: row["n"].integer ?? 0,
                    oldestCreatedAt: Date(timeIntervalSince1970: row["oldest"].real ?? 0),
                    nextAttemptAt: Date(timeIntervalSince1970: row["next"].real ?? 0))
            }
        }
    }

    /// Deliveries in `states`, newest first.
    public func list(states: [StoredDelivery.State], limit: Int) async throws(StoreError) -> [StoredDelivery] {
        let marks = states.map { _ in "?" }.joined(separator: ", ")
        return try await read(on: reader) { database in
            try Self.select("WHERE state IN (\(marks)) ORDER BY id DESC LIMIT ?", states.map { .text($0.rawValue) } + [.integer(limit)], in: database)
        }
    }

    /// Counts per state.
    public func counts() async throws(StoreError) -> [StoredDelivery.State: Int] {
        try await read(on: reader) { database in
            var counts: [StoredDelivery.State: Int] = [:]
            for row in try database.query("SELECT state, COUNT(*) AS n FROM deliveries GROUP BY state") {
                if let state = row["state"].text.flatMap(StoredDelivery.State.init(rawValue:)) {
                    counts[state] = row["n"].integer ?? 0
                }
            }
            return counts
        }
    }

    private static func select(_ clause: String, _ binds: [SQLValue], in database: SQLiteDatabase) throws -> [StoredDelivery] {
        try database.query(
            "SELECT id, endpoint, source, delivery_id, target, notifier, events, state, attempts, created_at, next_attempt_at, updated_at, last_error, request_id FROM deliveries " + clause,
            binds
        ).map(decode)
    }

    private static func decode(_ row: SQLRow) throws -> StoredDelivery {
        let events = try JSONDecoder().decode([HookEvent].self, from: Data((row["events"].text ?? "[]").utf8))
        return StoredDelivery(
            id: row["id"].integer ?? 0,
            endpoint: row["endpoint"].text ?? "",
            source: row["source"].text ?? "",
            deliveryID: row["delivery_id"].text,
            target: row["target"].text ?? "",
            notifier: row["notifier"].text ?? "",
            events: events,
            state: row["state"].text.flatMap(StoredDelivery.State.init(rawValue:)) ?? .pending,
            attempts: row["attempts"].integer ?? 0,
            createdAt: Date(timeIntervalSince1970: row["created_at"].real ?? 0),
            nextAttemptAt: Date(timeIntervalSince1970: row["next_attempt_at"].real ?? 0),
            updatedAt: Date(timeIntervalSince1970: row["updated_at"].real ?? 0),
            lastError: row["last_error"].text,
            requestID: row["request_id"].integer)
    }

    /// The columns every new row shares: endpoint, source, delivery id, target, notifier, events.
    private func encode(_ deliveries: [NewDelivery]) -> [[SQLValue]] {
        deliveries.map { delivery in
            [.text(delivery.endpoint), .text(delivery.source), SQLValue(delivery.deliveryID),
             .text(delivery.target), .text(delivery.notifier), .text(HookEvent.storedJSON(delivery.events))]
        }
    }

    // MARK: Running on the database thread

    /// Runs `operation` inside the next shared transaction and returns once it is committed.
    @discardableResult
    private func write<T: Sendable>(
        probe: Bool = false, durable: Bool = true, _ operation: @escaping @Sendable (SQLiteDatabase) throws -> T,
        committed: (@Sendable (T) -> Void)? = nil
    ) async throws(StoreError) -> T {
        do {
            return try await database.write(probe: probe, durable: durable, operation, committed: committed)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError("the delivery queue cannot be written: \(error)")
        }
    }

    private func read<T: Sendable>(on thread: SQLiteThread, _ operation: @escaping @Sendable (SQLiteDatabase) throws -> T) async throws(StoreError) -> T {
        do {
            return try await thread.read(operation)
        } catch {
            throw StoreError("the delivery queue cannot be read: \(error)")
        }
    }
}

extension Duration {
    /// Seconds as a `Double`.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

extension DeliveryStore {
    /// Whether `endpoint` accepted the delivery with the sender's id `deliveryID` within `window`
    /// (the seen table; docs/git-hosts.md). A read that fails answers false: asking the host for
    /// a delivery hookgate had is harmless, since it is then a duplicate.
    public func wasAccepted(endpoint: String, deliveryID: String, within window: Duration) async -> Bool {
        let keys = Deliveries.dedupeKeys(endpoint: endpoint, senderID: DeliveryIdentity.senderID(deliveryID), body: Data(), bodySigned: false)
        return (try? await isDuplicate(keys, window: window)) ?? false
    }
}

import AsyncHTTPClient
import Foundation
import HTTPTypes
import HookGate
import HookGateTestSupport
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Synchronization
import Testing

@Suite(.serialized) struct DeliveryTests {
    @Test func answersQueuedAndDelivers() async throws {
        let flux = try await RecordingServer.start()
        defer { Task { await flux.stop() } }
        try await QueueHarness.withServer(api: flux.baseURL + "/api/flux") { client, config, store in
            let (status, text) = try await QueueHarness.push(client, config, branch: "main", delivery: "d-1")
            #expect(status == .ok)
            #expect(text == "queued")
            let calls = await flux.waitForRequests(1)
            #expect(calls.first?.body == #"{"Kind":"git","Source":{"URL":"git@github.com:Codertocat/Hello-World.git","Branch":"main"}}"#)
            try await waitUntil { try await store.counts()[.delivered] == 1 }
        }
    }

    @Test func theSameDeliveryFiveTimesNotifiesOnce() async throws {
        let flux = try await RecordingServer.start()
        defer { Task { await flux.stop() } }
        // A generous timeout: a call cut off on a loaded machine is retried, and counted twice here.
        try await QueueHarness.withServer(api: flux.baseURL + "/api/flux", notifyTimeout: .seconds(10)) { client, config, _ in
            var answers: [String] = []
            for _ in 0..<5 { answers.append(try await QueueHarness.push(client, config, branch: "main", delivery: "same-id").1) }
            #expect(answers == ["queued", "duplicate", "duplicate", "duplicate", "duplicate"])
            _ = try await QueueHarness.push(client, config, branch: "other", delivery: "another-id")
            let calls = await flux.waitForRequests(2)
            try await Task.sleep(for: .milliseconds(300))
            #expect(QueueHarness.branches(await flux.requests) == ["main", "other"])
            #expect(calls.count == 2)
        }
    }

    @Test func identicalRefreshNotificationsWaitingForARetryAreMerged() async throws {
        let calls = Counter()
        let flux = try await RecordingServer.start { _ in calls.next() == 1 ? RecordingServer.Reply(status: .serviceUnavailable) : RecordingServer.Reply() }
        defer { Task { await flux.stop() } }
        try await QueueHarness.withServer(api: flux.baseURL + "/api/flux", delivery: "{initialBackoff: 10s, maxBackoff: 10s}") { client, config, store in
            _ = try await QueueHarness.push(client, config, branch: "main", delivery: "m-0")
            // The first attempt failed; the row waits 5-10 s for its retry (each push below runs Python to sign).
            try await waitUntil { (try await store.list(states: [.pending], limit: 10).first?.attempts ?? 0) == 1 }
            for index in 1...4 {
                #expect(try await QueueHarness.push(client, config, branch: "main", delivery: "m-\(index)").1 == "queued")
            }
            _ = try await QueueHarness.push(client, config, branch: "dev", delivery: "d-0")
            #expect(try await store.list(states: [.pending], limit: 10).count == 2)

            try await waitUntil(timeout: .seconds(20)) { try await store.counts()[.delivered] == 2 }
            let branches = QueueHarness.branches(await flux.requests)
            // The failed attempt, then one main and one dev (delivered concurrently, in either order).
            #expect(branches.first == "main" && branches.dropFirst().sorted() == ["dev", "main"], "\(branches)")
            let target = "flux-api \(flux.baseURL)/api/flux/v11/notify"
            let metrics = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            #expect(metrics.contains(#"hookgate_notifications_merged_total{target="\#(target)"} 4"#))
        }
    }

    /// A burst of pushes to one branch while the Flux API is slow: each is answered "queued", the
    /// API hears far fewer calls than pushes, and a call starts after the last push was answered,
    /// so the last push is covered by a refresh that began after it.
    @Test func aBurstOfPushesToOneBranchMakesFewCalls() async throws {
        let callTime: Duration = .seconds(2)
        let arrivals = Mutex<[ContinuousClock.Instant]>([])
        let flux = try await RecordingServer.start { _ in
            arrivals.withLock { $0.append(.now) }
            return RecordingServer.Reply(delay: callTime)
        }
        defer { Task { await flux.stop() } }
        try await QueueHarness.withServer(api: flux.baseURL + "/api/flux", notifyTimeout: .seconds(10)) { client, config, store in
            let pushes = 20
            var answers: [String] = []
            let started = ContinuousClock.now
            var lastSent = started
            for index in 0..<pushes {
                lastSent = ContinuousClock.now
                answers.append(try await QueueHarness.push(client, config, branch: "main", delivery: "burst-\(index)").1)
            }
            let lastAnswered = ContinuousClock.now
            #expect(answers == Array(repeating: "queued", count: pushes))
            try await waitUntil { try await store.counts()[.pending] == nil }
            let calls = arrivals.withLock { $0 }
            // One call at a time, each taking `callTime`: while one is made, the pushes that
            // arrive merge into one row, so there is about one call per `callTime` of pushing
            // (signing each push in Python takes a while), plus the first and the last.
            let rounds = Int(((lastAnswered - started) / callTime).rounded(.up))
            #expect(calls.count >= 2 && calls.count <= rounds + 2 && calls.count < pushes, "\(calls.count) calls for \(pushes) pushes in \(rounds) rounds")
            // The last push is told after it was sent (the worker may start that call before
            // this task even sees the answer).
            #expect(calls.contains { $0 > lastSent })
            #expect(try await store.counts()[.delivered] == calls.count)
            let target = "flux-api \(flux.baseURL)/api/flux/v11/notify"
            let metrics = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            #expect(metrics.contains(#"hookgate_notifications_merged_total{target="\#(target)"} \#(pushes - calls.count)"#))
        }
    }

    /// `duplicateWindow: 0s` turns suppression off: a sync attempt being recorded (not yet
    /// committed) does not make the same body a duplicate, as it does with a window.
    @Test func aZeroWindowMakesNothingADuplicate() async throws {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let store = try await DeliveryStore.open(directory: Fixtures.temporaryDirectory(), logger: logger)
        let event = HookEvent(name: "push", kind: .gitPush(GitPush(fullName: "a/b", sshURL: "git@h:a/b.git", httpsURL: nil, ref: "refs/heads/main")))
        let row = NewDelivery(endpoint: "gh", source: "GitHub", deliveryID: "d-1", target: "t", notifier: "n", events: [event])
        let keys = ["gh sha256 abc"]
        store.recordAttempt(row, error: nil, dedupeKeys: keys, window: .seconds(3600)) { _ in }
        #expect(try await store.isDuplicate(keys, window: .seconds(3600)))
        #expect(try await !store.isDuplicate(keys, window: .zero))
        // Queued: the same keys twice in one instant are both queued.
        let now = Date()
        #expect(try await store.enqueue([row], dedupeKeys: keys, window: .zero, now: now) != nil)
        #expect(try await store.enqueue([row], dedupeKeys: keys, window: .zero, now: now) != nil)
        #expect(try await store.enqueue([row], dedupeKeys: ["other"], window: .seconds(60), now: now) != nil)
        #expect(try await store.enqueue([row], dedupeKeys: ["other"], window: .seconds(60), now: now) == nil)
        await store.close()
    }

    /// Delivered rows are deleted `keepDelivered` after they arrived, a batch at a time; pending
    /// rows and dead letters stay, however old.
    @Test func deliveredRowsAreKeptOnlyForAWhile() async throws {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let store = try await DeliveryStore.open(directory: Fixtures.temporaryDirectory(), logger: logger)
        let event = HookEvent(name: "push", kind: .gitPush(GitPush(fullName: "a/b", sshURL: "git@h:a/b.git", httpsURL: nil, ref: "refs/heads/main")))
        let now = Date()
        func queue(_ count: Int, at time: Date) async throws -> [Int] {
            var ids: [Int] = []
            for _ in 0..<count {
                let row = NewDelivery(endpoint: "gh", source: "GitHub", deliveryID: nil, target: "t", notifier: "n", events: [event])
                ids += try #require(try await store.enqueue([row], dedupeKeys: [], window: .zero, now: time)).map(\.id)
            }
            return ids
        }
        let old = try await queue(7, at: now.addingTimeInterval(-7200))
        let young = try await queue(3, at: now.addingTimeInterval(-60))
        try await store.markDelivered(Array(old[0..<5]) + young)
        try await store.markFailed(old[5], attempts: 3, error: "answered 400")  // old[6] stays pending

        #expect(try await store.pruneDelivered(before: now.addingTimeInterval(-3600), batch: 2) == 5)
        let counts = try await store.counts()
        #expect(counts[.delivered] == 3 && counts[.failed] == 1 && counts[.pending] == 1, "\(counts)")
        #expect(try await store.pruneDelivered(before: now.addingTimeInterval(-3600)) == 0)
        #expect(try await store.pruneDelivered(before: now) == 3)
        await store.close()
    }

    @Test func refreshesMergeOnlyIntoRowsNothingIsDelivering() async throws {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let store = try await DeliveryStore.open(directory: Fixtures.temporaryDirectory(), logger: logger)
        let event = HookEvent(name: "push", kind: .gitPush(GitPush(fullName: "a/b", sshURL: "git@h:a/b.git", httpsURL: nil, ref: "refs/heads/main")))
        func row(_ mergeKey: String?) -> NewDelivery {
            NewDelivery(endpoint: "gh", source: "GitHub", deliveryID: nil, target: "t", notifier: "n", events: [event], mergeKey: mergeKey)
        }
        func enqueue(_ rows: [NewDelivery]) async throws -> [Enqueued] {
            try #require(try await store.enqueue(rows, dedupeKeys: [], window: .seconds(60)))
        }
        // A PipelineRun-style notification (no key) is never merged, even while one waits for a retry.
        let first = try await enqueue([row(nil)])
        try await store.reschedule(first[0].id, attempts: 1, next: Date().addingTimeInterval(60), error: "down")
        #expect(try await enqueue([row(nil)]).map(\.merged) == [false])
        // A refresh the worker has not read yet is merged into: it is sent after both arrived.
        let refresh = try await enqueue([row("k")])
        #expect(try await enqueue([row("k")]) == [Enqueued(id: refresh[0].id, merged: true)])
        // Once the worker has read it, it may be in flight: a new one is queued behind it.
        #expect(try await store.due(target: "t", limit: 10).map(\.id) == [first[0].id + 1, refresh[0].id])
        let behind = try await enqueue([row("k")])
        #expect(behind.map(\.merged) == [false])
        // When it waits for a retry, the next identical one is merged into the oldest such row.
        try await store.reschedule(refresh[0].id, attempts: 1, next: Date().addingTimeInterval(60), error: "down")
        #expect(try await enqueue([row("k"), row("other")]) == [
            Enqueued(id: refresh[0].id, merged: true), Enqueued(id: behind[0].id + 1, merged: false)])
        await store.close()
    }

    /// The worker's reads must get a turn while webhooks keep the queue's writer busy; a writer
    /// that committed batch after batch for as long as writes arrived once starved delivery.
    @Test(.timeLimit(.minutes(1))) func readsGetATurnDuringASteadyStreamOfWrites() async throws {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let store = try await DeliveryStore.open(directory: Fixtures.temporaryDirectory(), logger: logger)
        let event = HookEvent(name: "push", kind: .gitPush(GitPush(fullName: "a/b", sshURL: "git@h:a/b.git", httpsURL: nil, ref: "refs/heads/main")))
        let stop = StopFlag()
        try await withThrowingTaskGroup(of: Int.self) { group in
            for writer in 0..<16 {
                group.addTask {
                    var written = 0
                    while !stop.isSet {
                        let row = NewDelivery(endpoint: "gh", source: "GitHub", deliveryID: "\(writer)-\(written)", target: "t", notifier: "n", events: [event])
                        _ = try await store.enqueue([row], dedupeKeys: ["\(writer)-\(written)"], window: .seconds(60))
                        written += 1
                    }
                    return written
                }
            }
            try await waitUntil { try await store.counts()[.pending] ?? 0 >= 200 }
            // Ten reads in a row, each answered while all sixteen writers are still writing.
            for _ in 0..<10 { _ = try await store.due(target: "t", limit: 32) }
            stop.set()
            var written = 0
            for try await count in group { written += count }
            #expect(try await store.counts()[.pending] == written)
        }
        await store.close()
    }

    @Test func downstreamDownForAWhile() async throws {
        let probe = try await RecordingServer.start()
        let port = probe.port
        await probe.stop()
        try await QueueHarness.withServer(api: "http://127.0.0.1:\(port)/api/flux") { client, config, store in
            for index in 0..<5 { _ = try await QueueHarness.push(client, config, branch: "b\(index)", delivery: "down-\(index)") }
            try await waitUntil { (try await store.list(states: [.pending], limit: 10).first?.attempts ?? 0) >= 2 }
            let target = "flux-api http://127.0.0.1:\(port)/api/flux/v11/notify"
            try await waitUntil {
                let metrics = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
                return metrics.contains(#"hookgate_queue_depth{target="\#(target)"} 5"#)
                    && metrics.contains(#"hookgate_delivery_attempts_total{target="\#(target)",outcome="retry"}"#)
                    && metrics.contains(#"hookgate_queue_oldest_pending_seconds{target="\#(target)"}"#)
            }
            let flux = try await RecordingServer.start(port: port)
            defer { Task { await flux.stop() } }
            try await waitUntil { try await store.counts()[.delivered] == 5 }
            #expect(Set(QueueHarness.branches(await flux.requests)) == Set((0..<5).map { "b\($0)" }))
        }
    }

    @Test func errorsSlownessAndRetryAfter() async throws {
        let calls = Counter()
        let started = Date()
        let arrivals = Mutex<[TimeInterval]>([])
        let flux = try await RecordingServer.start { _ in
            let call = calls.next()
            arrivals.withLock { $0.append(Date().timeIntervalSince(started)) }
            switch call {
            case 1, 2: return .init(status: .internalServerError, body: "boom")
            case 3: return .init(delay: .seconds(2))  // longer than the 500 ms notify timeout
            case 4: return .init(status: .tooManyRequests, body: "slow down", contentType: "text/plain").withRetryAfter("1")
            default: return .init()
            }
        }
        defer { Task { await flux.stop() } }
        try await QueueHarness.withServer(api: flux.baseURL + "/api/flux", delivery: "{initialBackoff: 50ms, maxBackoff: 200ms, concurrencyPerTarget: 1}") { client, config, store in
            _ = try await QueueHarness.push(client, config, branch: "main", delivery: "flaky")
            try await waitUntil(timeout: .seconds(20)) { try await store.counts()[.delivered] == 1 }
            let rows = try await store.list(states: [.delivered], limit: 1)
            #expect(rows.first?.attempts == 5)
            let times = arrivals.withLock { $0 }
            #expect(times.count == 5)
            // the fifth call waited for Retry-After: 1 after the 429
            #expect(times[4] - times[3] >= 0.95, "\(times)")
        }
    }

    @Test func permanentRefusalIsADeadLetterThatCanBeRetried() async throws {
        let calls = Counter()
        let flux = try await RecordingServer.start { _ in
            calls.next() == 1 ? .init(status: .badRequest, body: "bad change") : .init()
        }
        defer { Task { await flux.stop() } }
        try await QueueHarness.withServer(api: flux.baseURL + "/api/flux") { client, config, store in
            _ = try await QueueHarness.push(client, config, branch: "main", delivery: "refused")
            try await waitUntil { try await store.counts()[.failed] == 1 }
            let failed = try await store.list(states: [.failed], limit: 1)
            #expect(failed.first?.attempts == 1)
            #expect(failed.first?.lastError?.contains("answered 400: bad change") == true)
            #expect(try await store.retry(id: failed.first?.id) == 1)
            try await waitUntil { try await store.counts()[.delivered] == 1 }
            #expect(await flux.requests.count == 2)
        }
    }

    @Test func givesUpAfterMaxAttempts() async throws {
        let flux = try await RecordingServer.start { _ in .init(status: .serviceUnavailable) }
        defer { Task { await flux.stop() } }
        try await QueueHarness.withServer(api: flux.baseURL + "/api/flux", delivery: "{initialBackoff: 20ms, maxBackoff: 50ms, maxAttempts: 3}") { client, config, store in
            _ = try await QueueHarness.push(client, config, branch: "main", delivery: "hopeless")
            try await waitUntil { try await store.counts()[.failed] == 1 }
            #expect(try await store.list(states: [.failed], limit: 1).first?.attempts == 3)
            #expect(await flux.requests.count == 3)
            let metrics = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            #expect(metrics.contains(#"hookgate_dead_letters_total{target="flux-api \#(flux.baseURL)/api/flux/v11/notify"} 1"#))
        }
    }

    /// Another process holds the database's write lock: the sender gets 503 (so it keeps the
    /// event), `/readyz` says so, and both recover when the lock goes.
    @Test func unwritableQueueAnswers503() async throws {
        let flux = try await RecordingServer.start()
        defer { Task { await flux.stop() } }
        let dataDir = Fixtures.temporaryDirectory()
        try await QueueHarness.withServer(api: flux.baseURL + "/api/flux", dataDir: dataDir) { client, config, _ in
            let locker = Task {
                await Python.runInBackground("""
                    import sqlite3, sys, time
                    db = sqlite3.connect(sys.argv[1], isolation_level=None)
                    db.execute("BEGIN EXCLUSIVE")
                    print("locked", flush=True)
                    time.sleep(6)
                    db.execute("ROLLBACK")
                    """, arguments: [dataDir + "/" + DeliveryStore.fileName])
            }
            try await Task.sleep(for: .milliseconds(700))
            let (status, text) = try await QueueHarness.push(client, config, branch: "main", delivery: "locked")
            #expect(status == .serviceUnavailable)
            #expect(text.contains("try again later"))
            try await client.execute(uri: "/readyz", method: .get) { #expect($0.status == .serviceUnavailable) }
            _ = await locker.value
            // Not ready while the last webhook's write failed (a probe alone proves little: on a
            // full disk it may fit where a webhook does not); ready again once one succeeds.
            try await client.execute(uri: "/readyz", method: .get) { #expect($0.status == .serviceUnavailable) }
            #expect(try await QueueHarness.push(client, config, branch: "main", delivery: "locked").1 == "queued")
            try await client.execute(uri: "/readyz", method: .get) { #expect($0.status == .ok) }
            _ = await flux.waitForRequests(1)
        }
    }
}

/// Polls `condition` until it holds, failing the test after `timeout`.
/// A flag one task raises and others read.
extension RecordingServer.Reply {
    func withRetryAfter(_ value: String) -> Self {
        var reply = self
        reply.headers["Retry-After"] = value
        return reply
    }
}

import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// Delivers queued notifications: one lane per target, oldest first, a bounded number in flight,
/// retries with backoff, dead letters when a notification cannot be delivered.
///
/// On graceful shutdown it starts nothing new and gives calls in flight `drainTimeout` to finish;
/// whatever does not finish stays pending and is delivered on the next start.
public final class DeliveryWorker: Service, Sendable {
    private let store: DeliveryStore
    private let notifiers: NotifierRegistry
    /// The `delivery:` settings of the config being served (a reload changes them).
    private let currentSettings: @Sendable () -> DeliverySettings
    private let metrics: HookMetrics
    private let logger: Logger
    /// Shared with ``Deliveries``, so a paused backend waits for sync deliveries too.
    public let breakers: CircuitBreakers
    private let stopped = Atomic<Bool>(false)
    private let supervisor = Wakeup()
    private let lanes = Mutex<[String: Wakeup]>([:])

    /// How many due rows a lane reads at once (delivered `concurrencyPerTarget` at a time).
    static let batchSize = 32

    /// How often idle lanes look for work that arrived another way (`hookgate deliveries retry`).
    static let pollInterval: Duration = .seconds(1)

    public init(
        store: DeliveryStore, notifiers: NotifierRegistry, settings: @escaping @Sendable () -> DeliverySettings, metrics: HookMetrics, logger: Logger
    ) {
        // A paused target shows in the metrics and, through the queue, in `hookgate deliveries`.
        self.breakers = CircuitBreakers { target, paused, state in
            metrics.gauge(ForwardMetrics.paused, [("target", target)]).record(paused ? 1 : 0)
            store.recordPaused(target, paused ? PausedTarget(
                target: target, failures: state.failures, since: state.pausedSince ?? Date(), nextProbe: state.probeAt ?? Date()) : nil)
            if paused {
                logger.warning("paused a target that keeps failing; probing it once per interval", metadata: [
                    "queue.target": "\(target)", "queue.failures": "\(state.failures)"])
            } else {
                logger.info("a paused target answers again", metadata: ["queue.target": "\(target)"])
            }
        }
        self.store = store
        self.metrics = metrics
        self.notifiers = notifiers
        self.currentSettings = settings
        self.logger = logger
    }

    private var settings: DeliverySettings { currentSettings() }

    /// Why queued work of an action that left the config is given up.
    static let removedAction = "its action (or, for forward, its backend) is no longer in the config (removed, or its definition changed, at a reload or through the admin API); `hookgate deliveries retry` it once it is back"

    /// Tells the lane of `target` that it has new work.
    public func wake(_ target: String) {
        if let lane = lanes.withLock({ $0[target] }) {
            lane.signal()
        } else {
            supervisor.signal()
        }
    }

    public func run() async throws {
        // Pauses recorded by an earlier process no longer hold: this one starts with every target open.
        try? await store.clearPaused()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.deliverUntilStopped() }
            group.addTask {
                // Cancelled rather than shut down (a test's server torn down): stop at once.
                guard (try? await gracefulShutdown()) != nil else { return self.stop() }
                self.stop()
                // Cancelled when the deliveries finished first: nothing was left in flight.
                guard (try? await Task.sleep(for: self.settings.drainTimeout)) != nil else { return }
                self.logger.warning("deliveries still in flight after the drain timeout; they will be retried on the next start")
            }
            await group.next()
            group.cancelAll()
        }
    }

    private func stop() {
        stopped.store(true, ordering: .relaxed)
        supervisor.signal()
        for lane in lanes.withLock({ Array($0.values) }) { lane.signal() }
    }

    private var isStopped: Bool { stopped.load(ordering: .relaxed) }

    /// Starts a lane for every target with work, keeps the queue metrics fresh, forgets old
    /// duplicate keys.
    private func deliverUntilStopped() async {
        await withTaskGroup(of: Void.self) { group in
            var known: Set<String> = []
            var lastPrune = Date.distantPast
            var followed: Int?
            while !isStopped && !Task.isCancelled {
                let registry = notifiers.snapshot
                if registry.generation != followed {
                    do {
                        let given = try await store.follow(targets: registry.targets, renamed: registry.renamed, reason: Self.removedAction)
                        followed = registry.generation
                        if given > 0 {
                            metrics.counter(QueueMetrics.deadLetters, [("target", "removed")]).increment(by: given)
                            logger.warning("gave up on \(given) queued notification\(given == 1 ? "" : "s") whose action is no longer in the config")
                        }
                    } catch {
                        logger.error("cannot follow the config's actions in the queue", metadata: ["queue.error": "\(error)"])
                    }
                }
                let summary = (try? await store.pendingSummary()) ?? []
                for target in Set(notifiers.targets).union(summary.map(\.target)) where !known.contains(target) {
                    known.insert(target)
                    let wakeup = Wakeup()
                    lanes.withLock { $0[target] = wakeup }
                    group.addTask { await self.lane(target, wakeup: wakeup) }
                }
                recordGauges(summary, known: known)
                if Date().timeIntervalSince(lastPrune) > 60 {
                    lastPrune = Date()
                    try? await store.pruneSeen(before: Date().addingTimeInterval(-settings.seenRetention.seconds))
                    _ = try? await store.pruneDelivered(before: Date().addingTimeInterval(-settings.keepDelivered.seconds))
                }
                await supervisor.wait(timeout: Self.pollInterval)
            }
            await group.waitForAll()
        }
    }

    private func lane(_ target: String, wakeup: Wakeup) async {
        var lanesLogger = logger
        lanesLogger[metadataKey: "queue.target"] = "\(target)"
        while !isStopped && !Task.isCancelled {
            let rows: [StoredDelivery]
            let pausing = notifiers.notifier(for: target)?.pausing
            // A paused target gets one row at a time, when its probe is due.
            let paused = pausing != nil && breakers.isPaused(target)
            do {
                rows = try await store.due(target: target, limit: paused ? 1 : max(Self.batchSize, settings.concurrencyPerTarget))
            } catch {
                lanesLogger.error("cannot read the delivery queue", metadata: ["queue.error": "\(error)"])
                await sleepUnlessStopped(Self.pollInterval)
                continue
            }
            if rows.isEmpty {
                await wakeup.wait(timeout: Self.pollInterval)
                continue
            }
            if let pausing, let probeAt = breakers.hold(target, pausing: pausing) {
                await sleepUnlessStopped(.milliseconds(Int64(max(0, min(probeAt.timeIntervalSinceNow, Self.pollInterval.seconds)) * 1000)))
                continue
            }
            let holdUntil = await deliver(rows, to: target, logger: lanesLogger)
            if let holdUntil {
                // The target is failing: probe it again with the oldest rows when their time comes,
                // rather than sending it everything queued behind them.
                await sleepUnlessStopped(.milliseconds(Int64(max(0, holdUntil.timeIntervalSinceNow) * 1000)))
            }
        }
    }

    /// Delivers `rows` in order, at most `concurrencyPerTarget` at once, and records the outcomes;
    /// after a failure that will be retried it starts no more of them (the target is probed, not
    /// flooded). Returns when the target should next be tried, if it failed.
    private func deliver(_ rows: [StoredDelivery], to target: String, logger: Logger) async -> Date? {
        guard let notifier = notifiers.notifier(for: target) else {
            for row in rows {
                try? await store.markFailed(row.id, attempts: row.attempts, error: Self.removedAction)
                metrics.counter(QueueMetrics.deadLetters, [("target", target)]).increment()
            }
            return nil
        }
        let outcomes = await withTaskGroup(of: (StoredDelivery, NotifyFailure?).self) { group in
            var schedule = LaneSchedule(rows, concurrency: settings.concurrencyPerTarget)
            var outcomes: [(StoredDelivery, NotifyFailure?)] = []
            func start(_ started: [StoredDelivery]) {
                for row in started {
                    group.addTask { (row, await self.attempt(row, with: notifier, logger: logger)) }
                }
            }
            start(schedule.start())
            while let outcome = await group.next() {
                outcomes.append(outcome)
                let started = schedule.finished(retrying: outcome.1.map { !$0.isPermanent } ?? false)
                if !Task.isCancelled { start(started) }
            }
            return outcomes
        }
        if Task.isCancelled { return nil }
        if let pausing = notifier.pausing {
            for (_, failure) in outcomes.sorted(by: { $0.0.id < $1.0.id }) {
                breakers.record(target, up: !CircuitBreakers.isDown(failure), pausing: pausing)
            }
        }
        var holdUntil: Date?
        let policy = RetryPolicy(settings: settings)
        let delivered = outcomes.filter { $0.1 == nil }.map(\.0.id)
        do {
            try await store.markDelivered(delivered)
            metrics.counter(QueueMetrics.attempts, [("target", target), ("outcome", "delivered")]).increment(by: delivered.count)
        } catch {
            logger.error("cannot record deliveries; they will be sent again", metadata: ["queue.error": "\(error)"])
            holdUntil = Date().addingTimeInterval(1)
        }
        for (row, failure) in outcomes.sorted(by: { $0.0.id < $1.0.id }) {
            guard let failure else { continue }
            let attempts = row.attempts + 1
            do {
                switch policy.decide(attempts: attempts, createdAt: row.createdAt, failure: failure, now: Date(), random: { Double.random(in: 0.5...1) }) {
                case .giveUp(let reason):
                    try await store.markFailed(row.id, attempts: attempts, error: reason)
                    metrics.counter(QueueMetrics.attempts, [("target", target), ("outcome", "failed")]).increment()
                    metrics.counter(QueueMetrics.deadLetters, [("target", target)]).increment()
                    logger.error("gave up on a notification", metadata: [
                        "queue.id": "\(row.id)", "hook.endpoint": "\(row.endpoint)", "queue.attempts": "\(attempts)", "queue.error": "\(failure.detail)"])
                case .retry(let next):
                    try await store.reschedule(row.id, attempts: attempts, next: next, error: failure.detail)
                    metrics.counter(QueueMetrics.attempts, [("target", target), ("outcome", "retry")]).increment()
                    logger.warning("notification failed; will retry", metadata: [
                        "queue.id": "\(row.id)", "hook.endpoint": "\(row.endpoint)", "queue.attempts": "\(attempts)",
                        "queue.retry_in": "\(Int(next.timeIntervalSinceNow.rounded()))s", "queue.error": "\(failure.detail)"])
                    holdUntil = min(holdUntil ?? next, next)
                }
            } catch {
                logger.error("cannot record a delivery outcome; it will be tried again", metadata: ["queue.id": "\(row.id)", "queue.error": "\(error)"])
                holdUntil = min(holdUntil ?? Date().addingTimeInterval(1), Date().addingTimeInterval(1))
            }
        }
        return holdUntil
    }

    /// One queued row, delivered by `notifier` with the row's own context.
    private func attempt(_ row: StoredDelivery, with notifier: any Notifier, logger: Logger) async -> NotifyFailure? {
        var rowLogger = logger
        rowLogger[metadataKey: "hook.endpoint"] = "\(row.endpoint)"
        // Rows queued before every delivery had an id get a stable one from the row.
        let deliveryID = row.deliveryID ?? "queue-\(row.id)"
        rowLogger[metadataKey: "hook.delivery"] = "\(deliveryID)"
        var context = NotifyContext(endpoint: row.endpoint, source: Source(rawValue: row.source) ?? .gitHub, deliveryID: deliveryID, logger: rowLogger)
        if let requestID = row.requestID {
            do {
                context.request = try await store.request(requestID)
            } catch {
                return NotifyFailure(.unreachable, "cannot read the request to pass on from the queue: \(error)")
            }
        }
        return await DeliveryAttempt.run(notifier, events: row.events, context: context, metrics: metrics)
    }

    private func sleepUnlessStopped(_ duration: Duration) async {
        let deadline = ContinuousClock.now + duration
        while !isStopped && !Task.isCancelled && ContinuousClock.now < deadline {
            try? await Task.sleep(for: min(.milliseconds(100), deadline - ContinuousClock.now))
        }
    }

    private func recordGauges(_ summary: [TargetSummary], known: Set<String>) {
        let now = Date()
        let byTarget = Dictionary(summary.map { ($0.target, $0) }, uniquingKeysWith: { first, _ in first })
        for target in known {
            let entry = byTarget[target]
            metrics.gauge(QueueMetrics.depth, [("target", target)]).record(entry?.pending ?? 0)
            metrics.gauge(QueueMetrics.oldestPending, [("target", target)])
                .record(entry.map { max(0, now.timeIntervalSince($0.oldestCreatedAt)) } ?? 0)
        }
    }
}

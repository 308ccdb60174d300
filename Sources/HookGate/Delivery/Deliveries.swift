import Crypto
import Foundation
import Logging
import Metrics

/// How a verified request's notifications were handled.
public enum DispatchResult: Sendable, Equatable {
    /// Delivered before answering (`delivery: sync`).
    case delivered
    /// Durably queued; the worker delivers them.
    case queued
    /// The same delivery was handled within the duplicate window; nothing was notified.
    case duplicate
}

/// A notification that failed while the sender waited.
public struct FailedNotification: Sendable {
    /// The backend's `host:port`, for a `forward` backend (``Notifier/backendLabel``).
    public var backend: String?
    public var failure: NotifyFailure
}

/// Why a request's notifications could not be handled.
public enum DispatchError: Error, Sendable {
    /// Notifiers failed while the sender waited (`delivery: sync`), each with why.
    case notify([FailedNotification])
    /// The queue could not be written; the sender should try again later.
    case storage(StoreError)
}

/// What the server hands notifications to: the durable queue, or (for `delivery: sync`) the
/// notifiers themselves, with the attempt recorded either way.
public struct Deliveries: Sendable {
    let store: DeliveryStore
    /// The `delivery:` settings of the config being served.
    let currentSettings: @Sendable () -> DeliverySettings
    let wake: @Sendable (String) -> Void
    let metrics: HookMetrics
    let breakers: CircuitBreakers

    /// - Parameters:
    ///   - wake: tells the worker that a target has new work.
    ///   - breakers: the worker's, so a paused backend is not called while a sender waits either.
    public init(
        store: DeliveryStore, settings: @escaping @Sendable () -> DeliverySettings, metrics: HookMetrics, breakers: CircuitBreakers = CircuitBreakers(),
        wake: @escaping @Sendable (String) -> Void
    ) {
        self.store = store
        self.metrics = metrics
        self.breakers = breakers
        self.currentSettings = settings
        self.wake = wake
    }

    var settings: DeliverySettings { currentSettings() }

    /// The keys under which a delivery counts as seen (docs/delivery.md#duplicates): the sender's
    /// delivery id, and, when the signature covers the whole body, the body's hash, so that a
    /// captured request replayed under a new (unsigned) delivery id is still a duplicate. Bodies
    /// that nothing signs are not keys: two identical Quay pushes are two pushes.
    public static func dedupeKeys(endpoint: String, senderID: String?, body: Data, bodySigned: Bool) -> [String] {
        var keys: [String] = []
        if let senderID, !senderID.isEmpty { keys.append(endpoint + " id " + senderID) }
        if bodySigned { keys.append(endpoint + " sha256 " + SHA256.hash(data: body).hexString) }
        return keys
    }

    /// Hands each notifier the events its rule chose.
    func dispatch(
        _ work: [(notifier: any Notifier, events: [HookEvent])], mode: DeliveryMode, context: NotifyContext, dedupeKeys: [String]
    ) async throws(DispatchError) -> DispatchResult {
        let rows = work.map {
            NewDelivery(endpoint: context.endpoint, source: context.source.rawValue, deliveryID: context.deliveryID,
                        target: $0.notifier.target, notifier: $0.notifier.kind, events: $0.events,
                        mergeKey: mode == .queued ? $0.notifier.mergeKey(for: $0.events) : nil,
                        request: $0.notifier.needsRequest ? context.request : nil)
        }
        switch mode {
        case .queued:
            return try await enqueue(rows, dedupeKeys: dedupeKeys, logger: context.logger) ? .queued : .duplicate
        case .sync:
            do {
                if try await store.isDuplicate(dedupeKeys, window: settings.duplicateWindow) { return .duplicate }
            } catch {
                throw .storage(error)
            }
            // Best-effort notifiers (`required: false` backends) are queued, not waited for.
            let now = zip(work.map(\.notifier), rows).filter { $0.0.isRequired }
            let later = zip(work.map(\.notifier), rows).filter { !$0.0.isRequired }.map(\.1)
            if !later.isEmpty { _ = try await enqueue(later, dedupeKeys: [], logger: context.logger) }
            guard !now.isEmpty else { return .queued }
            // Every required notifier at once: the answer waits for the slowest, not for their sum.
            // One (the usual case) is called right here, without a child task.
            let outcomes = now.count == 1 ? [await attempt(now[0].0, events: now[0].1.events, context: context)] : await withTaskGroup(of: (Int, NotifyFailure?).self) { group in
                for (index, (notifier, row)) in now.enumerated() {
                    group.addTask { (index, await attempt(notifier, events: row.events, context: context)) }
                }
                var outcomes = [NotifyFailure?](repeating: nil, count: now.count)
                for await (index, failure) in group { outcomes[index] = failure }
                return outcomes
            }
            let failed = outcomes.contains { $0 != nil }
            for (index, ((_, row), failure)) in zip(now, outcomes).enumerated() {
                // The delivery counts as seen only once every required notifier has it.
                record(row, error: failure?.detail, dedupeKeys: !failed && index == 0 ? dedupeKeys : [], logger: context.logger)
            }
            guard !failed else {
                throw .notify(zip(now, outcomes).compactMap { pair, failure in
                    failure.map { FailedNotification(backend: pair.0.backendLabel, failure: $0) }
                })
            }
            return .delivered
        }
    }

    /// Queues `rows` (nil when the delivery is a duplicate) and wakes their lanes.
    private func enqueue(_ rows: [NewDelivery], dedupeKeys: [String], logger: Logger) async throws(DispatchError) -> Bool {
        let enqueued: [Enqueued]?
        do {
            enqueued = try await store.enqueue(rows, dedupeKeys: dedupeKeys, window: settings.duplicateWindow)
        } catch {
            throw .storage(error)
        }
        guard let enqueued else { return false }
        for (row, queued) in zip(rows, enqueued) {
            if queued.merged {
                metrics.counter(QueueMetrics.merged, [("target", row.target)]).increment()
                logger.info("merged into a pending notification", metadata: ["queue.id": "\(queued.id)", "queue.target": "\(row.target)"])
            } else {
                wake(row.target)
            }
        }
        return true
    }

    /// One attempt while the sender waits, unless the notifier's target is paused.
    private func attempt(_ notifier: any Notifier, events: [HookEvent], context: NotifyContext) async -> NotifyFailure? {
        guard let pausing = notifier.pausing else {
            return await DeliveryAttempt.run(notifier, events: events, context: context, metrics: metrics)
        }
        if let probeAt = breakers.hold(notifier.target, pausing: pausing) {
            return NotifyFailure(.unreachable, "\(notifier.target) is paused after \(pausing.failures) failures in a row; next probe in \(max(1, Int(probeAt.timeIntervalSinceNow.rounded())))s")
        }
        let failure = await DeliveryAttempt.run(notifier, events: events, context: context, metrics: metrics)
        breakers.record(notifier.target, up: !CircuitBreakers.isDown(failure), pausing: pausing)
        return failure
    }

    /// Records a sync attempt without waiting for it; a failure to record does not change the
    /// answer, only the log.
    private func record(_ row: NewDelivery, error: String?, dedupeKeys: [String], logger: Logger) {
        store.recordAttempt(row, error: error, dedupeKeys: dedupeKeys, window: settings.duplicateWindow) { failure in
            logger.error("could not record a delivery attempt", metadata: ["queue.error": "\(failure)"])
        }
    }
}

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

/// Why a request's notifications could not be handled.
public enum DispatchError: Error, Sendable {
    /// A notifier failed while the sender waited (`delivery: sync`).
    case notify(NotifyFailure)
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

    /// - Parameter wake: tells the worker that a target has new work.
    public init(
        store: DeliveryStore, settings: @escaping @Sendable () -> DeliverySettings, metrics: HookMetrics, wake: @escaping @Sendable (String) -> Void
    ) {
        self.store = store
        self.metrics = metrics
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
        let notifiers = work.map(\.notifier)
        let rows = work.map {
            NewDelivery(endpoint: context.endpoint, source: context.source.rawValue, deliveryID: context.deliveryID,
                        target: $0.notifier.target, notifier: $0.notifier.kind, events: $0.events,
                        mergeKey: mode == .queued ? $0.notifier.mergeKey(for: $0.events) : nil)
        }
        switch mode {
        case .queued:
            let enqueued: [Enqueued]?
            do {
                enqueued = try await store.enqueue(rows, dedupeKeys: dedupeKeys, window: settings.duplicateWindow)
            } catch {
                throw .storage(error)
            }
            guard let enqueued else { return .duplicate }
            for (notifier, row) in zip(notifiers, enqueued) {
                if row.merged {
                    metrics.counter(QueueMetrics.merged, [("target", notifier.target)]).increment()
                    context.logger.info("merged into a pending notification", metadata: ["queue.id": "\(row.id)", "queue.target": "\(notifier.target)"])
                } else {
                    wake(notifier.target)
                }
            }
            return .queued
        case .sync:
            do {
                if try await store.isDuplicate(dedupeKeys, window: settings.duplicateWindow) { return .duplicate }
            } catch {
                throw .storage(error)
            }
            for (notifier, row) in zip(notifiers, rows) {
                if let failure = await DeliveryAttempt.run(notifier, events: row.events, context: context, metrics: metrics) {
                    record(row, error: failure.detail, dedupeKeys: [], logger: context.logger)
                    throw .notify(failure)
                }
                record(row, error: nil, dedupeKeys: dedupeKeys, logger: context.logger)
            }
            return .delivered
        }
    }

    /// Records a sync attempt without waiting for it; a failure to record does not change the
    /// answer, only the log.
    private func record(_ row: NewDelivery, error: String?, dedupeKeys: [String], logger: Logger) {
        store.recordAttempt(row, error: error, dedupeKeys: dedupeKeys, window: settings.duplicateWindow) { failure in
            logger.error("could not record a delivery attempt", metadata: ["queue.error": "\(failure)"])
        }
    }
}

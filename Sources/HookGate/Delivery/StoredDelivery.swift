import Foundation

/// A notification to hand to one notifier, as it enters the queue.
public struct NewDelivery: Sendable {
    public var endpoint: String
    public var source: String
    public var deliveryID: String?
    /// The notifier's ``Notifier/target``.
    public var target: String
    /// The notifier's ``Notifier/kind``.
    public var notifier: String
    public var events: [HookEvent]
    /// The notifier's ``Notifier/mergeKey(for:)``: nil for a notification that is never merged.
    public var mergeKey: String?
    /// The request itself, for a notifier that passes it on (``Notifier/needsRequest``). The
    /// deliveries of one request share it: the queue stores it once.
    public var request: ForwardedRequest?

    public init(
        endpoint: String, source: String, deliveryID: String?, target: String, notifier: String, events: [HookEvent], mergeKey: String? = nil,
        request: ForwardedRequest? = nil
    ) {
        self.request = request
        self.endpoint = endpoint
        self.source = source
        self.deliveryID = deliveryID
        self.target = target
        self.notifier = notifier
        self.events = events
        self.mergeKey = mergeKey
    }
}

/// A notification `enqueue` accepted: a new row, or merged into a pending one.
public struct Enqueued: Sendable, Equatable {
    /// The row that will deliver it.
    public var id: Int
    /// True when an identical pending refresh notification (not attempted since) carries it.
    public var merged: Bool

    public init(id: Int, merged: Bool) {
        self.id = id
        self.merged = merged
    }
}

/// A notification as the queue holds it.
public struct StoredDelivery: Sendable, Equatable {
    public enum State: String, Sendable, CaseIterable {
        /// Waiting for its first or next attempt.
        case pending
        /// The notifier succeeded.
        case delivered
        /// Given up on (a dead letter), with the last error.
        case failed
    }

    public var id: Int
    public var endpoint: String
    public var source: String
    public var deliveryID: String?
    public var target: String
    public var notifier: String
    public var events: [HookEvent]
    public var state: State
    public var attempts: Int
    public var createdAt: Date
    public var nextAttemptAt: Date
    public var updatedAt: Date
    public var lastError: String?
    /// The stored request it passes on (``DeliveryStore/request(_:)``), if it does.
    public var requestID: Int?
}

/// A target paused by its circuit breaker, as the queue records it for `hookgate deliveries`.
public struct PausedTarget: Sendable, Equatable {
    public var target: String
    public var failures: Int
    public var since: Date
    public var nextProbe: Date
}

/// Pending notifications of one target, for metrics and for waking its lane.
public struct TargetSummary: Sendable, Equatable {
    public var target: String
    public var pending: Int
    public var oldestCreatedAt: Date
    public var nextAttemptAt: Date
}

/// The queue could not be read or written (disk full, database locked or damaged …).
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// How an endpoint's notifications are delivered.
public enum DeliveryMode: String, Sendable, CaseIterable {
    /// Written to the durable queue, answered 200, delivered (and retried) in the background.
    case queued
    /// Delivered before answering, as flux-recv did; the answer says how it went.
    case sync
}

/// The durable queue's policy (`delivery:` at the top of a hookgate config).
public struct DeliverySettings: Sendable, Equatable {
    /// A delivery id seen again within this window is answered "duplicate" and notifies nothing.
    public var duplicateWindow: Duration = .seconds(3600)
    /// A notification still failing this long after it arrived becomes a dead letter.
    public var maxAge: Duration = .seconds(24 * 3600)
    /// A notification that failed this many times becomes a dead letter; 0 means no limit but `maxAge`.
    public var maxAttempts: Int = 0
    /// The first retry's delay; each further retry doubles it, up to `maxBackoff`, with jitter.
    public var initialBackoff: Duration = .seconds(1)
    public var maxBackoff: Duration = .seconds(300)
    /// At most this many calls to one target at once.
    public var concurrencyPerTarget: Int = 4
    /// Delivered notifications are listed (`hookgate deliveries`) this long after they arrived,
    /// then deleted, so the queue's file stays the size of its recent traffic.
    public var keepDelivered: Duration = .seconds(24 * 3600)
    /// On shutdown, calls in flight get this long to finish; the rest are retried on the next start.
    public var drainTimeout: Duration = .seconds(10)
    /// Accepted delivery ids are kept this long even past `duplicateWindow`: the longest
    /// `recover.lookback` of the config, so recovery knows what was accepted (7 days when a
    /// `create` action reports run states, which are remembered the same way).
    public var acceptedLookback: Duration = .zero

    /// How long a seen delivery id is kept.
    public var seenRetention: Duration { max(duplicateWindow, acceptedLookback) }

    public init() {}
}

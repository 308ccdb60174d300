import Metrics

/// Every metric hookgate records, through the factory it is given (the process's Prometheus
/// registry, or a test's own), with its labels. Labels are bounded: the endpoint's name (never
/// its URL), the source, the outcome, the notifier kind, the queue target.
public struct HookMetrics: Sendable {
    /// Requests to hook endpoints, by `endpoint`, `source` and `outcome`.
    public static let requests = "hookgate_requests_total"
    /// Notify calls, by `notifier` and `outcome` (`ok`, `rejected`, `unreachable`, `timeout`).
    public static let notifications = "hookgate_notifications_total"
    /// Time spent notifying for one request, by `notifier`.
    public static let notifyDuration = "hookgate_notify_duration_seconds"

    let factory: any MetricsFactory

    public init(factory: any MetricsFactory) {
        self.factory = factory
    }

    func request(endpoint: String, source: Source, outcome: Outcome) {
        counter(Self.requests, [("endpoint", endpoint), ("source", source.rawValue), ("outcome", outcome.rawValue)]).increment()
    }

    func notification(notifier: String, backend: String? = nil, outcome: String, duration: Duration) {
        let nanoseconds = duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
        counter(Self.notifications, [("notifier", notifier), ("outcome", outcome)]).increment()
        Timer(label: Self.notifyDuration, dimensions: [("notifier", notifier)], factory: factory).recordNanoseconds(nanoseconds)
        if let backend {
            counter(ForwardMetrics.requests, [("backend", backend), ("outcome", outcome)]).increment()
            Timer(label: ForwardMetrics.duration, dimensions: [("backend", backend)], factory: factory).recordNanoseconds(nanoseconds)
        }
    }

    func counter(_ label: String, _ dimensions: [(String, String)] = []) -> Counter {
        Counter(label: label, dimensions: dimensions, factory: factory)
    }

    func gauge(_ label: String, _ dimensions: [(String, String)] = []) -> Gauge {
        Gauge(label: label, dimensions: dimensions, factory: factory)
    }
}

/// The queue's metric names.
public enum QueueMetrics {
    /// Pending notifications, by `target`.
    public static let depth = "hookgate_queue_depth"
    /// Age of the oldest pending notification in seconds, by `target`.
    public static let oldestPending = "hookgate_queue_oldest_pending_seconds"
    /// Delivery attempts by `target` and `outcome` (`delivered`, `retry`, `failed`).
    public static let attempts = "hookgate_delivery_attempts_total"
    /// Notifications given up on, by `target`.
    public static let deadLetters = "hookgate_dead_letters_total"
    /// Refresh notifications merged into an identical pending one, by `target`.
    public static let merged = "hookgate_notifications_merged_total"
}

/// The `forward` action's metric names; `backend` is the backend's `host:port`.
public enum ForwardMetrics {
    /// Requests forwarded, by `backend` and `outcome` (`ok`, `rejected`, `unreachable`, `timeout`).
    public static let requests = "hookgate_forward_requests_total"
    /// Time one forward took, by `backend`.
    public static let duration = "hookgate_forward_duration_seconds"
    /// 1 while a backend's target is paused by its circuit breaker, by `target`.
    public static let paused = "hookgate_forward_paused"
}

/// The reload metric names.
public enum ReloadMetrics {
    /// Reloads by `result` (`loaded`, `refused`).
    public static let reloads = "hookgate_config_reloads_total"
    /// 1 while the config on disk was refused and an older one is served.
    public static let stale = "hookgate_config_stale"
}

/// How a request to a hook endpoint ended.
public enum Outcome: String, Sendable {
    case notified
    case queued
    case duplicate
    case unavailable
    case pong
    case ignored
    case unmatched
    case unauthorized
    case badRequest = "bad_request"
    case tooLarge = "too_large"
    /// More events than `limits.maxEventsPerDelivery`.
    case tooManyEvents = "too_many_events"
    case downstreamError = "downstream_error"
    case downstreamTimeout = "downstream_timeout"
    /// The client's address is not in the endpoint's `allowFrom`.
    case forbidden
    /// Over the endpoint's `rateLimit`.
    case rateLimited = "rate_limited"
    /// Over `limits.maxConcurrentRequests` (or an endpoint's or client's share of it), or over
    /// `limits.maxBodyBytesInFlight`.
    case overloaded
}

import Metrics

/// Every metric hookgate records, with its labels, in one place. Labels are bounded: the
/// endpoint's name (never its URL), the source, the outcome, the notifier kind.
public enum HookMetrics {
    /// Requests to hook endpoints, by `endpoint`, `source` and `outcome`.
    public static let requests = "hookgate_requests_total"
    /// Notify calls, by `notifier` and `outcome` (`ok`, `rejected`, `unreachable`, `timeout`).
    public static let notifications = "hookgate_notifications_total"
    /// Time spent notifying for one request, by `notifier`.
    public static let notifyDuration = "hookgate_notify_duration_seconds"

    static func request(endpoint: String, source: Source, outcome: Outcome) {
        Counter(label: requests, dimensions: [("endpoint", endpoint), ("source", source.rawValue), ("outcome", outcome.rawValue)]).increment()
    }

    static func notification(notifier: String, outcome: String, duration: Duration) {
        Counter(label: notifications, dimensions: [("notifier", notifier), ("outcome", outcome)]).increment()
        Timer(label: notifyDuration, dimensions: [("notifier", notifier)]).recordNanoseconds(
            duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }
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

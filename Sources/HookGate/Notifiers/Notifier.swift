import Logging

/// Turns events into calls on something downstream (the Flux API, a log, Kubernetes …).
public protocol Notifier: Sendable {
    /// A bounded label for metrics and logs (`flux-api`, `log`).
    var kind: String { get }

    /// Where the calls go, stable across restarts: the queue orders and limits deliveries per
    /// target and finds the notifier again by it (`flux-api http://…/v11/notify`, `log`).
    var target: String { get }

    /// Delivers the events of one verified request that its action chose (``ActionSpec/accepts(_:)``).
    func notify(_ events: [HookEvent], context: NotifyContext) async throws(NotifyFailure)

    /// For notifications that only ask for a refresh: a key equal for notifications that would
    /// make the same calls. A queued notification with the same key that has not been attempted
    /// since the new one arrived is merged with it (docs/delivery.md). Nil (the default): never
    /// merged, for notifications that create something or carry details.
    func mergeKey(for events: [HookEvent]) -> String?

    /// Whether ``notify(_:context:)`` needs the request itself (``NotifyContext/request``), which
    /// is then stored with the queued work (`forward`).
    var needsRequest: Bool { get }

    /// Whether a `delivery: sync` answer waits for it; one that is not is queued even then.
    var isRequired: Bool { get }

    /// For a downstream that may stay down for long (a `forward` backend): after this many
    /// failures in a row its work waits, and it is probed once per interval (``CircuitBreakers``).
    var pausing: Pausing? { get }

    /// The backend's `host:port`, the label of the per-backend metrics; nil for other notifiers.
    var backendLabel: String? { get }

    /// Whether webhooks are dispatched to it; false for one whose work a service queues
    /// (``StatusNotifier``).
    var takesWebhooks: Bool { get }
}

extension Notifier {
    public func mergeKey(for events: [HookEvent]) -> String? { nil }
    public var needsRequest: Bool { false }
    public var isRequired: Bool { true }
    public var pausing: Pausing? { nil }
    public var backendLabel: String? { nil }
    public var takesWebhooks: Bool { true }
}

/// Where the events came from, for logs and for notifiers that record it.
public struct NotifyContext: Sendable {
    public var endpoint: String
    public var source: Source
    /// The delivery's id, given when it was accepted: the sender's, or a fresh one
    /// (docs/delivery.md#delivery-ids). Names of created objects derive from it alone.
    public var deliveryID: String
    public var logger: Logger
    /// The request as received, for notifiers that pass it on (``Notifier/needsRequest``).
    public var request: ForwardedRequest?

    public init(endpoint: String, source: Source, deliveryID: String, logger: Logger, request: ForwardedRequest? = nil) {
        self.endpoint = endpoint
        self.source = source
        self.deliveryID = deliveryID
        self.logger = logger
        self.request = request
    }
}

/// Why a notification did not get through.
public struct NotifyFailure: Error, Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// The downstream answered with an error status.
        case rejected
        /// The downstream could not be reached (connection refused, DNS, TLS …).
        case unreachable
        /// The downstream did not answer in time.
        case timeout
    }

    public var kind: Kind
    /// For the operator's log; holds no secrets (URLs here are configured downstreams).
    public var detail: String
    /// The downstream's HTTP status, when it answered.
    public var status: Int?
    /// How long the downstream asked to wait (`Retry-After`).
    public var retryAfter: Duration?
    /// True when no retry can succeed whatever the status (what to deliver is gone).
    var final = false

    public init(_ kind: Kind, _ detail: String, status: Int? = nil, retryAfter: Duration? = nil) {
        self.kind = kind
        self.detail = detail
        self.status = status
        self.retryAfter = retryAfter
    }

    /// A failure no retry can fix, whatever any downstream says.
    static func final(_ detail: String) -> NotifyFailure {
        var failure = NotifyFailure(.rejected, detail)
        failure.final = true
        return failure
    }

    /// A refusal that a retry cannot fix: a 4xx other than 408 (timeout) and 429 (too many requests).
    public var isPermanent: Bool {
        if final { return true }
        guard kind == .rejected, let status else { return false }
        return (400..<500).contains(status) && status != 408 && status != 429
    }
}

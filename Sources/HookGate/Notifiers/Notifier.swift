import Logging

/// Turns events into calls on something downstream (the Flux API, a log, Kubernetes …).
public protocol Notifier: Sendable {
    /// A bounded label for metrics and logs (`flux-api`, `log`).
    var kind: String { get }

    /// Delivers every notifiable event of one verified request.
    func notify(_ events: [HookEvent], context: NotifyContext) async throws(NotifyFailure)
}

/// Where the events came from, for logs and for notifiers that record it.
public struct NotifyContext: Sendable {
    public var endpoint: String
    public var source: Source
    public var deliveryID: String?
    public var logger: Logger

    public init(endpoint: String, source: Source, deliveryID: String?, logger: Logger) {
        self.endpoint = endpoint
        self.source = source
        self.deliveryID = deliveryID
        self.logger = logger
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

    public init(_ kind: Kind, _ detail: String) {
        self.kind = kind
        self.detail = detail
    }
}

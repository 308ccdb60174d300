import Foundation
import HTTPTypes

/// One kind of sender: how its requests are verified and what they mean.
///
/// The server calls ``verify(_:)`` first, over the raw bytes, and ``parse(_:)`` only when that
/// succeeded. A provider never calls a notifier; it returns events.
public protocol Provider: Sendable {
    /// Checks the request's signature, token or JWT against the endpoint's key, in constant time.
    func verify(_ request: WebhookRequest) async throws(HookFailure)

    /// Turns a verified request into events; an event the endpoint does not act on becomes
    /// `.other`, a test delivery `.ping`.
    func parse(_ request: WebhookRequest) throws(HookFailure) -> [HookEvent]

    /// What ``verify(_:)`` checks, in one line, for `hookgate verify` (`X-Gitlab-Token equals the key` …).
    var checks: String { get }

    /// The sender's id for this delivery (`X-GitHub-Delivery` …), for logs and duplicate checks.
    /// Read from headers only: it is asked before verification, so it never parses the body.
    func deliveryID(of request: WebhookRequest) -> String?

    /// The sender's id of a verified request: ``deliveryID(of:)``, or one the body carries
    /// (Pub/Sub's `messageId`), asked only once the request is verified.
    func acceptedDeliveryID(of request: WebhookRequest) -> String?

    /// Whether the request's signature, now verified, covers its whole body: then a copy of the
    /// body under another (unsigned) delivery id is a replay, not a new delivery.
    func signsBody(_ request: WebhookRequest) -> Bool
}

extension Provider {
    public func deliveryID(of request: WebhookRequest) -> String? {
        request.header(.xRequestID)
    }

    public func acceptedDeliveryID(of request: WebhookRequest) -> String? {
        deliveryID(of: request)
    }

    public func signsBody(_ request: WebhookRequest) -> Bool { false }
}

/// Makes an endpoint's provider, through its source's plug-in (``SourceKind``).
public enum ProviderFactory {
    /// Makes the provider for `endpoint`. `googleKeys` serves GoogleContainerRegistry endpoints;
    /// `now` is the clock signed timestamps are checked against (StandardWebhooks, GitLab).
    public static func make(
        for endpoint: Endpoint, googleKeys: GoogleKeyStore, now: @escaping @Sendable () -> Date = { Date() }
    ) -> any Provider {
        SourceKind.of(endpoint.source).makeProvider(endpoint, ProviderContext(googleKeys: googleKeys, now: now))
    }
}

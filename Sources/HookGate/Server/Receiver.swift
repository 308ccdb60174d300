import AsyncHTTPClient
import Logging
import NIOCore

/// The endpoints a running server answers, by fingerprint, each with its provider and notifiers.
/// Built once from a ``Config``; immutable.
public struct Receiver: Sendable {
    struct Route: Sendable {
        var endpoint: Endpoint
        var provider: any Provider
        var notifiers: [any Notifier]
    }

    let routes: [String: Route]
    let limits: Limits
    /// Every notifier, by its target, for the delivery worker.
    public let notifiers: [String: any Notifier]

    /// - Parameters:
    ///   - client: the one HTTP client every outbound call uses.
    ///   - notifyTimeout: the limit on each Flux API call.
    ///   - logNotifier: the `log` action; writes to standard output unless a test says otherwise.
    public init(
        config: Config, client: HTTPClient, logger: Logger, notifyTimeout: TimeAmount = FluxAPINotifier.defaultTimeout,
        logNotifier: LogNotifier = LogNotifier()
    ) {
        let googleKeys = GoogleKeyStore(client: client, logger: logger)
        var fluxNotifiers: [String: FluxAPINotifier] = [:]
        var routes: [String: Route] = [:]
        for endpoint in config.endpoints {
            let notifiers: [any Notifier] = endpoint.notify.map { action in
                switch action {
                case .fluxAPI(let url):
                    let notifier = fluxNotifiers[url] ?? FluxAPINotifier(baseURL: url, client: client, timeout: notifyTimeout)
                    fluxNotifiers[url] = notifier
                    return notifier
                case .log:
                    return logNotifier
                }
            }
            routes[endpoint.fingerprint] = Route(
                endpoint: endpoint, provider: ProviderFactory.make(for: endpoint, googleKeys: googleKeys), notifiers: notifiers)
        }
        self.routes = routes
        self.limits = config.limits
        var byTarget: [String: any Notifier] = [:]
        for route in routes.values {
            for notifier in route.notifiers { byTarget[notifier.target] = notifier }
        }
        self.notifiers = byTarget
    }
}

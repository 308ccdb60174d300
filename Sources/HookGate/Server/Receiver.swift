import AsyncHTTPClient
import Logging
import NIOCore

/// The endpoints a running server answers, by fingerprint, each with its provider and the
/// notifiers of its actions. Built once from a ``Config``; immutable.
public struct Receiver: Sendable {
    /// An endpoint's action and the notifiers that do it (one, or one per `forward` backend).
    struct Step: Sendable {
        var action: Action
        var notifiers: [any Notifier]
    }

    struct Route: Sendable {
        var endpoint: Endpoint
        var provider: any Provider
        /// One per `notify:` entry, in order (``Verdict/Choice/action`` indexes them).
        var steps: [Step]
        /// The endpoint's `rateLimit`, running; a reload starts it full again.
        var bucket: TokenBucket?
        /// How many refusals of this endpoint are logged (all are counted).
        var refusalLog = LogAllowance()
    }

    let routes: [String: Route]
    let limits: Limits
    let clientAddresses: ClientAddressPolicy
    /// Every notifier, by its target, for the delivery worker.
    public let notifiers: [String: any Notifier]
    /// The targets earlier versions queued this config's actions under, by position
    /// (`reconcile gh#0`), each with the target it has now.
    public let renamedTargets: [String: String]

    /// - Parameters:
    ///   - client: the one HTTP client every outbound call but Kubernetes' uses.
    ///   - kube: the Kubernetes client, required when an action talks to Kubernetes.
    ///   - notifyTimeout: the limit on each Flux API call.
    ///   - logNotifier: the `log` action; writes to standard output unless a test says otherwise.
    public init(
        config: Config, client: HTTPClient, kube: KubeClient?, logger: Logger, notifyTimeout: TimeAmount = FluxAPINotifier.defaultTimeout,
        logNotifier: LogNotifier = LogNotifier()
    ) throws(ConfigError) {
        let googleKeys = GoogleKeyStore(client: client, logger: logger)
        var notifiers: [String: any Notifier] = [:]
        var routes: [String: Route] = [:]
        var renamed: [String: String] = [:]
        for endpoint in config.endpoints {
            let resources = ActionResources(
                client: client, kube: kube, notifyTimeout: notifyTimeout, logNotifier: logNotifier, endpoint: endpoint, file: config.file, line: endpoint.line)
            var steps: [Step] = []
            for (index, action) in endpoint.notify.enumerated() {
                let target = action.target(endpoint: endpoint.name)
                if action.spec.needsKubernetes { renamed["\(action.spec.kind) \(endpoint.name)#\(index)"] = target }
                // Actions with one target (every endpoint's `log`, one Flux API) share a notifier.
                var made: [any Notifier] = []
                if let shared = notifiers[target] {
                    made = [shared]
                } else {
                    for notifier in try action.spec.makeNotifiers(target: target, resources: resources) {
                        let shared = notifiers[notifier.target] ?? notifier
                        notifiers[notifier.target] = shared
                        made.append(shared)
                    }
                }
                steps.append(Step(action: action, notifiers: made.filter(\.takesWebhooks)))
            }
            routes[endpoint.urlSegment] = Route(
                endpoint: endpoint, provider: ProviderFactory.make(for: endpoint, googleKeys: googleKeys), steps: steps,
                bucket: endpoint.rateLimit.map { TokenBucket($0) })
        }
        self.routes = routes
        self.limits = config.limits
        self.clientAddresses = config.clientAddresses
        self.notifiers = notifiers
        self.renamedTargets = renamed
    }
}

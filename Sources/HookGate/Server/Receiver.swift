import AsyncHTTPClient
import Logging
import NIOCore

/// The endpoints a running server answers, by fingerprint, each with its provider and actions.
/// Built once from a ``Config``; immutable.
public struct Receiver: Sendable {
    /// A notifier and the rule that chooses the events it gets.
    struct Step: Sendable {
        var notifier: any Notifier
        var rule: Rule
    }

    struct Route: Sendable {
        var endpoint: Endpoint
        var provider: any Provider
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
        var fluxNotifiers: [String: FluxAPINotifier] = [:]
        var routes: [String: Route] = [:]
        for endpoint in config.endpoints {
            var steps: [Step] = []
            for (index, action) in endpoint.notify.enumerated() {
                let target = "\(endpoint.name)#\(index)"
                let notifier: any Notifier
                switch (action.kind, kube) {
                case (.fluxAPI(let url), _):
                    let flux = fluxNotifiers[url] ?? FluxAPINotifier(baseURL: url, client: client, timeout: notifyTimeout)
                    fluxNotifiers[url] = flux
                    notifier = flux
                case (.log, _):
                    notifier = logNotifier
                case (.reconcile(let objects), let kube?):
                    notifier = ReconcileNotifier(
                        target: "reconcile " + target,
                        objects: objects.map {
                            ReconcileNotifier.Target(resource: $0.resource, namespace: $0.namespace ?? kube.connection.namespace,
                                                     name: $0.name, matchLabels: $0.matchLabels)
                        },
                        client: kube)
                case (.create(let spec), let kube?):
                    notifier = CreateNotifier(
                        target: "create " + target, resource: spec.resource, namespace: spec.namespace ?? kube.connection.namespace,
                        template: spec.template, client: kube)
                case (.reconcile, nil), (.create, nil):
                    throw ConfigError(problems: [ConfigProblem(
                        file: config.file, line: endpoint.line,
                        message: "reconcile and create actions need the Kubernetes API, and hookgate has no way to reach it",
                        fix: "run it in a pod (in-cluster service account), set KUBECONFIG, or pass --kubeconfig")])
                }
                steps.append(Step(notifier: notifier, rule: action.rule))
            }
            routes[endpoint.urlSegment] = Route(
                endpoint: endpoint, provider: ProviderFactory.make(for: endpoint, googleKeys: googleKeys), steps: steps,
                bucket: endpoint.rateLimit.map { TokenBucket($0) })
        }
        self.routes = routes
        self.limits = config.limits
        self.clientAddresses = config.clientAddresses
        var byTarget: [String: any Notifier] = [:]
        for route in routes.values {
            for step in route.steps { byTarget[step.notifier.target] = step.notifier }
        }
        self.notifiers = byTarget
    }
}

import AsyncHTTPClient
import Hummingbird
import HummingbirdCore
import Logging
import Metrics
import NIOCore
import Prometheus
import ServiceLifecycle

/// How the HTTP server listens and how long it waits.
public struct ServerOptions: Sendable {
    public var listen: ListenAddress
    /// A connection with nothing to read or write for this long is closed (slow or stuck clients).
    public var idleTimeout: TimeAmount
    /// A request (head and body) must arrive in full within this time after the connection opens
    /// or the previous response ends; a client that trickles bytes is cut off.
    public var requestReadTimeout: TimeAmount
    /// How long a notify call may take before the sender gets 504.
    public var notifyTimeout: TimeAmount
    /// Where the admin API listens (`--admin-listen`); nil serves none. Never the webhook listener.
    public var adminListen: ListenAddress?
    /// Where `/metrics` is served (`--metrics-listen`), with `/health` and `/readyz` for probes; nil
    /// serves it on the webhook listener, as flux-recv did. The same address as `adminListen`
    /// shares one listener.
    public var metricsListen: ListenAddress?
    /// How often GitHub App tokens are checked for renewal, and the Secrets reconciled.
    public var appRenewEvery: Duration = GitHubAppService.defaultRenewEvery
    public var appReconcileEvery: Duration = GitHubAppService.defaultReconcileEvery
    /// The Lease that lets one replica keep the tokens: how long it holds, how often it is renewed.
    public var appLeaseDuration: Duration = LeaderLease.defaultLeaseDuration
    public var appRetryPeriod: Duration = LeaderLease.defaultRetryPeriod

    public static let defaultIdleTimeout: TimeAmount = .seconds(60)
    public static let defaultRequestReadTimeout: TimeAmount = .seconds(30)

    public init(
        listen: ListenAddress = .default, idleTimeout: TimeAmount = ServerOptions.defaultIdleTimeout,
        requestReadTimeout: TimeAmount = ServerOptions.defaultRequestReadTimeout,
        notifyTimeout: TimeAmount = FluxAPINotifier.defaultTimeout, adminListen: ListenAddress? = nil, metricsListen: ListenAddress? = nil
    ) {
        self.adminListen = adminListen
        self.metricsListen = metricsListen
        self.listen = listen
        self.idleTimeout = idleTimeout
        self.requestReadTimeout = requestReadTimeout
        self.notifyTimeout = notifyTimeout
    }
}

/// How the served config follows its files (docs/reload.md).
public struct ReloadOptions: Sendable {
    /// How often the config and the files it names are read; zero: only on SIGHUP.
    public var interval: Duration
    /// Reload on SIGHUP.
    public var trapHangup: Bool

    public static let defaultInterval: Duration = .seconds(2)

    public init(interval: Duration = ReloadOptions.defaultInterval, trapHangup: Bool = true) {
        self.interval = interval
        self.trapHangup = trapHangup
    }
}

/// The composition root: the routes, the receiver built from `config`, the HTTP server.
///
/// ```swift
/// let app = buildApplication(config: config, options: .init(listen: .default), client: .shared,
///                            metrics: registry, logger: logger)
/// try await app.runService()
/// ```
/// - Parameters:
///   - client: used for every outbound call but Kubernetes'; the caller shuts it down after the app stops.
///   - kube: the Kubernetes client, needed by reconcile and create actions (made when first needed).
///   - store: the durable queue; the app runs its delivery worker.
///   - metrics: the registry metrics are recorded in and `/metrics` renders; nil records through
///     the process's `MetricsSystem` and serves no `/metrics`.
///   - reload: follow changes to the config and its files; nil serves `config` until the end.
///   - onListening: called with the bound address once the server accepts connections.
public func buildApplication(
    config: Config,
    options: ServerOptions,
    client: HTTPClient,
    kube: KubeAccess = KubeAccess(client: nil),
    store: DeliveryStore,
    metrics: PrometheusCollectorRegistry?,
    logger: Logger,
    logNotifier: LogNotifier = LogNotifier(),
    reload: ReloadOptions? = nil,
    onListening: @escaping @Sendable (ListenAddress) async -> Void = { _ in }
) throws(ConfigError) -> some ApplicationProtocol {
    let recorder = HookMetrics(factory: metrics.map { PrometheusMetricsFactory(registry: $0) } ?? MetricsSystem.factory)
    let router = Router(context: HookRequestContext.self)
    router.get("/health") { _, _ in HookController.reply(.ok, "OK") }
    var exposition: (@Sendable () -> Response)?
    if let metrics {
        exposition = {
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.emitToBuffer())))
        }
    }
    if let exposition, options.metricsListen == nil {
        router.get("/metrics") { _, _ in exposition() }
    }
    let dynamic = DynamicBackends(store: store)
    let build: ConfigReloader.Build = { config throws(ConfigError) in
        let config = dynamic.applied(to: config)
        var kubeClient: KubeClient?
        if config.needsKubernetes {
            do {
                kubeClient = try kube.client()
            } catch {
                throw ConfigError(problems: [ConfigProblem(
                    file: config.file, line: nil, message: "reconcile and create actions need the Kubernetes API, and it cannot be reached: \(error)",
                    fix: "fix the kubeconfig or the pod's service account")], files: config.files)
            }
        }
        return try Receiver(
            config: config, client: client, kube: kubeClient, logger: logger, notifyTimeout: options.notifyTimeout, logNotifier: logNotifier)
    }
    let table = RouteTable(receiver: try build(config), config: config)
    let readiness: @Sendable () async -> Response = {
        do {
            // A small probe may fit in a page already allocated on a full disk: a webhook's
            // write that failed lately counts too.
            guard !store.failedRecently else { throw StoreError("a write failed within \(DeliveryStore.failureMemory)") }
            try await store.probe()
            return HookController.reply(.ok, table.readiness)
        } catch {
            return HookController.reply(.serviceUnavailable, "the delivery queue cannot be written")
        }
    }
    router.get("/readyz") { _, _ in await readiness() }
    let worker = DeliveryWorker(store: store, notifiers: table.notifiers, settings: { table.config.delivery }, metrics: recorder, logger: logger)
    let deliveries = Deliveries(store: store, settings: { table.config.delivery }, metrics: recorder, breakers: worker.breakers, wake: { worker.wake($0) })
    HookController(table: table, deliveries: deliveries, metrics: recorder).addRoutes(to: router)
    var services: [any Service] = [worker]
    // One Lease chooses the replica that keeps App tokens, hooks and recovery.
    let leadership = Leadership(
        kube: kube, namespace: { table.config.githubApps.first?.secrets.namespace }, leaseDuration: options.appLeaseDuration,
        retryPeriod: options.appRetryPeriod, logger: logger)
    if !config.githubApps.isEmpty {
        services.append(GitHubAppService(
            apps: { table.config.githubApps }, kube: kube, client: client, metrics: recorder, logger: logger,
            renewEvery: options.appRenewEvery, reconcileEvery: options.appReconcileEvery,
            leadership: leadership, retryPeriod: options.appRetryPeriod))
    }
    services.append(GitHostService(
        endpoints: { table.config.endpoints }, client: client, store: store, metrics: recorder, logger: logger, leadership: leadership))
    services.append(RunStatusWatcher(
        config: { table.config }, kube: kube, store: store, leadership: leadership, wake: { worker.wake($0) }, logger: logger))
    if options.adminListen != nil, config.adminToken == nil {
        throw ConfigError(problems: [ConfigProblem(
            file: config.file, line: nil, message: "--admin-listen serves the admin API, and the config names no token for it",
            fix: "add `admin: {tokenPath: admin.token}` (`hookgate keygen --out admin.token`), or leave out --admin-listen")], files: config.files)
    }
    // Every listener cuts off slow and idle clients alike.
    let server: HTTPServerBuilder = .http1(configuration: .init(
        additionalChannelHandlers: [RequestReadTimeoutHandler(timeout: options.requestReadTimeout)],
        idleTimeout: options.idleTimeout))
    // The listeners that never face the webhook senders: admin, metrics, or both on one address.
    for address in Set([options.adminListen, options.metricsListen].compactMap { $0 }) {
        let side = Router()  // never the webhook listener
        var roles: [String] = []
        if address == options.metricsListen {
            roles.append("metrics")
            side.get("/health") { _, _ in HookController.reply(.ok, "OK") }
            side.get("/readyz") { _, _ in await readiness() }
            if let exposition { side.get("/metrics") { _, _ in exposition() } }
        }
        if address == options.adminListen {
            roles.append("admin API")
            AdminController(table: table, backends: dynamic, rebuild: { () throws(ConfigError) in
                table.install(try build(table.config), config: table.config)
            }, logger: logger).addRoutes(to: side)
        }
        // Hummingbird's own "listening on" line would name this port as if it were the webhook one.
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .warning)
        let described = roles.joined(separator: " and ")
        services.append(Application(
            router: side, server: server, configuration: .init(address: .hostname(address.host, port: address.port), serverName: nil),
            onServerRunning: { channel in
                let bound = ListenAddress(host: address.host, port: channel.localAddress?.port ?? address.port)
                logger.info("\(described) on \(bound)", metadata: ["listener.address": "\(bound)", "listener.serves": "\(described)"])
            },
            logger: quiet))
    }
    if let reload {
        services.append(ConfigReloader(
            path: config.file, table: table, interval: reload.interval, trapHangup: reload.trapHangup, metrics: recorder, logger: logger, build: build))
    }

    let host = options.listen.host
    return Application(
        router: router,
        server: server,
        configuration: .init(address: .hostname(host, port: options.listen.port), serverName: nil),
        services: services,
        onServerRunning: { channel in
            await onListening(ListenAddress(host: host, port: channel.localAddress?.port ?? options.listen.port))
        },
        logger: logger
    )
}

import AsyncHTTPClient
import Hummingbird
import Logging
import NIOCore
import Prometheus

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

    public static let defaultIdleTimeout: TimeAmount = .seconds(60)
    public static let defaultRequestReadTimeout: TimeAmount = .seconds(30)

    public init(
        listen: ListenAddress = .default, idleTimeout: TimeAmount = ServerOptions.defaultIdleTimeout,
        requestReadTimeout: TimeAmount = ServerOptions.defaultRequestReadTimeout,
        notifyTimeout: TimeAmount = FluxAPINotifier.defaultTimeout
    ) {
        self.listen = listen
        self.idleTimeout = idleTimeout
        self.requestReadTimeout = requestReadTimeout
        self.notifyTimeout = notifyTimeout
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
///   - kube: the Kubernetes client, needed by reconcile and create actions.
///   - store: the durable queue; the app runs its delivery worker.
///   - metrics: the registry `/metrics` renders; nil serves no `/metrics`.
///   - onListening: called with the bound address once the server accepts connections.
public func buildApplication(
    config: Config,
    options: ServerOptions,
    client: HTTPClient,
    kube: KubeClient? = nil,
    store: DeliveryStore,
    metrics: PrometheusCollectorRegistry?,
    logger: Logger,
    logNotifier: LogNotifier = LogNotifier(),
    onListening: @escaping @Sendable (ListenAddress) async -> Void = { _ in }
) throws(ConfigError) -> some ApplicationProtocol {
    let router = Router(context: BasicRequestContext.self)
    router.get("/health") { _, _ in HookController.reply(.ok, "OK") }
    if let metrics {
        router.get("/metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.emitToBuffer())))
        }
    }
    router.get("/readyz") { _, _ in
        do {
            try await store.probe()
            return HookController.reply(.ok, "ready")
        } catch {
            return HookController.reply(.serviceUnavailable, "the delivery queue cannot be written")
        }
    }
    let receiver = try Receiver(
        config: config, client: client, kube: kube, logger: logger, notifyTimeout: options.notifyTimeout, logNotifier: logNotifier)
    let worker = DeliveryWorker(store: store, notifiers: receiver.notifiers, settings: config.delivery, logger: logger)
    let deliveries = Deliveries(store: store, settings: config.delivery, wake: { worker.wake($0) })
    HookController(receiver: receiver, deliveries: deliveries).addRoutes(to: router)

    let host = options.listen.host
    return Application(
        router: router,
        server: .http1(configuration: .init(
            additionalChannelHandlers: [RequestReadTimeoutHandler(timeout: options.requestReadTimeout)],
            idleTimeout: options.idleTimeout)),
        configuration: .init(address: .hostname(host, port: options.listen.port), serverName: nil),
        services: [worker],
        onServerRunning: { channel in
            await onListening(ListenAddress(host: host, port: channel.localAddress?.port ?? options.listen.port))
        },
        logger: logger
    )
}

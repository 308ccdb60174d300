import ArgumentParser
import AsyncHTTPClient
import HookGate
import Hummingbird
import Logging
import Metrics
import Prometheus

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the configured webhook endpoints (the default command).",
        discussion: """
            Loads and checks the whole config first; any problem stops it before a port is bound.
            Prints each endpoint's URL path at start. SIGTERM or SIGINT stop intake and let
            requests in flight finish.

            Examples:
              hookgate serve --config examples/quickstart/hookgate.yaml --listen 127.0.0.1:8080
              hookgate --config /etc/fluxrecv/fluxrecv.yaml --listen :8080 --data-dir /var/lib/hookgate --log-format json
            """
    )

    @OptionGroup var options: ConfigOptions

    @Option(help: ArgumentHelp("Address to listen on: :8080, 127.0.0.1:8080, [::1]:8080; port 0 picks a free port.", valueName: "addr"))
    var listen: String = ":8080"

    @Option(help: ArgumentHelp("Serve the admin API (backends of `backends:` groups) on this address, never on --listen; needs admin.tokenPath in the config.", valueName: "addr"))
    var adminListen: String?

    @Option(help: ArgumentHelp("Serve /metrics (with /health and /readyz for probes) on this address instead of --listen, so an ingress for --listen exposes only the hooks; may equal --admin-listen.", valueName: "addr"))
    var metricsListen: String?

    @Option(help: ArgumentHelp("Where the delivery queue lives (created if missing).", valueName: "dir"))
    var dataDir: String = DataDirectory.default

    @Option(help: ArgumentHelp("A kubeconfig for reconcile and create actions (default: $KUBECONFIG, else the pod's service account).", valueName: "file"))
    var kubeconfig: String?

    @Option(help: ArgumentHelp("Where the pod's service-account token, CA and namespace are mounted.", valueName: "dir"))
    var serviceAccountDir: String = KubeConnection.serviceAccountDirectory

    @Option(help: ArgumentHelp("How often to look for changes to the config, its key and template files: 2s, 500ms; 0 only reloads on SIGHUP.", valueName: "duration"))
    var reload: String = "2s"

    @Option(help: "Log format: text or json.")
    var logFormat: LogFormat = .text

    @Option(help: "Least severe log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    /// `--reload` as a duration; nil (SIGHUP only) for 0.
    private var reloadInterval: Duration? {
        guard let interval = DurationText.parse(reload), interval > .zero else { return nil }
        return interval
    }

    func validate() throws {
        guard DurationText.parse(reload) != nil else {
            throw ValidationError("--reload \(reload) is not a duration (for example 2s, 500ms, or 0 for SIGHUP only)")
        }
        guard ListenAddress(listen) != nil else {
            throw ValidationError("--listen \(listen) is not [host]:port (for example :8080 or 127.0.0.1:8080)")
        }
        if let adminListen, ListenAddress(adminListen) == nil {
            throw ValidationError("--admin-listen \(adminListen) is not [host]:port (for example 127.0.0.1:9090)")
        }
        if let metricsListen {
            guard let address = ListenAddress(metricsListen) else {
                throw ValidationError("--metrics-listen \(metricsListen) is not [host]:port (for example :9090)")
            }
            if address.port != 0, address == ListenAddress(listen) {
                throw ValidationError("--metrics-listen \(metricsListen) is --listen; leave it out to serve /metrics on the webhook port")
            }
        }
    }

    func run() async throws {
        AllocatorTuning.apply()
        let config = try options.load()
        bootstrapLogging(format: logFormat, level: logLevel)
        let logger = Logger(label: "hookgate")
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))

        for warning in config.warnings {
            logger.warning("\(warning.message)", metadata: ["config.file": "\(warning.file)", "config.line": "\(warning.line.map(String.init) ?? "-")", "config.fix": "\(warning.fix ?? "")"])
        }
        if metricsListen == nil {
            logger.warning("/metrics is served on the webhook listener \(listen), as flux-recv did: route only /hook/ to it, or move metrics with --metrics-listen :9090")
        }
        for endpoint in config.endpoints {
            logger.info("endpoint \(endpoint.source.rawValue) using key\(endpoint.keyPaths.count == 1 ? "" : "s") \(endpoint.keyPaths.joined(separator: ", ")) at \(endpoint.path)",
                        metadata: ["hook.endpoint": "\(endpoint.name)", "hook.source": "\(endpoint.source.rawValue)", "hook.path": "\(endpoint.path)"])
        }

        let store: DeliveryStore
        do {
            store = try await DeliveryStore.open(directory: dataDir, logger: logger)
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
        let kubeconfig = kubeconfig, serviceAccountDir = serviceAccountDir
        let kube = KubeAccess {
            guard let connection = try KubeConnection.resolve(kubeconfig: kubeconfig, serviceAccountDirectory: serviceAccountDir) else { return nil }
            let client = try KubeClient(connection: connection)
            logger.info("Kubernetes API \(connection.server) via \(connection.origin)", metadata: ["kube.namespace": "\(connection.namespace)"])
            return client
        }
        // Redirects are answers, not instructions: a forwarded POST must never turn into a GET
        // somewhere else, and a Flux API that redirects is misconfigured. A refused or silent
        // target fails within a second (AsyncHTTPClient retries connecting until the connect
        // timeout, by default 10 s), and its delivery is retried with the queue's backoff.
        var outbound = HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(1)))
        // hookgate bootstraps no tracer; without this, every call still made a (no-op) span and
        // its attributes (2% of a sync request in `perf`).
        outbound.tracing.tracer = nil
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: outbound)
        do {
            let app = try buildApplication(
                config: config, options: ServerOptions(listen: ListenAddress(listen)!, adminListen: adminListen.flatMap(ListenAddress.init),
                                       metricsListen: metricsListen.flatMap(ListenAddress.init)), client: client, kube: kube, store: store,
                metrics: registry, logger: logger, reload: reloadInterval.map { ReloadOptions(interval: $0) } ?? ReloadOptions(interval: .zero),
                onListening: { address in logger.info("listening on \(address)", metadata: ["server.address": "\(address)"]) })
            try await app.runService()
        } catch let error as ConfigError {
            printError("\(options.path): nothing was started:")
            for problem in error.problems { printError("  " + problem.description) }
            await shutdown(client, kube, store)
            throw ExitCode(1)
        } catch {
            await shutdown(client, kube, store)
            throw error
        }
        await shutdown(client, kube, store)
    }

    private func shutdown(_ client: HTTPClient, _ kube: KubeAccess, _ store: DeliveryStore) async {
        try? await client.shutdown()
        await kube.shutdown()
        await store.close()
    }
}

enum LogFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

func bootstrapLogging(format: LogFormat, level: Logger.Level) {
    LoggingSystem.bootstrap { label in
        var handler: any LogHandler =
            switch format {
            case .text: TextLogHandler(label: label)
            case .json: JSONLogHandler(label: label)
            }
        handler.logLevel = level
        return handler
    }
}

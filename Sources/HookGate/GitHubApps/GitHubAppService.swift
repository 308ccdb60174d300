import AsyncHTTPClient
import Foundation
import Logging
import ServiceLifecycle

/// Keeps every App's installation tokens fresh: renews those with under 30 minutes left (checked
/// every `renewEvery`), and reconciles the Secrets with the App's installations at start and every
/// `reconcileEvery` (docs/github-app.md). Failures are logged, counted and tried again next time;
/// nothing here stops the server.
public final class GitHubAppService: Service, Sendable {
    private let apps: @Sendable () -> [GitHubApp]
    private let kube: KubeAccess
    private let client: HTTPClient
    private let metrics: HookMetrics
    private let logger: Logger
    private let renewEvery: Duration
    private let reconcileEvery: Duration

    public static let defaultRenewEvery: Duration = .seconds(60)
    public static let defaultReconcileEvery: Duration = .seconds(600)

    /// - Parameter apps: the Apps of the config being served (a reload changes them).
    public init(
        apps: @escaping @Sendable () -> [GitHubApp], kube: KubeAccess, client: HTTPClient, metrics: HookMetrics, logger: Logger,
        renewEvery: Duration = GitHubAppService.defaultRenewEvery, reconcileEvery: Duration = GitHubAppService.defaultReconcileEvery
    ) {
        self.apps = apps
        self.kube = kube
        self.client = client
        self.metrics = metrics
        self.logger = logger
        self.renewEvery = renewEvery
        self.reconcileEvery = reconcileEvery
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var lastReconcile: ContinuousClock.Instant?
            while !Task.isCancelled {
                let reconcile = lastReconcile.map { ContinuousClock.now - $0 >= self.reconcileEvery } ?? true
                if reconcile { lastReconcile = .now }
                await self.tick(reconcile: reconcile)
                try? await Task.sleep(for: self.renewEvery)
            }
        }
    }

    private func tick(reconcile: Bool) async {
        let apps = apps()
        guard !apps.isEmpty else { return }
        let kubeClient: KubeClient
        do {
            guard let client = try kube.client() else {
                return logger.error("GitHub App tokens are kept in Kubernetes Secrets, and hookgate has no way to reach the Kubernetes API")
            }
            kubeClient = client
        } catch {
            return logger.error("cannot reach the Kubernetes API to keep GitHub App tokens", metadata: ["kube.error": "\(error)"])
        }
        for app in apps {
            let secrets = InstallationSecrets(app: app, github: GitHubAppClient(app: app, client: client), kube: kubeClient, metrics: metrics)
            if reconcile { await secrets.reconcile(logger: logger) }
            _ = await secrets.renewDue(logger: logger)
        }
    }
}

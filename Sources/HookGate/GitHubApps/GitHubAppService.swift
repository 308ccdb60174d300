import AsyncHTTPClient
import Foundation
import Logging
import ServiceLifecycle

/// Keeps every App's installation tokens fresh: renews those with under 30 minutes left (checked
/// every `renewEvery`), and reconciles the Secrets with the App's installations at start and every
/// `reconcileEvery` (docs/github-app.md). Failures are logged, counted and tried again next time;
/// nothing here stops the server. With several replicas only the ``Leadership`` holder does it
/// (the Lease `hookgate-leader`, in the first App's Secret namespace); every replica serves webhooks.
public final class GitHubAppService: Service, Sendable {
    private let apps: @Sendable () -> [GitHubApp]
    private let kube: KubeAccess
    private let client: HTTPClient
    private let metrics: HookMetrics
    private let logger: Logger
    private let renewEvery: Duration
    private let reconcileEvery: Duration
    private let retryPeriod: Duration
    private let leadership: Leadership

    public static let defaultRenewEvery: Duration = .seconds(60)
    public static let defaultReconcileEvery: Duration = .seconds(600)

    /// - Parameter apps: the Apps of the config being served (a reload changes them).
    public init(
        apps: @escaping @Sendable () -> [GitHubApp], kube: KubeAccess, client: HTTPClient, metrics: HookMetrics, logger: Logger,
        renewEvery: Duration = GitHubAppService.defaultRenewEvery, reconcileEvery: Duration = GitHubAppService.defaultReconcileEvery,
        leadership: Leadership, retryPeriod: Duration = LeaderLease.defaultRetryPeriod
    ) {
        self.leadership = leadership
        self.retryPeriod = retryPeriod
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
            var leading = false
            var lastReconcile: ContinuousClock.Instant?
            var lastRenew: ContinuousClock.Instant?
            while !Task.isCancelled {
                let apps = self.apps()
                if !apps.isEmpty, let kube = self.kubeClient() {
                    let holds = await self.leadership.holds() ?? false
                    if holds != leading {
                        self.logger.info(holds ? "this replica keeps the GitHub App tokens now" : "another replica keeps the GitHub App tokens now",
                                         metadata: ["lease.identity": "\(self.leadership.identity)"])
                        leading = holds
                        if holds { lastReconcile = nil; lastRenew = nil }
                    }
                    if leading, lastRenew.map({ ContinuousClock.now - $0 >= self.renewEvery }) ?? true {
                        let reconcile = lastReconcile.map { ContinuousClock.now - $0 >= self.reconcileEvery } ?? true
                        if reconcile { lastReconcile = .now }
                        lastRenew = .now
                        await self.tick(apps, kube: kube, reconcile: reconcile)
                    }
                }
                try? await Task.sleep(for: self.retryPeriod)
            }
        }
        // Stopping: let another replica take over at once rather than after the lease duration.
        await leadership.release()
    }

    /// The Kubernetes client, or nil (logged) when there is none.
    private func kubeClient() -> KubeClient? {
        do {
            guard let client = try kube.client() else {
                logger.error("GitHub App tokens are kept in Kubernetes Secrets, and hookgate has no way to reach the Kubernetes API")
                return nil
            }
            return client
        } catch {
            logger.error("cannot reach the Kubernetes API to keep GitHub App tokens", metadata: ["kube.error": "\(error)"])
            return nil
        }
    }

    private func tick(_ apps: [GitHubApp], kube kubeClient: KubeClient, reconcile: Bool) async {
        for app in apps {
            let secrets = InstallationSecrets(app: app, github: GitHubAppClient(app: app, client: client), kube: kubeClient, metrics: metrics)
            if reconcile { await secrets.reconcile(logger: logger) }
            _ = await secrets.renewDue(logger: logger)
        }
    }
}

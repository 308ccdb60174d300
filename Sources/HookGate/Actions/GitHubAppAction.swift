import Foundation
import Metrics

/// What an endpoint's `app: NAME` adds to its actions: the App's `installation` and
/// `installation_repositories` webhooks keep its installations' Secrets (docs/github-app.md).
/// Queued like any action, so a Kubernetes or GitHub outage is retried, not lost.
public struct GitHubAppAction: ActionSpec {
    public var app: GitHubApp

    public init(app: GitHubApp) {
        self.app = app
    }

    public var kind: String { "github-app" }
    public var definition: String { "github-app \(app.name)" }
    public var summary: String { "keep the installation tokens of GitHub App \(app.name) in Secrets in \(app.secrets.namespace)" }
    public var needsKubernetes: Bool { true }
    public var actsOnEveryEvent: Bool { true }

    static let events: Set<String> = ["installation", "installation_repositories"]

    public func accepts(_ event: HookEvent) -> Bool { Self.events.contains(event.name) }

    public var bodyPaths: Set<BodyPath> { Set(["action", "installation.id", "installation.account.login"].compactMap(BodyPath.init)) }

    /// One queue per App, whichever endpoints receive its webhooks.
    public func target(endpoint: String, id: String) -> String { "github-app \(app.name)" }

    public func makeNotifiers(target: String, resources: ActionResources) throws(ConfigError) -> [any Notifier] {
        let kube = try resources.kubernetes()
        let secrets = InstallationSecrets(
            app: app, github: GitHubAppClient(app: app, client: resources.client), kube: kube, metrics: HookMetrics(factory: MetricsSystem.factory))
        return [GitHubAppNotifier(target: target, secrets: secrets)]
    }
}

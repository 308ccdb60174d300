import Foundation
import Logging
import Metrics

/// One Secret per installation of a GitHub App, holding a valid installation token in the form a
/// Tekton service account uses as it is (docs/github-app.md): written when the App is installed or
/// a token is renewed, deleted when it is uninstalled or suspended.
public struct InstallationSecrets: Sendable {
    let app: GitHubApp
    let github: GitHubAppClient
    let kube: KubeClient
    let metrics: HookMetrics

    static let secrets = KubeResource(group: "", version: "v1", plural: "secrets", kind: "Secret")
    public static let appLabel = "hookgate.io/app"
    public static let installationLabel = "hookgate.io/installation"
    public static let expiresAnnotation = "hookgate.io/expires-at"
    public static let accountAnnotation = "hookgate.io/account"

    /// A token is renewed when less than this is left (tokens live an hour).
    public static let renewBefore: TimeInterval = 30 * 60

    public init(app: GitHubApp, github: GitHubAppClient, kube: KubeClient, metrics: HookMetrics) {
        self.app = app
        self.github = github
        self.kube = kube
        self.metrics = metrics
    }

    /// Why keeping a Secret failed: the GitHub call or the Kubernetes one.
    public enum Failure: Error, Sendable, CustomStringConvertible {
        case github(GitHubAppClient.Failure)
        case kubernetes(KubeError)

        public var description: String {
            switch self {
            case .github(let failure): "GitHub: \(failure)"
            case .kubernetes(let error): "Kubernetes: \(error)"
            }
        }

        /// The bounded label of the failure metric.
        var cause: String {
            switch self {
            case .github(let failure): failure.cause.rawValue
            case .kubernetes(let error): "kubernetes_" + error.reason.rawValue.lowercased()
            }
        }
    }

    /// Mints a token for `installation` and writes its Secret; returns when the token expires.
    @discardableResult
    public func store(installation: Int, account: String) async throws(Failure) -> Date {
        let token: GitHubAppClient.InstallationToken
        do {
            token = try await github.token(installation: installation)
        } catch {
            throw .github(error)
        }
        let name = app.secrets.name(installation: installation, account: account)
        let expires = ISO8601DateFormatter().string(from: token.expiresAt)
        let object: [String: Any] = [
            "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/basic-auth",
            "metadata": [
                "name": name, "namespace": app.secrets.namespace,
                "labels": [Self.appLabel: app.name, Self.installationLabel: String(installation), "app.kubernetes.io/managed-by": "hookgate"],
                "annotations": ["tekton.dev/git-0": app.gitHost, Self.expiresAnnotation: expires, Self.accountAnnotation: account],
            ],
            "stringData": [
                "username": "x-access-token", "password": token.token, "token": token.token, "expiresAt": expires,
                "installationID": String(installation), "account": account,
            ],
        ]
        do {
            let data = try JSONSerialization.data(withJSONObject: object)
            try await kube.createOrPatch(Self.secrets, namespace: app.secrets.namespace, name: name, object: data)
        } catch let error as KubeError {
            throw .kubernetes(error)
        } catch {
            throw .kubernetes(KubeError(reason: .other, code: nil, description: "\(error)"))
        }
        metrics.gauge(GitHubAppMetrics.expiry, [("app", app.name), ("installation", String(installation))])
            .record(max(0, token.expiresAt.timeIntervalSinceNow))
        return token.expiresAt
    }

    /// Deletes the Secrets of `installation` (found by label, whatever their names became).
    public func remove(installation: Int) async throws(Failure) {
        do {
            for secret in try await managed() where secret.labels?[Self.installationLabel] == String(installation) {
                try await kube.delete(Self.secrets, namespace: app.secrets.namespace, name: secret.name)
            }
        } catch {
            throw .kubernetes(error)
        }
        metrics.gauge(GitHubAppMetrics.expiry, [("app", app.name), ("installation", String(installation))]).record(0)
    }

    /// The Secrets this App's installations have now.
    func managed() async throws(KubeError) -> [KubeClient.ObjectMetadata] {
        try await kube.listMetadata(Self.secrets, namespace: app.secrets.namespace, labels: [Self.appLabel: app.name])
    }

    /// Renews every token with less than ``renewBefore`` left. Returns how many failed.
    public func renewDue(now: Date = Date(), logger: Logger) async -> Int {
        let secrets: [KubeClient.ObjectMetadata]
        do {
            secrets = try await managed()
        } catch {
            record(.kubernetes(error), installation: nil, logger: logger)
            return 1
        }
        var failed = 0
        for secret in secrets {
            guard let installation = secret.labels?[Self.installationLabel].flatMap(Int.init) else { continue }
            let expires = secret.annotations?[Self.expiresAnnotation].flatMap { ISO8601DateFormatter().date(from: $0) } ?? .distantPast
            metrics.gauge(GitHubAppMetrics.expiry, [("app", app.name), ("installation", String(installation))]).record(max(0, expires.timeIntervalSince(now)))
            guard expires.timeIntervalSince(now) < Self.renewBefore else { continue }
            do {
                try await store(installation: installation, account: secret.annotations?[Self.accountAnnotation] ?? "")
                logger.info("renewed an installation token", metadata: ["github.app": "\(app.name)", "github.installation": "\(installation)"])
            } catch {
                failed += 1
                record(error, installation: installation, logger: logger)
                await warn(on: secret.name, reason: "TokenRenewalFailed", message: "cannot renew the installation token: \(error)", logger: logger)
            }
        }
        return failed
    }

    static let events = KubeResource(group: "", version: "v1", plural: "events", kind: "Event")

    /// A Warning Event on the Secret, so `kubectl describe secret` shows why its token is getting old.
    func warn(on secret: String, reason: String, message: String, logger: Logger) async {
        let now = ISO8601DateFormatter().string(from: Date())
        let event: [String: Any] = [
            "apiVersion": "v1", "kind": "Event",
            "metadata": ["generateName": secret + ".", "namespace": app.secrets.namespace],
            "involvedObject": ["apiVersion": "v1", "kind": "Secret", "name": secret, "namespace": app.secrets.namespace],
            "reason": reason, "message": String(message.prefix(1024)), "type": "Warning", "source": ["component": "hookgate"],
            "firstTimestamp": now, "lastTimestamp": now, "count": 1,
        ]
        do {
            let data = try JSONSerialization.data(withJSONObject: event)
            try await kube.create(Self.events, namespace: app.secrets.namespace, object: data, name: nil)
        } catch {
            logger.warning("cannot record an Event on the Secret", metadata: ["github.app": "\(app.name)", "kube.error": "\(error)"])
        }
    }

    /// Makes the Secrets match the App's installations: missing ones written, ones of installations
    /// that are gone or suspended deleted (an uninstall whose webhook never arrived).
    public func reconcile(logger: Logger) async {
        let installations: [GitHubAppClient.Installation]
        let secrets: [KubeClient.ObjectMetadata]
        do {
            installations = try await github.installations()
        } catch {
            return record(.github(error), installation: nil, logger: logger)
        }
        do {
            secrets = try await managed()
        } catch {
            return record(.kubernetes(error), installation: nil, logger: logger)
        }
        let active = Dictionary(installations.filter { !$0.suspended }.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let present = Set(secrets.compactMap { $0.labels?[Self.installationLabel].flatMap(Int.init) })
        for installation in active.values.sorted(by: { $0.id < $1.id }) where !present.contains(installation.id) {
            do {
                try await store(installation: installation.id, account: installation.account)
                logger.info("wrote the Secret of an installation found by reconcile", metadata: ["github.app": "\(app.name)", "github.installation": "\(installation.id)"])
            } catch {
                record(error, installation: installation.id, logger: logger)
            }
        }
        for installation in present where active[installation] == nil {
            do {
                try await remove(installation: installation)
                logger.info("deleted the Secret of an installation that is gone or suspended", metadata: ["github.app": "\(app.name)", "github.installation": "\(installation)"])
            } catch {
                record(error, installation: installation, logger: logger)
            }
        }
    }

    private func record(_ failure: Failure, installation: Int?, logger: Logger) {
        metrics.counter(GitHubAppMetrics.failures, [("app", app.name), ("cause", failure.cause)]).increment()
        var metadata: Logger.Metadata = ["github.app": "\(app.name)", "github.error": "\(failure)"]
        if let installation { metadata["github.installation"] = "\(installation)" }
        logger.error("cannot keep an installation token", metadata: metadata)
    }
}

/// The GitHub App metric names.
public enum GitHubAppMetrics {
    /// Seconds until the token in an installation's Secret expires, by `app` and `installation`.
    public static let expiry = "hookgate_github_app_token_expiry_seconds"
    /// Failures to mint, store or delete, by `app` and `cause`.
    public static let failures = "hookgate_github_app_failures_total"
}

import AsyncHTTPClient
import Foundation
import Logging
import Metrics
import ServiceLifecycle

/// The metric names of hook registration and delivery recovery, labelled by endpoint name.
public enum GitHostMetrics {
    /// Hook writes, by `endpoint` and `outcome` (`created`, `updated`, `deleted`, `failed`).
    public static let hooks = "hookgate_git_hooks_total"
    /// Deliveries asked for again, by `endpoint`.
    public static let asked = "hookgate_recovery_asked_total"
    /// Deliveries asked for that arrived since, by `endpoint`.
    public static let recovered = "hookgate_recovery_recovered_total"
    /// Deliveries asked for in an earlier run and still not delivered, by `endpoint`.
    public static let stillFailing = "hookgate_recovery_still_failing"
    /// Recovery runs, by `endpoint` and `outcome` (`ok`, `failed`, `rate_limited`).
    public static let runs = "hookgate_recovery_runs_total"
}

/// Keeps each endpoint's hooks registered (`register`) and recovers its missed deliveries
/// (`recover`): at start, when a reload changes the endpoint (a rotated key, new events), and
/// every `every`. Only the ``Leadership`` holder does it; without Kubernetes the process does it
/// alone. Failures are logged and counted, and tried again at the next run; a host's rate limit
/// pauses its runs until the time it named (docs/git-hosts.md).
public final class GitHostService: Service, Sendable {
    private let endpoints: @Sendable () -> [Endpoint]
    private let client: HTTPClient
    private let store: DeliveryStore
    private let metrics: HookMetrics
    private let logger: Logger
    private let leadership: Leadership
    private let tick: Duration
    private let registrar = HookRegistrar()
    private let recovery = DeliveryRecovery()

    public init(
        endpoints: @escaping @Sendable () -> [Endpoint], client: HTTPClient, store: DeliveryStore, metrics: HookMetrics, logger: Logger,
        leadership: Leadership, tick: Duration = .seconds(1)
    ) {
        self.endpoints = endpoints
        self.client = client
        self.store = store
        self.metrics = metrics
        self.logger = logger
        self.leadership = leadership
        self.tick = tick
    }

    private struct Schedule {
        var registered: (at: ContinuousClock.Instant, signature: String)?
        var recovered: ContinuousClock.Instant?
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var leading: Bool?
            var schedules: [String: Schedule] = [:]
            while !Task.isCancelled {
                let all = self.endpoints()
                let managed = all.filter { $0.gitHost?.register != nil || $0.gitHost?.recover != nil }
                if !managed.isEmpty {
                    let holds = await self.leadership.holds() ?? true
                    if holds != leading {
                        if leading != nil || holds {
                            self.logger.info(holds ? "this replica keeps the git hosts' hooks now" : "another replica keeps the git hosts' hooks now",
                                             metadata: ["lease.identity": "\(self.leadership.identity)"])
                        }
                        leading = holds
                        schedules = [:]
                    }
                    if holds {
                        for endpoint in managed {
                            var schedule = schedules[endpoint.name] ?? Schedule()
                            await self.runDue(endpoint, all: all, schedule: &schedule)
                            schedules[endpoint.name] = schedule
                        }
                    }
                }
                try? await Task.sleep(for: self.tick)
            }
        }
        await leadership.release()
    }

    private func runDue(_ endpoint: Endpoint, all: [Endpoint], schedule: inout Schedule) async {
        guard let settings = endpoint.gitHost, let kind = GitHostKind.of(endpoint.source) else { return }
        var log = logger
        log[metadataKey: "hook.endpoint"] = "\(endpoint.name)"
        let now = ContinuousClock.now
        var registered: (host: any GitHost, url: String, scopes: [HookScope])?
        if let registration = settings.register, let api = settings.api {
            let pacer = RateLimitPacer.shared(for: api.url)
            if pacer.waitUntil() != nil { return }
            do {
                let desired = try kind.desiredHook(for: endpoint, publicURL: registration.publicURL)
                let host = try GitHostKind.connect(endpoint, api: api, client: client, pacer: pacer)
                registered = (host, desired.url, registration.scopes)
                let signature = desired.digest + registration.scopes.map(\.description).joined(separator: ",") + "\(registration.prune)" + api.url
                if schedule.registered.map({ now - $0.at >= registration.every || $0.signature != signature }) ?? true {
                    await register(endpoint, desired: desired, registration: registration, api: api, host: host, all: all, log: log)
                    schedule.registered = (now, signature)
                    if pacer.waitUntil() != nil { return }
                }
            } catch {
                if schedule.registered.map({ now - $0.at >= registration.every }) ?? true {
                    log.error("cannot register the endpoint's hooks: \(error.description)")
                    metrics.counter(GitHostMetrics.hooks, [("endpoint", endpoint.name), ("outcome", "failed")]).increment()
                    schedule.registered = (now, "")
                }
                return
            }
        }
        guard let recover = settings.recover, schedule.recovered.map({ now - $0 >= recover.every }) ?? true else { return }
        schedule.recovered = now
        if let registered {
            await self.recover(endpoint, hookURL: registered.url, scopes: registered.scopes, settings: recover, host: registered.host, log: log)
        } else if let app = endpoint.notify.lazy.compactMap({ ($0.spec as? GitHubAppAction)?.app }).first {
            // A GitHub App's own webhook, through the App's JWT.
            let pacer = RateLimitPacer.shared(for: app.apiURL)
            if pacer.waitUntil() != nil { schedule.recovered = nil; return }
            do {
                let host = try GitHubAppHookHost(app: app, client: client, pacer: pacer)
                await self.recover(endpoint, hookURL: nil, scopes: [.organization(app.name)], settings: recover, host: host, log: log)
            } catch {
                log.error("cannot recover the App's deliveries: \(error.description)")
                metrics.counter(GitHostMetrics.runs, [("endpoint", endpoint.name), ("outcome", "failed")]).increment()
            }
        }
    }

    private func register(
        _ endpoint: Endpoint, desired: DesiredHook, registration: GitHostSettings.Registration, api: GitAPI, host: any GitHost, all: [Endpoint],
        log: Logger
    ) async {
        var pruning: HookRegistrar.Pruning?
        if registration.prune {
            let prefix = GitHostKind.hookURL(publicURL: registration.publicURL, endpoint: endpoint).dropLast(endpoint.urlSegment.count)
            pruning = HookRegistrar.Pruning(prefix: String(prefix), claimed: Set(all.map { GitHostKind.hookURL(publicURL: registration.publicURL, endpoint: $0) }))
        }
        let changes = await registrar.reconcile(desired, endpoint: endpoint.name, api: api.url, scopes: registration.scopes, host: host, pruning: pruning)
        for change in changes where change.kind != .unchanged {
            metrics.counter(GitHostMetrics.hooks, [("endpoint", endpoint.name), ("outcome", change.kind.rawValue)]).increment()
            let metadata: Logger.Metadata = ["git.scope": "\(change.scope)", "git.hook": "\(change.hookID ?? "-")", "git.detail": "\(change.detail)"]
            if change.kind == .failed {
                log.error("cannot keep the hook at \(change.scope)", metadata: metadata)
            } else {
                log.info("hook \(change.kind.rawValue) at \(change.scope)", metadata: metadata)
            }
        }
        if changes.allSatisfy({ $0.kind == .unchanged }) {
            log.debug("hooks up to date", metadata: ["git.scopes": "\(changes.count)"])
        }
    }

    private func recover(
        _ endpoint: Endpoint, hookURL: String?, scopes: [HookScope], settings: GitHostSettings.Recovery, host: any GitHost, log: Logger
    ) async {
        let store = store, name = endpoint.name, lookback = settings.lookback
        let report = await recovery.run(
            endpoint: name, hookURL: hookURL, scopes: scopes, host: host, since: Date().addingTimeInterval(-lookback.seconds), maxPerRun: settings.maxPerRun,
            accepted: { id in await store.wasAccepted(endpoint: name, deliveryID: id, within: lookback) })
        let outcome = report.pausedUntil != nil ? "rate_limited" : report.problems.isEmpty ? "ok" : "failed"
        metrics.counter(GitHostMetrics.runs, [("endpoint", name), ("outcome", outcome)]).increment()
        if !report.asked.isEmpty { metrics.counter(GitHostMetrics.asked, [("endpoint", name)]).increment(by: report.asked.count) }
        if report.recovered > 0 { metrics.counter(GitHostMetrics.recovered, [("endpoint", name)]).increment(by: report.recovered) }
        metrics.gauge(GitHostMetrics.stillFailing, [("endpoint", name)]).record(report.stillFailing)
        var metadata: Logger.Metadata = [
            "recovery.asked": "\(report.asked.count)", "recovery.recovered": "\(report.recovered)", "recovery.still_failing": "\(report.stillFailing)",
            "recovery.accepted_before": "\(report.alreadyAccepted)", "recovery.left_for_later": "\(report.leftForLater)", "recovery.examined": "\(report.examined)",
        ]
        if !report.asked.isEmpty { metadata["recovery.delivery_ids"] = "\(report.asked.map { $0.delivery.deliveryID ?? $0.delivery.id }.joined(separator: ","))" }
        if let until = report.pausedUntil { metadata["recovery.paused_until"] = "\(GitHostCaller.time(until))" }
        if report.problems.isEmpty {
            log.info("recovery run: asked for \(report.asked.count) missed deliveries", metadata: metadata)
        } else {
            metadata["recovery.problems"] = "\(report.problems.joined(separator: "; "))"
            log.warning("recovery run: asked for \(report.asked.count) missed deliveries; some calls failed", metadata: metadata)
        }
    }
}

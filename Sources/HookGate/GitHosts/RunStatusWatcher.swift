import Foundation
import Logging
import ServiceLifecycle

/// Follows the runs that `create` actions with `report:` made (list and watch, by the label
/// `hookgate.io/report`) and queues a status report when one is created and when it settles.
/// What was queued is remembered in the queue's table of seen keys (one key per run and
/// state), so a restart lists every run again and queues only what was not reported yet. Only
/// the ``Leadership`` holder watches.
public final class RunStatusWatcher: Service, Sendable {
    private let config: @Sendable () -> Config
    private let kube: KubeAccess
    private let store: DeliveryStore
    private let leadership: Leadership
    private let wake: @Sendable (String) -> Void
    private let logger: Logger

    /// How long a reported state is remembered: as long as hosts show a commit's status matters.
    static let memory: Duration = .seconds(7 * 86400)

    public init(
        config: @escaping @Sendable () -> Config, kube: KubeAccess, store: DeliveryStore, leadership: Leadership, wake: @escaping @Sendable (String) -> Void,
        logger: Logger
    ) {
        self.config = config
        self.kube = kube
        self.store = store
        self.leadership = leadership
        self.wake = wake
        self.logger = logger
    }

    /// A resource and namespace to watch.
    struct Watch: Hashable, Sendable {
        var resource: KubeResource
        var namespace: String
    }

    /// What the config's report actions create, where.
    static func watches(_ config: Config, defaultNamespace: String) -> Set<Watch> {
        var watches: Set<Watch> = []
        for endpoint in config.endpoints {
            for action in endpoint.notify {
                guard let create = action.spec as? CreateAction, create.report != nil else { continue }
                watches.insert(Watch(resource: create.resource, namespace: create.namespace ?? defaultNamespace))
            }
        }
        return watches
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var running: [Watch: Task<Void, Never>] = [:]
            while !Task.isCancelled {
                var wanted: Set<Watch> = []
                var client: KubeClient?
                let reports = self.config().endpoints.contains { $0.notify.contains { ($0.spec as? CreateAction)?.report != nil } }
                if reports, let kube = try? self.kube.client() {
                    let watches = Self.watches(self.config(), defaultNamespace: kube.connection.namespace)
                    if !watches.isEmpty, await self.leadership.holds() ?? true {
                        wanted = watches
                        client = kube
                    }
                }
                for (watch, task) in running where !wanted.contains(watch) {
                    task.cancel()
                    running[watch] = nil
                }
                if let client {
                    for watch in wanted where running[watch] == nil {
                        running[watch] = Task { await self.follow(watch, kube: client) }
                    }
                }
                try? await Task.sleep(for: .seconds(2))
            }
            for task in running.values { task.cancel() }
        }
    }

    /// Lists and watches one resource until cancelled; lists again after any failure.
    private func follow(_ watch: Watch, kube: KubeClient) async {
        var log = logger
        log[metadataKey: "kube.resource"] = "\(watch.resource)"
        log[metadataKey: "kube.namespace"] = "\(watch.namespace)"
        var failures = 0
        while !Task.isCancelled {
            do throws(KubeError) {
                let (items, listed) = try await kube.list(watch.resource, namespace: watch.namespace, labelSelector: RunReport.label + "=true")
                for item in items { await handle(item, log: log) }
                failures = 0
                var version = listed
                while !Task.isCancelled {
                    version = try await kube.watch(watch.resource, namespace: watch.namespace, labelSelector: RunReport.label + "=true", from: version) { event in
                        if event.type != "DELETED" { await self.handle(event.object, log: log) }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                failures += 1
                // A watch too old to resume (410) just lists again; anything else is worth a line.
                if error.code != 410 {
                    log.warning("cannot follow the runs to report on; trying again", metadata: ["kube.error": "\(error)"])
                }
                try? await Task.sleep(for: .seconds(Double(min(30, 1 << min(failures, 5)))))
            }
        }
    }

    /// Queues a report for `object` unless its present state was queued already.
    private func handle(_ object: Data, log: Logger) async {
        guard let run = ReportedRun(json: object) else { return }
        let row = NewDelivery(endpoint: run.endpoint, source: run.source, deliveryID: run.deliveryID.isEmpty ? nil : run.deliveryID,
                              target: run.target, notifier: "status", events: [run.event])
        do {
            guard try await store.enqueue([row], dedupeKeys: ["report \(run.uid) \(run.state.rawValue)"], window: Self.memory) != nil else { return }
            log.info("queued a \(run.state.rawValue) report for \(run.kind) \(run.namespace)/\(run.name)", metadata: ["git.commit": "\(run.repository)@\(run.sha.prefix(12))"])
            wake(run.target)
        } catch {
            log.error("cannot queue the report of \(run.kind) \(run.namespace)/\(run.name)", metadata: ["store.error": "\(error)"])
        }
    }
}

import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Synchronization
import UnixSignals

/// Watches the config and every file it names, and on a change (or SIGHUP) loads it in full,
/// builds a new receiver and swaps it in. A config that does not load keeps the old one serving.
/// How and why: docs/reload.md.
public final class ConfigReloader: Service, Sendable {
    /// Makes the receiver for a config; throws when an action cannot be served (no Kubernetes).
    public typealias Build = @Sendable (Config) throws(ConfigError) -> Receiver

    private let path: String
    private let table: RouteTable
    private let build: Build
    private let interval: Duration
    private let trapHangup: Bool
    private let logger: Logger
    private let metrics: HookMetrics
    private let wakeup = Wakeup()
    private let forced = Atomic<Bool>(false)

    /// How long a changed file must stay the same before it is loaded (editors and the kubelet
    /// write in steps).
    static let settleTime: Duration = .milliseconds(250)

    /// - Parameters:
    ///   - interval: how often the files are read; zero reads them only on SIGHUP or ``reloadNow()``.
    ///   - trapHangup: reload on SIGHUP (the process-wide handler; off in tests that run in-process).
    public init(path: String, table: RouteTable, interval: Duration, trapHangup: Bool, metrics: HookMetrics, logger: Logger, build: @escaping Build) {
        self.metrics = metrics
        self.path = path
        self.table = table
        self.interval = interval
        self.trapHangup = trapHangup
        self.logger = logger
        self.build = build
        metrics.gauge(ReloadMetrics.stale).record(0)
    }

    /// Loads the config again at once, changed or not (what SIGHUP does).
    public func reloadNow() {
        forced.store(true, ordering: .relaxed)
        wakeup.signal()
    }

    public func run() async throws {
        let trapHangup = self.trapHangup
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                if trapHangup {
                    group.addTask {
                        for await _ in await UnixSignalsSequence(trapping: .sighup) {
                            self.logger.info("SIGHUP: reloading the config")
                            self.reloadNow()
                        }
                    }
                }
                group.addTask { await self.watch() }
                await group.next()
                group.cancelAll()
            }
        }
    }

    /// The files a reload depends on: the config, and what the served or the refused config named.
    private var watchedFiles: [String] {
        [path] + table.config.files + (table.refusal?.files ?? [])
    }

    private func watch() async {
        var seen = FileDigests(paths: watchedFiles)
        while !Task.isCancelled {
            await wakeup.wait(timeout: interval > .zero ? interval : .seconds(3600))
            if Task.isCancelled { return }
            let force = forced.exchange(false, ordering: .relaxed)
            var now = FileDigests(paths: watchedFiles)
            let changed = now.changed(since: seen)
            guard force || !changed.isEmpty else { continue }
            // Let a write in progress finish: load only once two reads agree.
            for _ in 0..<8 {
                try? await Task.sleep(for: Self.settleTime)
                let again = FileDigests(paths: watchedFiles)
                if again == now { break }
                now = again
            }
            if !changed.isEmpty {
                logger.info("config files changed: \(changed.joined(separator: ", "))")
            }
            reload()
            // Keep the digests taken before loading, so a change made while loading is seen next time.
            seen = FileDigests(paths: watchedFiles, known: now)
        }
    }

    /// Loads, validates and swaps in the config on disk, or records why it was refused.
    func reload() {
        let old = table.config
        do throws(ConfigError) {
            let config = try ConfigLoader.load(path: path)
            let receiver = try build(config)
            table.install(receiver, config: config)
            metrics.counter(ReloadMetrics.reloads, [("result", "loaded")]).increment()
            metrics.gauge(ReloadMetrics.stale).record(0)
            let changes = ConfigChanges(from: old, to: config)
            logger.info("config reloaded: \(config.endpoints.count) endpoint\(config.endpoints.count == 1 ? "" : "s")\(changes.lines.isEmpty ? "; nothing changed" : "")")
            for line in changes.lines { logger.info("\(line)") }
            for warning in config.warnings {
                logger.warning("\(warning.message)", metadata: ["config.file": "\(warning.file)", "config.line": "\(warning.line.map(String.init) ?? "-")", "config.fix": "\(warning.fix ?? "")"])
            }
            if changes.deliveryChanged {
                logger.info("`delivery:` settings changed; queued and new notifications follow them from now on")
            }
        } catch {
            table.refuse(error)
            metrics.counter(ReloadMetrics.reloads, [("result", "refused")]).increment()
            metrics.gauge(ReloadMetrics.stale).record(1)
            logger.error("the changed config was refused; still serving the one loaded before (\(error.problems.count) problem\(error.problems.count == 1 ? "" : "s"))")
            for problem in error.problems {
                logger.error("\(problem.message)", metadata: [
                    "config.file": "\(problem.file)", "config.line": "\(problem.line.map(String.init) ?? "-")", "config.fix": "\(problem.fix ?? "")"])
            }
        }
    }
}

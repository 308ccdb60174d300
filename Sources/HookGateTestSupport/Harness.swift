import AsyncHTTPClient
import Foundation
import HTTPTypes
import HookGate
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Prometheus
import Synchronization

/// A metrics registry servers in tests record into (given to `buildApplication`, not bootstrapped
/// process-wide); a test that counts exactly makes its own.
public enum TestMetrics {
    public static let registry = PrometheusCollectorRegistry()
}

/// Lines the `log` action wrote.
public final class LineSink: Sendable {
    public init() {}
    private let lines = Mutex<[String]>([])
    public var all: [String] { lines.withLock { $0 } }
    public var notifier: LogNotifier {
        LogNotifier { data in self.lines.withLock { $0.append(String(decoding: data, as: UTF8.self)) } }
    }
}

/// A hookgate app (library, live server) in front of a recording Flux API.
public struct Harness {
    public static let githubKey = "423be8373b98a9ffccc10402cc033e77263e1cdf"

    /// Runs `test` with a live hookgate whose GitHub endpoint notifies `downstream`.
    public static func withServer(
        downstream: RecordingServer, extraYAML: String = "", topYAML: String = "", notifyTimeout: TimeAmount = .seconds(10), maxBody: String = "25MiB",
        limits: String = "",
        requestReadTimeout: TimeAmount = ServerOptions.defaultRequestReadTimeout,
        sink: LineSink = LineSink(), files: [String: String] = [:], kube: KubeClient? = nil,
        _ test: @Sendable (any TestClientProtocol, Config) async throws -> Void
    ) async throws {
        let config = try loadConfig("""
            hookgateVersion: 1
            api: \(downstream.baseURL)/api/flux
            limits: {maxBodySize: \(maxBody)\(limits.isEmpty ? "" : ", " + limits)}
            \(topYAML)
            endpoints:
              - name: gh
                source: GitHub
                keyPath: github.key
                delivery: sync
              - name: gl-log
                source: GitLab
                keyPath: gitlab.key
                notify: [log]
                delivery: sync
            \(extraYAML)
            """, files: ["github.key": githubKey, "gitlab.key": "gitlab-token"].merging(files) { $1 })
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let store = try await DeliveryStore.open(directory: Fixtures.temporaryDirectory(), logger: logger)
        let app = try buildApplication(
            config: config,
            options: ServerOptions(listen: ListenAddress(host: "127.0.0.1", port: 0), requestReadTimeout: requestReadTimeout, notifyTimeout: notifyTimeout),
            client: .shared, kube: KubeAccess(client: kube), store: store, metrics: TestMetrics.registry, logger: logger, logNotifier: sink.notifier)
        try await app.test(.live) { client in try await test(client, config) }
        await store.close()
    }

    public static func githubHeaders(_ body: Data, event: String = "push", delivery: String = UUID().uuidString) -> HTTPFields {
        [.contentType: "application/json", HTTPField.Name("X-GitHub-Event")!: event, HTTPField.Name("X-GitHub-Delivery")!: delivery,
         HTTPField.Name("X-Hub-Signature-256")!: "sha256=" + Python.hmacHex(key: githubKey, body: body)]
    }
}

/// Counts calls so a downstream can misbehave for a while and then recover.
public final class Counter: Sendable {
    public init() {}
    private let value = Mutex(0)
    /// Returns the number of this call, starting at 1.
    public func next() -> Int { value.withLock { $0 += 1; return $0 } }
}

/// A live hookgate with a queued GitHub endpoint, fast retries, and its own queue folder.
public struct QueueHarness {
    public static let key = "queue-test-key"

    public static func withServer(
        api: String, delivery: String = "{initialBackoff: 50ms, maxBackoff: 200ms}", dataDir: String = Fixtures.temporaryDirectory(),
        notifyTimeout: TimeAmount = .milliseconds(500),
        _ test: @Sendable (any TestClientProtocol, Config, DeliveryStore) async throws -> Void
    ) async throws {
        let config = try loadConfig("""
            hookgateVersion: 1
            api: \(api)
            delivery: \(delivery)
            endpoints:
              - {name: gh, source: GitHub, keyPath: github.key}
            """, files: ["github.key": key])
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let store = try await DeliveryStore.open(directory: dataDir, logger: logger)
        let app = try buildApplication(
            config: config, options: ServerOptions(listen: ListenAddress(host: "127.0.0.1", port: 0), notifyTimeout: notifyTimeout),
            client: .shared, store: store, metrics: TestMetrics.registry, logger: logger)
        try await app.test(.live) { client in try await test(client, config, store) }
        await store.close()
    }

    /// A GitHub push of branch `branch`, signed, with delivery id `delivery`.
    public static func push(_ client: any TestClientProtocol, _ config: Config, branch: String, delivery: String) async throws -> (HTTPResponse.Status, String) {
        let body = Data(String(decoding: Fixtures.data("github-push-branch-created-with-installation.json"), as: UTF8.self)
            .replacingOccurrences(of: "\"ref\": \"refs/heads/master\"", with: "\"ref\": \"refs/heads/\(branch)\"")
            // Every push GitHub sends is a different body (its commits, its timestamps); the same
            // signed body again is a replay (docs/delivery.md#duplicates).
            .replacingOccurrences(of: "\"created\": true", with: "\"created\": true, \"test_delivery\": \"\(delivery)\"").utf8)
        let headers: HTTPFields = [
            .contentType: "application/json", HTTPField.Name("X-GitHub-Event")!: "push", HTTPField.Name("X-GitHub-Delivery")!: delivery,
            HTTPField.Name("X-Hub-Signature-256")!: "sha256=" + Python.hmacHex(key: key, body: body)]
        return try await client.execute(uri: config.endpoints[0].path, method: .post, headers: headers, body: ByteBuffer(bytes: body)) {
            ($0.status, String(buffer: $0.body))
        }
    }

    /// The branches the recording Flux API was told about, in arrival order.
    public static func branches(_ requests: [RecordingServer.Recorded]) -> [String] {
        requests.compactMap { $0.body.firstMatch(of: /"Branch":"([^"]*)"/).map { String($0.1) } }
    }
}


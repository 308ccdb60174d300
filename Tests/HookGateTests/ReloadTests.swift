import AsyncHTTPClient
import Foundation
import HTTPTypes
import HookGate
import HookGateTestSupport
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOHTTP1
import Testing

/// A signed GitHub push, its signatures computed by Python once per key.
struct SignedPush: Sendable {
    let body = Data(#"{"ref":"refs/heads/main","repository":{"full_name":"org/app","ssh_url":"git@github.com:org/app.git","clone_url":"https://github.com/org/app.git"},"commits":[]}"#.utf8)
    let signatures: [String: String]

    init(keys: [String]) {
        var signatures: [String: String] = [:]
        for key in keys { signatures[key] = "sha256=" + Python.hmacHex(key: key, body: body) }
        self.signatures = signatures
    }

    func headers(key: String) -> HTTPFields {
        [.contentType: "application/json", HTTPField.Name("X-GitHub-Event")!: "push", HTTPField.Name("X-GitHub-Delivery")!: UUID().uuidString,
         HTTPField.Name("X-Hub-Signature-256")!: signatures[key]!]
    }

    func send(_ client: any TestClientProtocol, to path: String, key: String) async throws -> HTTPResponse.Status {
        try await client.execute(uri: path, method: .post, headers: headers(key: key), body: ByteBuffer(bytes: body)) { $0.status }
    }
}

@Suite(.serialized) struct ReloadTests {
    static let keyA = "rotation-key-a-1f0e9d8c7b6a"
    static let keyB = "rotation-key-b-5a4b3c2d1e0f"
    let push = SignedPush(keys: [ReloadTests.keyA, ReloadTests.keyB])

    static func config(_ endpoints: String) -> String {
        """
        hookgateVersion: 1
        endpoints:
        \(endpoints)
        """
    }

    /// A live hookgate whose config sits in a ConfigMap-style mount, reloading every 100 ms.
    func withServer(
        config: KubeletMount, downstream: RecordingServer? = nil,
        _ test: @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        let loaded = try ConfigLoader.load(path: config.file("hookgate.yaml"))
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let store = try await DeliveryStore.open(directory: Fixtures.temporaryDirectory(), logger: logger)
        let app = try buildApplication(
            config: loaded, options: ServerOptions(listen: ListenAddress(host: "127.0.0.1", port: 0)), client: .shared, store: store,
            metrics: TestMetrics.registry, logger: logger, logNotifier: LineSink().notifier,
            reload: ReloadOptions(interval: .milliseconds(100), trapHangup: false))
        try await app.test(.live) { client in try await test(client) }
        await store.close()
    }

    @Test func aKubeletSecretSwapRotatesTheKeyAndTheIDKeepsTheURL() async throws {
        let secret = try KubeletMount(files: ["github.key": Self.keyA])
        let config = try KubeletMount(files: ["hookgate.yaml": Self.config("""
              - {name: gh, id: org-app, source: GitHub, keyPaths: [\(secret.file("github.key"))], notify: [log], delivery: sync}
            """)])
        let push = self.push
        try await withServer(config: config) { client in
            #expect(try await push.send(client, to: "/hook/org-app", key: Self.keyA) == .ok)
            #expect(try await push.send(client, to: "/hook/org-app", key: Self.keyB) == .unauthorized)

            try secret.update(["github.key": Self.keyB])
            try await waitUntil { try await push.send(client, to: "/hook/org-app", key: Self.keyB) == .ok }
            #expect(try await push.send(client, to: "/hook/org-app", key: Self.keyA) == .unauthorized)

            // Rotation without a gap: both keys verify while the provider moves to the new one.
            try secret.update(["github.key": Self.keyB, "next.key": Self.keyA])
            try config.update(["hookgate.yaml": Self.config("""
                  - {name: gh, id: org-app, source: GitHub, keyPaths: [\(secret.file("github.key")), \(secret.file("next.key"))], notify: [log], delivery: sync}
                """)])
            try await waitUntil { try await push.send(client, to: "/hook/org-app", key: Self.keyA) == .ok }
            #expect(try await push.send(client, to: "/hook/org-app", key: Self.keyB) == .ok)
        }
    }

    @Test func aBrokenConfigIsRefusedAndTheOldOneKeepsServing() async throws {
        let keys = try KubeletMount(files: ["a.key": Self.keyA, "b.key": Self.keyB])
        let config = try KubeletMount(files: ["hookgate.yaml": Self.config("""
              - {name: old, source: GitHub, keyPath: \(keys.file("a.key")), notify: [log], delivery: sync}
            """)])
        let push = self.push
        let oldPath = "/hook/" + Python.sha256Hex(Data(Self.keyA.utf8))
        try await withServer(config: config) { client in
            #expect(try await push.send(client, to: oldPath, key: Self.keyA) == .ok)
            let ready = try await client.execute(uri: "/readyz", method: .get) { String(buffer: $0.body) }
            #expect(ready.hasPrefix("ready; serving the config loaded at "))

            // A typo: an unknown key on line 4, and a key file that does not exist.
            try config.update(["hookgate.yaml": Self.config("""
                  - name: new
                    sorce: GitHub
                    keyPath: \(keys.file("missing.key"))
                """)])
            try await waitUntil {
                try await client.execute(uri: "/readyz", method: .get) { String(buffer: $0.body) }.contains("stale")
            }
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .ok)
                let body = String(buffer: response.body)
                #expect(body.contains(config.file("hookgate.yaml") + ":4: unknown key `endpoints[0].sorce`"), "\(body)")
                #expect(body.contains("missing.key"))
            }
            let metrics = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            #expect(metrics.contains("hookgate_config_stale 1"))
            #expect(metrics.contains(#"hookgate_config_reloads_total{result="refused"}"#))
            #expect(try await push.send(client, to: oldPath, key: Self.keyA) == .ok)

            // The missing key file appears: the refused config is tried again, and now loads.
            try config.update(["hookgate.yaml": Self.config("""
                  - name: new
                    source: GitHub
                    id: new-app
                    keyPath: \(keys.file("c.key"))
                    notify: [log]
                    delivery: sync
                """)])
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await client.execute(uri: "/readyz", method: .get) { String(buffer: $0.body) }.contains("stale"))
            try keys.update(["a.key": Self.keyA, "b.key": Self.keyB, "c.key": Self.keyB])
            try await waitUntil { try await push.send(client, to: "/hook/new-app", key: Self.keyB) == .ok }
            #expect(try await push.send(client, to: oldPath, key: Self.keyA) == .notFound)
            #expect(!(try await client.execute(uri: "/readyz", method: .get) { String(buffer: $0.body) }.contains("stale")))
            #expect(try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }.contains("hookgate_config_stale 0"))
        }
    }

    @Test func aRequestInFlightFinishesOnTheConfigItStartedWith() async throws {
        let flux = try await RecordingServer.start { _ in RecordingServer.Reply(delay: .seconds(1)) }
        defer { Task { await flux.stop() } }
        let keys = try KubeletMount(files: ["a.key": Self.keyA])
        let config = try KubeletMount(files: ["hookgate.yaml": """
            hookgateVersion: 1
            api: \(flux.baseURL)/api/flux
            endpoints:
              - {name: gh, id: org-app, source: GitHub, keyPath: \(keys.file("a.key")), delivery: sync}
            """])
        let push = self.push
        try await withServer(config: config) { client in
            let port = try #require(client.port)
            let inFlight = Task {
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/hook/org-app")
                request.method = .POST
                for field in push.headers(key: Self.keyA) { request.headers.add(name: field.name.rawName, value: field.value) }
                request.body = .bytes(ByteBuffer(bytes: push.body))
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
                return (response.status.code, String(buffer: try await response.body.collect(upTo: 1024)))
            }
            _ = await flux.waitForRequests(1, timeout: .seconds(5))
            try config.update(["hookgate.yaml": """
                hookgateVersion: 1
                endpoints:
                  - {name: other, id: other-app, source: GitHub, keyPath: \(keys.file("a.key")), notify: [log], delivery: sync}
                """])
            try await waitUntil { try await push.send(client, to: "/hook/org-app", key: Self.keyA) == .notFound }
            let (status, body) = try await inFlight.value
            #expect(status == 200)
            #expect(body == "OK")
        }
    }

    @Test func sighupReloadsTheBinaryAndTheLogSaysWhatChanged() async throws {
        let folder = Fixtures.temporaryDirectory()
        let configPath = folder + "/hookgate.yaml"
        try Data(Self.keyA.utf8).write(to: URL(fileURLWithPath: folder + "/a.key"))
        try Data(Self.config("  - {name: first, id: first-app, source: GitHub, keyPath: a.key, notify: [log], delivery: sync}").utf8)
            .write(to: URL(fileURLWithPath: configPath))
        let server = try await HookGateProcess.start(serve: [
            "--config", configPath, "--listen", "127.0.0.1:0", "--data-dir", folder + "/data", "--reload", "0"])
        defer { server.stop() }

        func status(_ path: String) async throws -> UInt {
            var request = HTTPClientRequest(url: server.baseURL + path)
            request.method = .POST
            for field in push.headers(key: Self.keyA) { request.headers.add(name: field.name.rawName, value: field.value) }
            request.body = .bytes(ByteBuffer(bytes: push.body))
            return try await HTTPClient.shared.execute(request, timeout: .seconds(10)).status.code
        }
        #expect(try await status("/hook/first-app") == 200)
        try Data(Self.config("""
              - {name: first, id: first-app, source: GitHub, keyPaths: [a.key, b.key], notify: [log], delivery: sync}
              - {name: second, id: second-app, source: GitHub, keyPath: a.key, notify: [log], delivery: sync}
            """).utf8).write(to: URL(fileURLWithPath: configPath))
        try Data(Self.keyB.utf8).write(to: URL(fileURLWithPath: folder + "/b.key"))
        // --reload 0: nothing is read until SIGHUP.
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await status("/hook/second-app") == 404)
        server.signal(SIGHUP)
        try await waitUntil { try await status("/hook/second-app") == 200 }
        #expect(server.isRunning)
        try await waitUntil { server.stderr.contains("endpoint second added: GitHub at /hook/second-app") }
        #expect(server.stderr.contains("endpoint first: keys rotated (2 key files now)"))
        #expect(!server.stderr.contains(Self.keyA) && !server.stderr.contains(Self.keyB))
    }
}

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
import Prometheus
import Synchronization
import Testing

/// The `forward` action on loopback: real backends (recording servers), a live hookgate, requests
/// signed by Python's `hmac`.
@Suite(.serialized) struct ForwardTests {
    static let key = "forward-test-key-0123456789"

    /// A live hookgate serving `yaml` (its files beside it), with its own queue folder.
    static func withServer(
        _ yaml: String, files: [String: String] = [:], dataDir: String = Fixtures.temporaryDirectory(),
        _ test: @Sendable (any TestClientProtocol, Config, DeliveryStore) async throws -> Void
    ) async throws {
        let config = try loadConfig(yaml, files: ["github.key": key].merging(files) { $1 })
        var logger = Logger(label: "test")
        logger.logLevel = ProcessInfo.processInfo.environment["FORWARD_DEBUG"] != nil ? .debug : .critical
        let store = try await DeliveryStore.open(directory: dataDir, logger: logger)
        let app = try buildApplication(
            config: config, options: ServerOptions(listen: ListenAddress(host: "127.0.0.1", port: 0)),
            client: .shared, store: store, metrics: TestMetrics.registry, logger: logger)
        try await app.test(.live) { client in try await test(client, config, store) }
        await store.close()
    }

    /// A signed GitHub delivery of `body` as `event`.
    static func send(
        _ client: any TestClientProtocol, _ config: Config, body: Data, event: String = "push", delivery: String = UUID().uuidString, query: String = "",
        extra: HTTPFields = [:]
    ) async throws -> (HTTPResponse.Status, String) {
        var headers: HTTPFields = [
            .contentType: "application/json", HTTPField.Name("X-GitHub-Event")!: event, HTTPField.Name("X-GitHub-Delivery")!: delivery,
            HTTPField.Name("X-Hub-Signature-256")!: "sha256=" + Python.hmacHex(key: key, body: body)]
        headers.append(contentsOf: extra)
        return try await client.execute(uri: config.endpoints[0].path + query, method: .post, headers: headers, body: ByteBuffer(bytes: body)) {
            ($0.status, String(buffer: $0.body))
        }
    }

    static var push: Data { Fixtures.data("github-push-branch-created-with-installation.json") }

    /// Requests that a backend answered 2xx to (the ones it received after `failures` refusals).
    static func delivered(_ server: RecordingServer, after failures: Int) async -> [RecordingServer.Recorded] {
        Array(await server.requests.dropFirst(failures))
    }

    /// Three backends: one answers 500 twice and then 200, one takes 3 s, one is down until
    /// mid-test. Each gets the exact bytes and headers; the sender's answer does not wait for any.
    @Test func everyBackendGetsTheRequestOnItsOwnSchedule() async throws {
        let flaky = Counter()
        let failing = try await RecordingServer.start { _ in flaky.next() <= 2 ? .init(status: .internalServerError, body: "boom") : .init() }
        let slow = try await RecordingServer.start { _ in .init(delay: .seconds(3)) }
        // A port that nothing listens on until the backend "comes up".
        let reserved = try await RecordingServer.start()
        let downPort = reserved.port
        await reserved.stop()
        let yaml = """
            hookgateVersion: 1
            delivery: {initialBackoff: 50ms, maxBackoff: 300ms}
            endpoints:
              - name: app
                source: GitHub
                keyPath: github.key
                notify:
                  - forward:
                      backends:
                        - \(failing.baseURL)/hooks/github
                        - {url: "\(slow.baseURL)/pac", timeout: 10s}
                        - http://127.0.0.1:\(downPort)/late?cluster=c
            """
        try await Self.withServer(yaml) { client, config, store in
            let body = Self.push
            let started = ContinuousClock.now
            let (status, answer) = try await Self.send(
                client, config, body: body, delivery: "fan-1", query: "?source=gh",
                extra: [HTTPField.Name("X-Custom")!: "kept", .connection: "close", HTTPField.Name("X-Forwarded-For")!: "203.0.113.9"])
            let answeredIn = ContinuousClock.now - started
            #expect(status == .ok && answer == "queued")
            // The slow backend takes 3 s; the sender's answer came from the queue.
            #expect(answeredIn < .seconds(3))

            try await waitUntil(timeout: .seconds(10)) { await failing.requests.count >= 3 }
            let late = try await RecordingServer.start(port: downPort)
            try await waitUntil(timeout: .seconds(15)) {
                let (slowCount, lateCount) = (await slow.requests.count, await late.requests.count)
                return slowCount >= 1 && lateCount >= 1
            }
            try await waitUntil(timeout: .seconds(10)) { try await store.counts()[.pending] ?? 0 == 0 }

            for (server, path, query) in [(failing, "/hooks/github", "source=gh"), (slow, "/pac", "source=gh"), (late, "/late", "cluster=c&source=gh")] {
                let received = await server.requests.last!
                #expect(received.method == .post)
                #expect(received.path == path && received.query == query)
                #expect(received.bytes == Array(body))
                let headers = received.headers
                #expect(headers[HTTPField.Name("X-Hub-Signature-256")!] == "sha256=" + Python.hmacHex(key: Self.key, body: body))
                #expect(headers[HTTPField.Name("X-GitHub-Event")!] == "push")
                #expect(headers[HTTPField.Name("X-GitHub-Delivery")!] == "fan-1")
                #expect(headers[HTTPField.Name("X-Custom")!] == "kept")
                #expect(headers[.contentType] == "application/json")
                #expect(headers[HTTPField.Name("X-Forwarded-For")!] == "203.0.113.9, 127.0.0.1")
                #expect(headers[HTTPField.Name("X-Forwarded-Proto")!] == "http")
                #expect(headers[HTTPField.Name("X-Forwarded-Host")!]?.hasPrefix("127.0.0.1:") == true || headers[HTTPField.Name("X-Forwarded-Host")!] == "localhost")
                #expect(headers[.connection] != "close")
            }
            #expect(await failing.requests.count == 3)
            #expect(await slow.requests.count == 1)
            let rows = try await store.list(states: [.delivered], limit: 10)
            #expect(rows.count == 3)
            #expect(Set(rows.map(\.target)).count == 3)
            // Delivered everywhere, the stored body is gone.
            #expect(try await rows.compactMap(\.requestID).asyncCompactMap { try await store.request($0) }.isEmpty)
            await late.stop()
        }
        await failing.stop()
        await slow.stop()
    }

    /// `delivery: sync`: 200 only when every required backend answered 2xx, else 502 naming the
    /// failed ones; a best-effort backend is queued either way.
    @Test func syncWaitsForRequiredBackendsOnly() async throws {
        let healthy = Switch()
        let ok = try await RecordingServer.start()
        let sometimes = try await RecordingServer.start { _ in healthy.isOn ? .init() : .init(status: .internalServerError, body: "not yet") }
        let bestEffort = try await RecordingServer.start { _ in .init(status: .serviceUnavailable) }
        let yaml = """
            hookgateVersion: 1
            delivery: {initialBackoff: 50ms, maxBackoff: 100ms, maxAttempts: 2}
            endpoints:
              - name: app
                source: GitHub
                keyPath: github.key
                delivery: sync
                notify:
                  - forward:
                      backends: [\(ok.baseURL)/a, \(sometimes.baseURL)/b, {url: "\(bestEffort.baseURL)/c", required: false}]
            """
        try await Self.withServer(yaml) { client, config, store in
            let (status, answer) = try await Self.send(client, config, body: Self.push, delivery: "sync-1")
            #expect(status == .badGateway)
            #expect(answer == "forwarding failed: 127.0.0.1:\(sometimes.port) (answered 500)")
            #expect(await ok.requests.count == 1)
            // Failed while the sender waited: a dead letter that keeps the request, for `deliveries retry`.
            // (The attempt is recorded after the answer, not before it.)
            try await waitUntil { try await !store.list(states: [.failed], limit: 10).filter { $0.target.hasSuffix("/b") }.isEmpty }
            let failed = try await store.list(states: [.failed], limit: 10).filter { $0.target.hasSuffix("/b") }
            #expect(failed.count == 1)
            #expect(failed.first?.lastError?.contains("answered 500: not yet") == true)
            #expect(try await store.request(failed.first?.requestID ?? -1)?.body == ByteBuffer(bytes: Self.push))

            healthy.turnOn()
            let again = try await Self.send(client, config, body: Self.push, delivery: "sync-2", extra: [HTTPField.Name("X-Retry")!: "1"])
            #expect(again == (.ok, "OK"))
            // The best-effort backend was queued both times and retried on its own.
            try await waitUntil { await bestEffort.requests.count >= 4 }
            #expect(try await store.retry(id: failed.first!.id) == 1)
            try await waitUntil { await sometimes.requests.count >= 3 }
            #expect(await sometimes.requests.last?.bytes == Array(Self.push))
        }
        await ok.stop()
        await sometimes.stop()
        await bestEffort.stop()
    }

    /// A 25 MiB body arrives intact at every backend, stored once in the queue.
    @Test func largeBodiesArriveIntact() async throws {
        let a = try await RecordingServer.start()
        let b = try await RecordingServer.start()
        let yaml = """
            hookgateVersion: 1
            endpoints:
              - name: app
                source: GitHub
                keyPath: github.key
                notify: [{forward: {backends: [\(a.baseURL)/x, \(b.baseURL)/y]}}]
            """
        try await Self.withServer(yaml) { client, config, _ in
            let filler = String(repeating: "0123456789abcdef", count: (25 * 1024 * 1024 - 64) / 16)
            let body = Data(#"{"action":"created","blob":"\#(filler)"}"#.utf8)
            #expect(body.count <= 25 * 1024 * 1024)
            let (status, _) = try await Self.send(client, config, body: body, event: "issue_comment")
            #expect(status == .ok)
            try await waitUntil(timeout: .seconds(30)) {
                let (first, second) = (await a.requests.count, await b.requests.count)
                return first == 1 && second == 1
            }
            let expected = Python.sha256Hex(body)
            #expect(Python.sha256Hex(Data(await a.requests[0].bytes)) == expected)
            #expect(Python.sha256Hex(Data(await b.requests[0].bytes)) == expected)
        }
        await a.stop()
        await b.stop()
    }

    /// With `resign.keyPath`, each backend gets signatures made with its own key; without it, the
    /// original headers pass through.
    @Test func resignedRequestsVerifyWithTheBackendsKey() async throws {
        let own = try await RecordingServer.start()
        let passThrough = try await RecordingServer.start()
        let yaml = """
            hookgateVersion: 1
            endpoints:
              - name: app
                source: GitHub
                keyPath: github.key
                allowLegacySignature: true
                notify:
                  - forward:
                      backends:
                        - {url: "\(own.baseURL)/hook", resign: {keyPath: cluster-a.key}}
                        - \(passThrough.baseURL)/hook
            """
        try await Self.withServer(yaml, files: ["cluster-a.key": "cluster-a-secret\n"]) { client, config, _ in
            let body = Self.push
            let legacy = "sha1=" + Python.hmacHex(key: Self.key, body: body, algorithm: "sha1")
            _ = try await Self.send(client, config, body: body, extra: [HTTPField.Name("X-Hub-Signature")!: legacy])
            try await waitUntil {
                let (first, second) = (await own.requests.count, await passThrough.requests.count)
                return first == 1 && second == 1
            }
            let resigned = await own.requests[0].headers
            #expect(resigned[HTTPField.Name("X-Hub-Signature-256")!] == "sha256=" + Python.hmacHex(key: "cluster-a-secret", body: body))
            #expect(resigned[HTTPField.Name("X-Hub-Signature")!] == "sha1=" + Python.hmacHex(key: "cluster-a-secret", body: body, algorithm: "sha1"))
            let original = await passThrough.requests[0].headers
            #expect(original[HTTPField.Name("X-Hub-Signature-256")!] == "sha256=" + Python.hmacHex(key: Self.key, body: body))
            #expect(original[HTTPField.Name("X-Hub-Signature")!] == legacy)
        }
        await own.stop()
        await passThrough.stop()
    }

    /// A backend that keeps failing is paused: after `pauseAfter` failures in a row it gets one
    /// probe per `probeEvery`, shows as paused, and gets everything once it answers again.
    @Test func aFailingBackendIsPausedNotHammered() async throws {
        let up = Switch()
        let backend = try await RecordingServer.start { _ in up.isOn ? .init() : .init(status: .badGateway) }
        let yaml = """
            hookgateVersion: 1
            delivery: {initialBackoff: 10ms, maxBackoff: 20ms}
            endpoints:
              - name: app
                source: GitHub
                keyPath: github.key
                notify: [{forward: {backends: [\(backend.baseURL)/hook], pauseAfter: 3, probeEvery: 1s}}]
            """
        let dataDir = Fixtures.temporaryDirectory()
        try await Self.withServer(yaml, dataDir: dataDir) { client, config, store in
            for index in 0..<5 {
                let body = Data(#"{"n":\#(index)}"#.utf8)
                #expect(try await Self.send(client, config, body: body, event: "issue_comment", delivery: "p-\(index)", extra: [HTTPField.Name("X-N")!: "\(index)"]).0 == .ok)
            }
            try await waitUntil { try await !store.pausedTargets().isEmpty }
            let paused = try await store.pausedTargets()
            #expect(paused.count == 1 && paused[0].target.hasSuffix(" \(backend.baseURL)/hook") && paused[0].failures == 3)
            let atPause = await backend.requests.count
            try await Task.sleep(for: .milliseconds(2500))
            // Unpaused, 20 ms backoff would have made about a hundred attempts by now.
            let probes = await backend.requests.count - atPause
            #expect(probes >= 1 && probes <= 4)
            let metrics = String(decoding: TestMetrics.registry.emitToBuffer(), as: UTF8.self)
            #expect(metrics.contains("hookgate_forward_paused{target=\"\(paused[0].target)\"} 1"))
            let listed = HookGateProcess.run(["deliveries", "--data-dir", dataDir]).stdout
            #expect(listed.contains("PAUSED") && listed.contains(paused[0].target))

            up.turnOn()
            try await waitUntil(timeout: .seconds(10)) { try await store.counts()[.delivered] ?? 0 == 5 }
            try await waitUntil { try await store.pausedTargets().isEmpty }
            let delivered = Set(await backend.requests.suffix(5).compactMap { $0.headers[HTTPField.Name("X-N")!] })
            #expect(delivered == ["0", "1", "2", "3", "4"])
        }
        await backend.stop()
    }

    /// Pings and events hookgate does not parse are forwarded too (a Pipelines-as-Code controller
    /// wants `issue_comment`, `check_run` …); a `when:` rule narrows what is forwarded.
    @Test func everyVerifiedEventIsForwardedUnlessARuleNarrowsIt() async throws {
        let all = try await RecordingServer.start()
        let pushesOnly = try await RecordingServer.start()
        let yaml = """
            hookgateVersion: 1
            endpoints:
              - name: app
                source: GitHub
                keyPath: github.key
                notify:
                  - forward: {backends: [\(all.baseURL)/all]}
                  - forward: {backends: [\(pushesOnly.baseURL)/push]}
                    when: {events: [push]}
            """
        try await Self.withServer(yaml) { client, config, _ in
            #expect(try await Self.send(client, config, body: Data(#"{"zen":"hi"}"#.utf8), event: "ping").0 == .ok)
            #expect(try await Self.send(client, config, body: Data(#"{"action":"created"}"#.utf8), event: "issue_comment").0 == .ok)
            #expect(try await Self.send(client, config, body: Self.push, event: "push").0 == .ok)
            // A bad signature is never forwarded.
            let refused = try await client.execute(
                uri: config.endpoints[0].path, method: .post,
                headers: [HTTPField.Name("X-GitHub-Event")!: "push", HTTPField.Name("X-Hub-Signature-256")!: "sha256=" + String(repeating: "0", count: 64)],
                body: ByteBuffer(bytes: Self.push)) { $0.status }
            #expect(refused == .unauthorized)
            try await waitUntil {
                let (first, second) = (await all.requests.count, await pushesOnly.requests.count)
                return first == 3 && second == 1
            }
            #expect(await all.requests.map { $0.headers[HTTPField.Name("X-GitHub-Event")!] ?? "" } .sorted() == ["issue_comment", "ping", "push"])
            #expect(await pushesOnly.requests[0].headers[HTTPField.Name("X-GitHub-Event")!] == "push")
        }
        await all.stop()
        await pushesOnly.stop()
    }

    /// A group with no backends (yet) accepts the request and says so; nothing is queued.
    @Test func anEmptyGroupSaysSo() async throws {
        let yaml = """
            hookgateVersion: 1
            backends: {later: []}
            endpoints:
              - {name: app, source: GitHub, keyPath: github.key, notify: [{forward: {group: later}}]}
            """
        try await Self.withServer(yaml) { client, config, store in
            let (status, answer) = try await Self.send(client, config, body: Self.push)
            #expect(status == .ok && answer == "event push accepted; the forward group has no backends")
            #expect(try await store.counts().values.reduce(0, +) == 0)
        }
    }

    /// Config mistakes name the line and the fix.
    @Test func configProblems() throws {
        let files = ["github.key": Self.key]
        func endpoint(_ notify: String, source: String = "GitHub", top: String = "") -> String {
            """
            hookgateVersion: 1
            \(top)
            endpoints:
              - name: app
                source: \(source)
                keyPath: github.key
                notify: [\(notify)]
            """
        }
        #expect(problems(endpoint("{forward: {group: clsuters}}", top: "backends: {clusters: [http://a.example/]}"), files: files)
            .contains { $0.message.contains("no backend group named \"clsuters\"") && $0.fix == "did you mean `clusters`?" })
        #expect(problems(endpoint("{forward: {backends: [ftp://a.example/]}}"), files: files).contains { $0.message.contains("not an http:// or https:// URL") })
        #expect(problems(endpoint("{forward: {backends: []}}"), files: files).contains { $0.message.contains("is empty") })
        #expect(problems(endpoint("{forward: {backends: [http://a/], group: g}}"), files: files).contains { $0.message.contains("both `backends` and `group`") })
        #expect(problems(endpoint("{forward: {backends: [{url: http://a/, timeout: 0s}]}}"), files: files).contains { $0.message.contains("timeout") })
        #expect(problems(endpoint("{forward: {backends: [{url: http://a/, resign: {keyPath: missing.key}}]}}"), files: files)
            .contains { $0.message.contains("missing.key") && $0.line == 7 })
        #expect(problems(endpoint("{forward: {backends: [http://a/, http://a/]}}"), files: files).contains { $0.message.contains("repeats") })
        // A source with no signature cannot re-sign.
        let generic = try loadConfig(endpoint("{forward: {backends: [{url: http://a/, resign: {keyPath: github.key}}]}}", source: "Generic")
            .replacingOccurrences(of: "name: app", with: "name: app\n    id: \(String(repeating: "a", count: 32))"), files: files)
        #expect(throws: ConfigError.self) {
            _ = try Receiver(config: generic, client: .shared, kube: nil, logger: Logger(label: "test"))
        }
        // A group serves several endpoints; its members are the backends.
        let shared = try loadConfig("""
            hookgateVersion: 1
            backends:
              clusters: [http://a.example/hook, {url: "https://b.example/hook", required: false}]
            endpoints:
              - {name: one, source: GitHub, keyPath: github.key, notify: [{forward: {group: clusters}}]}
              - {name: two, source: GitLab, keyPath: gitlab.key, notify: [{forward: {group: clusters}}]}
            """, files: files.merging(["gitlab.key": "gitlab-token-0123456789"]) { $1 })
        let forward = try #require(shared.endpoints[1].notify[0].spec as? ForwardAction)
        #expect(forward.backends.map(\.url.plain) == ["http://a.example/hook", "https://b.example/hook"])
        #expect(forward.backends.map(\.required) == [true, false])
    }
}

extension Array {
    func asyncCompactMap<T>(_ transform: (Element) async throws -> T?) async rethrows -> [T] {
        var result: [T] = []
        for element in self { if let value = try await transform(element) { result.append(value) } }
        return result
    }
}

/// The admin API with the built binary: backends added at run time, kept across restarts.
@Suite(.serialized) struct AdminAPITests {
    static func call(_ method: HTTPRequest.Method, _ url: String, token: String?, body: String? = nil) async throws -> (Int, String) {
        var request = HTTPClientRequest(url: url)
        request.method = .init(rawValue: method.rawValue)
        if let token { request.headers.add(name: "Authorization", value: "Bearer " + token) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 20)))
    }

    @Test func backendsAddedAtRunTimeGetTheNextWebhookAndSurviveARestart() async throws {
        let folder = Fixtures.temporaryDirectory()
        let token = "admin-token-0123456789abcdef"
        try ForwardTests.key.write(toFile: folder + "/github.key", atomically: true, encoding: .utf8)
        try (token + "\n").write(toFile: folder + "/admin.token", atomically: true, encoding: .utf8)
        try """
            hookgateVersion: 1
            admin: {tokenPath: admin.token}
            backends:
              clusters: []
            endpoints:
              - name: app
                source: GitHub
                keyPath: github.key
                notify: [{forward: {group: clusters}}]
            """.write(toFile: folder + "/hookgate.yaml", atomically: true, encoding: .utf8)
        let arguments = ["serve", "--config", folder + "/hookgate.yaml", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--data-dir", folder + "/data"]
        let backend = try await RecordingServer.start()
        let hookPath = "/hook/" + Python.sha256Hex(Data(ForwardTests.key.utf8))

        func adminURL(_ server: HookGateProcess) throws -> String {
            let match = try #require(server.stderr.firstMatch(of: /admin API on [^\s",]*:(\d+)/))
            return "http://127.0.0.1:\(match.1)"
        }
        func webhook(_ server: HookGateProcess, _ n: Int) async throws -> Int {
            let body = Data(#"{"n":\#(n)}"#.utf8)
            var request = HTTPClientRequest(url: server.baseURL + hookPath)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "X-GitHub-Event", value: "issues")
            request.headers.add(name: "X-GitHub-Delivery", value: "admin-\(n)")
            request.headers.add(name: "X-Hub-Signature-256", value: "sha256=" + Python.hmacHex(key: ForwardTests.key, body: body))
            request.body = .bytes(ByteBuffer(bytes: body))
            return Int(try await HTTPClient.shared.execute(request, timeout: .seconds(10)).status.code)
        }

        let first = try await HookGateProcess.start(serve: arguments)
        try await waitUntil { first.stderr.contains("admin API on") }
        let admin = try adminURL(first) + "/backends"
        #expect(try await Self.call(.get, admin, token: nil).0 == 401)
        #expect(try await Self.call(.get, admin, token: "wrong-token-0123456789abcdef").0 == 401)
        // Never on the webhook listener, with or without the token.
        #expect(try await Self.call(.get, first.baseURL + "/backends", token: token).0 == 404)
        #expect(try await Self.call(.post, first.baseURL + "/backends", token: token, body: #"{"url":"http://x/"}"#).0 == 404)
        let invalid = try await Self.call(.post, admin, token: token, body: #"{"url":"ftp://example.com/"}"#)
        #expect(invalid.0 == 400 && invalid.1.contains("not an http:// or https:// URL"))
        #expect(try await Self.call(.post, admin + "?group=nope", token: token, body: #"{"url":"http://x/"}"#).0 == 404)

        // Added with the CLI, then again over HTTP: idempotent.
        let added = HookGateProcess.run(["backends", "add", backend.baseURL + "/pac", "--admin-url", try adminURL(first), "--token-file", folder + "/admin.token"])
        #expect(added.status == 0 && added.stdout.contains(#""added":true"#))
        let again = try await Self.call(.post, admin, token: token, body: #"{"url":"\#(backend.baseURL)/pac"}"#)
        #expect(again.0 == 200 && again.1.contains(#""added":false"#))

        #expect(try await webhook(first, 1) == 200)
        _ = await backend.waitForRequests(1)
        #expect(await backend.requests.map(\.path) == ["/pac"])
        #expect(await first.terminate() == 0)

        let second = try await HookGateProcess.start(serve: arguments)
        defer { second.stop() }
        try await waitUntil { second.stderr.contains("admin API on") }
        let listed = HookGateProcess.run(["backends", "list", "--admin-url", try adminURL(second), "--token-file", folder + "/admin.token"])
        #expect(listed.stdout.contains(#""from":"api""#) && listed.stdout.contains(backend.baseURL + "/pac"))
        let status = try await webhook(second, 2)
        #expect(status == 200, "\(second.stderr)")
        _ = await backend.waitForRequests(2)
        #expect(await backend.requests.count == 2)

        let secondAdmin = try adminURL(second) + "/backends"
        #expect(try await Self.call(.delete, secondAdmin, token: token, body: #"{"url":"http://unknown.example/"}"#).0 == 404)
        #expect(try await Self.call(.delete, secondAdmin, token: token, body: #"{"url":"\#(backend.baseURL)/pac"}"#).0 == 200)
        #expect(!(try await Self.call(.get, secondAdmin, token: token).1.contains("/pac")))
        #expect(second.stderr.contains("admin API: added a backend") || first.stderr.contains("admin API: added a backend"))
        #expect(!second.stderr.contains(token) && !first.stderr.contains(token))
        #expect(await second.terminate() == 0)
        await backend.stop()
    }
}

/// examples/fan-out works as shipped, with its backends' URLs pointed at loopback servers.
@Suite struct FanOutExampleTests {
    @Test func theExampleForwardsToEveryCluster() async throws {
        let example = Fixtures.packageRoot + "/examples/fan-out"
        let local = try await RecordingServer.start()
        let clusterB = try await RecordingServer.start()
        let staging = try await RecordingServer.start()
        let folder = Fixtures.temporaryDirectory()
        try FileManager.default.copyItem(atPath: example + "/keys", toPath: folder + "/keys")
        let yaml = try String(contentsOfFile: example + "/hookgate.yaml", encoding: .utf8)
            .replacingOccurrences(of: "http://pipelines-as-code-controller.pipelines-as-code.svc:8080/", with: local.baseURL + "/")
            .replacingOccurrences(of: "https://pac.cluster-b.example.com/", with: clusterB.baseURL + "/")
            .replacingOccurrences(of: "https://pac.staging.example.com/", with: staging.baseURL + "/")
        try yaml.write(toFile: folder + "/hookgate.yaml", atomically: true, encoding: .utf8)
        let config = try ConfigLoader.load(path: folder + "/hookgate.yaml")
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let store = try await DeliveryStore.open(directory: Fixtures.temporaryDirectory(), logger: logger)
        let app = try buildApplication(
            config: config, options: ServerOptions(listen: ListenAddress(host: "127.0.0.1", port: 0)), client: .shared, store: store,
            metrics: TestMetrics.registry, logger: logger)
        let appKey = try String(contentsOfFile: example + "/keys/app-webhook.key", encoding: .utf8)
        let clusterKey = try String(contentsOfFile: example + "/keys/cluster-b.key", encoding: .utf8)
        let body = Fixtures.data("github-push-branch-created-with-installation.json")
        try await app.test(.live) { client in
            let status = try await client.execute(
                uri: config.endpoints[0].path, method: .post,
                headers: [.contentType: "application/json", HTTPField.Name("X-GitHub-Event")!: "push", HTTPField.Name("X-GitHub-Delivery")!: "example-1",
                          HTTPField.Name("X-Hub-Signature-256")!: "sha256=" + Python.hmacHex(key: appKey, body: body)],
                body: ByteBuffer(bytes: body)) { $0.status }
            #expect(status == .ok)
            for server in [local, clusterB, staging] { _ = await server.waitForRequests(1) }
        }
        await store.close()
        let signature = HTTPField.Name("X-Hub-Signature-256")!
        #expect(await local.requests.first?.headers[signature] == "sha256=" + Python.hmacHex(key: appKey, body: body))
        #expect(await clusterB.requests.first?.headers[signature] == "sha256=" + Python.hmacHex(key: clusterKey, body: body))
        #expect(await staging.requests.first?.bytes == Array(body))
        for server in [local, clusterB, staging] { await server.stop() }
    }
}

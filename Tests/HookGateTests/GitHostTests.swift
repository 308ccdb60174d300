import AsyncHTTPClient
import Foundation
import HTTPTypes
import HookGate
import HookGateTestSupport
import NIOCore
import NIOHTTP1
import Testing

/// `hookgate hooks …` and the `register`/`recover` loop, run as the built binary against fake
/// git host APIs on loopback (docs/git-hosts.md).
@Suite(.serialized)
struct GitHostTests {
    static let key = "0f8b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b"
    static let publicURL = "https://hooks.example.com"
    static let endpointID = "app-endpoint"
    static let hookURL = publicURL + "/hook/" + endpointID

    static func source(_ flavor: FakeGitHost.Flavor) -> String {
        switch flavor {
        case .gitHub: "GitHub"
        case .gitLab: "GitLab"
        case .gitea: "Gitea"
        case .bitbucketCloud: "BitbucketCloud"
        }
    }

    /// The events each host should be asked for, for an endpoint acting on pushes, tags and pull requests.
    static func expectedEvents(_ flavor: FakeGitHost.Flavor) -> [String] {
        switch flavor {
        case .gitHub, .gitea: ["pull_request", "push"]
        case .gitLab: ["merge_requests_events", "push_events", "tag_push_events"]
        case .bitbucketCloud: ["pullrequest:created", "pullrequest:fulfilled", "pullrequest:rejected", "pullrequest:updated", "repo:push"]
        }
    }

    /// A folder with a config for `host`, its key and token; returns the config's path.
    static func writeConfig(_ host: FakeGitHost, extra: String = "", delivery: String = "") throws -> String {
        let folder = Fixtures.temporaryDirectory()
        try key.write(toFile: folder + "/hook.key", atomically: true, encoding: .utf8)
        try host.token.write(toFile: folder + "/host.token", atomically: true, encoding: .utf8)
        try """
            hookgateVersion: 1
            \(delivery)
            endpoints:
              - name: app
                id: \(endpointID)
                source: \(source(host.flavor))
                keyPath: hook.key\(host.flavor == .bitbucketCloud ? "\n    requireSignature: true" : "")
                notify:
                  - log: null
                    when: {events: [push, tag, pullRequest]}
                gitAPI: {url: "\(host.apiURL)", tokenPath: host.token}
            \(extra)
            """.write(toFile: folder + "/hookgate.yaml", atomically: true, encoding: .utf8)
        return folder + "/hookgate.yaml"
    }

    @Test("hooks register twice makes one hook with the endpoint's URL, secret and events; list shows it; unregister removes it", arguments: FakeGitHost.Flavor.allCases)
    func registerTwiceMakesOneHook(flavor: FakeGitHost.Flavor) async throws {
        let host = try await FakeGitHost.start(flavor)
        let config = try Self.writeConfig(host)
        let target = ["--config", config, "--endpoint", "app", "--public-url", Self.publicURL, "--repo", "acme/app"]
        let first = await HookGateProcess.runInBackground(["hooks", "register"] + target)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("created hook"))
        let second = await HookGateProcess.runInBackground(["hooks", "register"] + target)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("updated hook"))
        let hooks = host.hooks
        #expect(hooks.count == 1)
        #expect(hooks.first?.url == Self.hookURL)
        #expect(hooks.first?.secret == Self.key)
        #expect(hooks.first?.scope == "repo acme/app")
        #expect(hooks.first?.events.sorted() == Self.expectedEvents(flavor))
        #expect(hooks.first?.contentType == "json")
        for output in [first.stdout, first.stderr, second.stdout, second.stderr] { #expect(!output.contains(Self.key)) }

        let list = await HookGateProcess.runInBackground(["hooks", "list"] + target)
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout.contains(Self.hookURL))
        #expect(list.stdout.contains("app"))

        let removed = await HookGateProcess.runInBackground(["hooks", "unregister"] + target)
        #expect(removed.status == 0, "\(removed.stderr)")
        #expect(host.hooks.isEmpty)
        #expect(host.refusedTokens == 0)
        await host.stop()
    }

    @Test("a refused token exits 1 naming the call and the status, never the token")
    func refusedToken() async throws {
        let host = try await FakeGitHost.start(.gitHub)
        let config = try Self.writeConfig(host)
        let wrong = Fixtures.temporaryDirectory() + "/wrong.token"
        try "ghp_wrongwrongwrong".write(toFile: wrong, atomically: true, encoding: .utf8)
        let result = await HookGateProcess.runInBackground(["hooks", "register", "--config", config, "--endpoint", "app", "--public-url", Self.publicURL,
                                          "--repo", "acme/app", "--token-file", wrong])
        #expect(result.status == 1)
        #expect(result.stdout.contains("failed") || result.stderr.contains("401"))
        #expect((result.stdout + result.stderr).contains("401"))
        #expect(!(result.stdout + result.stderr).contains("ghp_wrongwrongwrong"))
        #expect(host.hooks.isEmpty)
        await host.stop()
    }

    @Test("serve registers the hook at start and writes the new secret when the key file is rotated", arguments: [FakeGitHost.Flavor.gitHub, .gitLab])
    func registerAndRotate(flavor: FakeGitHost.Flavor) async throws {
        let host = try await FakeGitHost.start(flavor)
        let config = try Self.writeConfig(host, extra: "    register: {repos: [acme/app], publicURL: \"\(Self.publicURL)\"}")
        let folder = (config as NSString).deletingLastPathComponent
        let server = try await HookGateProcess.start(serve: ["serve", "--config", config, "--listen", "127.0.0.1:0", "--data-dir", folder + "/data", "--reload", "200ms"])
        defer { server.stop() }
        try await waitUntil { host.hooks.first?.secret == Self.key }
        let rotated = "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b"
        try rotated.write(toFile: folder + "/hook.key", atomically: true, encoding: .utf8)
        try await waitUntil { host.hooks.first?.secret == rotated }
        #expect(host.hooks.count == 1)
        #expect(host.hooks.first?.url == Self.hookURL)
        try await waitUntil { server.stderr.contains("hook created") && server.stderr.contains("hook updated") }
        #expect(!server.stderr.contains(rotated) && !server.stderr.contains(Self.key))
        #expect(await server.terminate() == 0)
        await host.stop()
    }

    /// A push body made distinct by `n`, so no two are duplicates by their hash.
    static func pushBody(_ n: Int) -> Data {
        var text = String(decoding: Fixtures.data("github-push-branch-created-with-installation.json"), as: UTF8.self)
        text.replaceSubrange(text.startIndex...text.startIndex, with: "{\"test_delivery\":\(n),")
        return Data(text.utf8)
    }

    @Test("three deliveries failed while hookgate was stopped, one accepted before: two redeliveries asked for, and they arrive")
    func recoverMissedDeliveries() async throws {
        let host = try await FakeGitHost.start(.gitHub)
        // Both runs listen on one port, which the hook's URL names.
        let probe = try await RecordingServer.start()
        let port = probe.port
        await probe.stop()
        let base = "http://127.0.0.1:\(port)"
        let config = try Self.writeConfig(host, extra: """
                register: {repos: [acme/app], publicURL: "\(base)"}
                recover: {every: 10m, lookback: 3h}
            """)
        let folder = (config as NSString).deletingLastPathComponent
        let arguments = ["serve", "--config", config, "--listen", "127.0.0.1:\(port)", "--data-dir", folder + "/data"]

        // The first run registers the hook and accepts one delivery, which the host then counts
        // as failed (the answer came too late for it).
        let first = try await HookGateProcess.start(serve: arguments)
        try await waitUntil(timeout: .seconds(15)) { host.hooks.first?.url == base + "/hook/" + Self.endpointID }
        let accepted = try await Self.post(Self.pushBody(1), delivery: "guid-1", to: host.hooks[0].url)
        #expect(accepted == 200)
        #expect(await first.terminate() == 0)

        let hookID = host.hooks[0].id
        for n in 1...3 { host.addDelivery(hookID: hookID, guid: "guid-\(n)", statusCode: n == 2 ? 0 : 502, at: Date().addingTimeInterval(-600), body: Self.pushBody(n)) }

        let second = try await HookGateProcess.start(serve: arguments)
        defer { second.stop() }
        try await waitUntil(timeout: .seconds(20)) { host.redeliveryRequests.count >= 2 && host.deliveries.filter(\.redelivery).count >= 2 }
        try await Task.sleep(for: .milliseconds(300))
        let asked = Set(host.redeliveryRequests.compactMap { id in host.deliveries.first { $0.id == id }?.guid })
        #expect(asked == ["guid-2", "guid-3"])
        #expect(host.redeliveryRequests.count == 2)
        #expect(host.deliveries.filter(\.redelivery).allSatisfy { $0.statusCode == 200 })
        try await waitUntil { second.stderr.contains("recovery run") }
        #expect(second.stderr.contains("recovery.asked=2") || second.stderr.contains("\"recovery.asked\":\"2\""), "\(second.stderr)")

        // By hand, now: everything was accepted, nothing is asked.
        let again = await HookGateProcess.runInBackground(["hooks", "recover", "--config", config, "--endpoint", "app", "--since", "6h", "--data-dir", folder + "/data"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("0 asked for"), "\(again.stdout)")
        #expect(host.redeliveryRequests.count == 2)
        #expect(await second.terminate() == 0)
        await host.stop()
    }

    @Test("hooks recover prints what it asks for, and --dry-run asks nothing")
    func recoverByHand() async throws {
        let host = try await FakeGitHost.start(.gitLab)
        // Nothing listens there: the resend the host makes is refused at once.
        let config = try Self.writeConfig(host, extra: "    register: {repos: [team/app], publicURL: \"http://127.0.0.1:9\"}")
        let folder = (config as NSString).deletingLastPathComponent
        // A queue that accepted nothing yet.
        let server = try await HookGateProcess.start(serve: ["serve", "--config", config, "--listen", "127.0.0.1:0", "--data-dir", folder + "/data"])
        try await waitUntil { host.hooks.count == 1 }
        #expect(await server.terminate() == 0)
        let hookID = host.hooks[0].id
        host.addDelivery(hookID: hookID, guid: "uuid-ok", statusCode: 200, at: Date().addingTimeInterval(-300), body: Data("{}".utf8))
        host.addDelivery(hookID: hookID, guid: "uuid-failed", statusCode: 0, at: Date().addingTimeInterval(-300), body: Data("{}".utf8))
        host.addDelivery(hookID: hookID, guid: "uuid-old", statusCode: 500, at: Date().addingTimeInterval(-8 * 3600), body: Data("{}".utf8))
        let arguments = ["hooks", "recover", "--config", config, "--endpoint", "app", "--since", "6h", "--data-dir", folder + "/data"]
        let dry = await HookGateProcess.runInBackground(arguments + ["--dry-run"])
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("would ask for delivery uuid-failed"), "\(dry.stdout)")
        #expect(host.redeliveryRequests.isEmpty)
        let real = await HookGateProcess.runInBackground(arguments)
        #expect(real.status == 0, "\(real.stderr)")
        #expect(real.stdout.contains("asked for delivery uuid-failed"), "\(real.stdout)")
        #expect(real.stdout.contains("1 asked for"))
        #expect(host.redeliveryRequests.count == 1)
        await host.stop()
    }

    @Test("a 403 with Retry-After pauses the loop until the time it names")
    func rateLimitPauses() async throws {
        let host = try await FakeGitHost.start(.gitHub)
        host.limitNext(1, status: 403, retryAfter: 3)
        let config = try Self.writeConfig(host, extra: "    register: {repos: [acme/app], publicURL: \"\(Self.publicURL)\", every: 1s}")
        let folder = (config as NSString).deletingLastPathComponent
        let started = ContinuousClock.now
        let server = try await HookGateProcess.start(serve: ["serve", "--config", config, "--listen", "127.0.0.1:0", "--data-dir", folder + "/data"])
        defer { server.stop() }
        try await waitUntil { host.calls.count >= 1 }
        try await Task.sleep(for: .milliseconds(1500))
        #expect(host.calls.count == 1, "\(host.calls)")
        try await waitUntil(timeout: .seconds(10)) { host.hooks.count == 1 }
        #expect(ContinuousClock.now - started >= .milliseconds(2500))
        #expect(server.stderr.contains("403"))
        #expect(await server.terminate() == 0)
        await host.stop()
    }

    static func post(_ body: Data, delivery: String, to url: String) async throws -> UInt {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "X-GitHub-Event", value: "push")
        request.headers.add(name: "X-GitHub-Delivery", value: delivery)
        request.headers.add(name: "X-Hub-Signature-256", value: "sha256=" + Python.hmacHex(key: key, body: body))
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        return response.status.code
    }
}

/// The registrar and recovery against the fakes, in process: drift, pruning, GitLab's resend.
@Suite
struct GitHostPiecesTests {
    static func endpoint(_ flavor: FakeGitHost.Flavor, host: FakeGitHost, extra: String = "") throws -> Endpoint {
        let config = try loadConfig("""
            hookgateVersion: 1
            endpoints:
              - name: app
                id: app-endpoint
                source: \(GitHostTests.source(flavor))
                keyPath: hook.key
                gitAPI: {url: "\(host.apiURL)", tokenPath: host.token}
            \(extra)
            """, files: ["hook.key": GitHostTests.key, "host.token": host.token])
        return config.endpoints[0]
    }

    @Test("a disabled hook, or one with other events, is written again; pruning deletes other hooks to this hookgate only")
    func driftAndPrune() async throws {
        let host = try await FakeGitHost.start(.gitea)
        let endpoint = try Self.endpoint(.gitea, host: host)
        let url = GitHostTests.hookURL
        let mine = host.addHook(scope: "repo acme/app", url: url, secret: "old", events: ["release"], active: false)
        let stale = host.addHook(scope: "repo acme/app", url: GitHostTests.publicURL + "/hook/gone", secret: "x", events: ["push"])
        let foreign = host.addHook(scope: "repo acme/app", url: "https://ci.example.com/hook", secret: "y", events: ["push"])
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let outcome = await Result {
            let gitHost = try GitHostKind.connect(endpoint, api: endpoint.gitHost!.api!, client: http, pacer: RateLimitPacer())
            let desired = try GitHostKind.of(.gitea)!.desiredHook(for: endpoint, publicURL: GitHostTests.publicURL)
            let registrar = HookRegistrar()
            let changes = await registrar.reconcile(desired, endpoint: "app", api: host.apiURL, scopes: [.repository("acme/app")], host: gitHost,
                                                    pruning: .init(prefix: GitHostTests.publicURL + "/hook/", claimed: [url]))
            #expect(changes.map(\.kind) == [.updated, .deleted])
            #expect(changes.first?.detail.contains("disabled") == true)
            #expect(Set(host.hooks.map(\.id)) == [mine, foreign])
            #expect(host.hooks.first { $0.id == mine }?.active == true)
            #expect(host.hooks.first { $0.id == mine }?.secret == GitHostTests.key)
            #expect(host.hooks.first { $0.id == mine }?.events == ["push"])
            #expect(!host.hooks.contains { $0.id == stale })
            // Nothing drifted since: nothing is written.
            let calls = host.calls.count
            let again = await registrar.reconcile(desired, endpoint: "app", api: host.apiURL, scopes: [.repository("acme/app")], host: gitHost)
            #expect(again.map(\.kind) == [.unchanged])
            #expect(host.calls.count == calls + 1)
        }
        try? await http.shutdown()
        await host.stop()
        try outcome.get()
    }

    @Test("GitLab: failed events whose id was accepted are not resent; the others are, once each")
    func gitLabRecovery() async throws {
        let host = try await FakeGitHost.start(.gitLab)
        let endpoint = try Self.endpoint(.gitLab, host: host)
        let receiver = try await RecordingServer.start { _ in .init(status: .ok) }
        let hook = host.addHook(scope: "repo team/app", url: receiver.baseURL + "/hook/app-endpoint", secret: GitHostTests.key, events: ["push_events"])
        host.addDelivery(hookID: hook, guid: "accepted", statusCode: 0, body: Data("{}".utf8))
        host.addDelivery(hookID: hook, guid: "missed", statusCode: 502, body: Data("{}".utf8))
        host.addDelivery(hookID: hook, guid: "missed", statusCode: 0, body: Data("{}".utf8))
        host.addDelivery(hookID: hook, guid: "fine", statusCode: 200, body: Data("{}".utf8))
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let outcome = await Result {
            let gitHost = try GitHostKind.connect(endpoint, api: endpoint.gitHost!.api!, client: http, pacer: RateLimitPacer())
            let recovery = DeliveryRecovery()
            let report = await recovery.run(endpoint: "app", hookURL: receiver.baseURL + "/hook/app-endpoint", scopes: [.repository("team/app")], host: gitHost,
                                            since: Date().addingTimeInterval(-3600), maxPerRun: 10, accepted: { $0 == "accepted" })
            #expect(report.asked.map(\.delivery.deliveryID) == ["missed"])
            #expect(report.alreadyAccepted == 1)
            #expect(report.problems.isEmpty)
            let sent = await receiver.requests
            #expect(sent.count == 1)
            #expect(sent.first?.headers[.init("X-Gitlab-Token")!] == GitHostTests.key)
            // The resend succeeded: the next run counts it recovered and asks nothing.
            let next = await recovery.run(endpoint: "app", hookURL: receiver.baseURL + "/hook/app-endpoint", scopes: [.repository("team/app")], host: gitHost,
                                          since: Date().addingTimeInterval(-3600), maxPerRun: 10, accepted: { $0 == "accepted" })
            #expect(next.asked.isEmpty)
            #expect(next.recovered == 1)
        }
        try? await http.shutdown()
        await receiver.stop()
        await host.stop()
        try outcome.get()
    }

    @Test("config problems name the line and the fix")
    func configProblems() {
        let key = ["hook.key": GitHostTests.key, "t": "token"]
        func messages(_ endpoint: String) -> String {
            problems("hookgateVersion: 1\nendpoints:\n  - " + endpoint + "\n", files: key).map(\.description).joined(separator: "\n")
        }
        #expect(messages("{source: GitHub, keyPath: hook.key, register: {repos: [a/b], publicURL: \"https://h\"}}").contains("has no `gitAPI`"))
        #expect(messages("{source: Gitea, keyPath: hook.key, gitAPI: {tokenPath: t}}").contains("no public API"))
        #expect(messages("{source: Quay, keyPath: hook.key, gitAPI: {tokenPath: t}}").contains("registers hooks with"))
        #expect(messages("{source: GitHub, keyPath: hook.key, gitAPI: {tokenPath: missing}}").contains("cannot be read"))
        #expect(messages("{source: GitHub, keyPath: hook.key, gitAPI: {tokenPath: t}, register: {repos: [\"../etc\"], publicURL: \"https://h\"}}").contains("owner/name"))
        #expect(messages("{source: GitHub, keyPath: hook.key, gitAPI: {tokenPath: t}, register: {repos: [a/b], publicURL: \"hooks.example.com\"}}").contains("publicURL"))
        #expect(messages("{source: BitbucketCloud, keyPath: hook.key, gitAPI: {tokenPath: t}, register: {repos: [a/b], publicURL: \"https://h\"}, recover: {}}").contains("keeps no deliveries"))
        #expect(messages("{source: GitHub, keyPath: hook.key, gitAPI: {tokenPath: t}, recover: {}}").contains("has no `register`"))
        #expect(messages("{source: GitHub, keyPath: hook.key, gitAPI: {tokenPath: t}, register: {repos: [a/b], publicURL: \"https://h\"}, recover: {lookback: 5d}}").contains("longer than GitHub keeps"))
        #expect(messages("{source: GitLab, keyPath: hook.key, gitAPI: {tokenPath: t}, register: {repos: [group/sub/project], publicURL: \"https://h\"}, recover: {lookback: 5d}}").isEmpty)
        #expect(messages("{source: GitHub, keyPath: hook.key, gitAPI: {tokenPath: t}, register: {repos: [a/b], publicURL: \"https://h\"}}").isEmpty)
    }

    @Test("accepted delivery ids are kept for the longest lookback, past the duplicate window")
    func seenRetention() throws {
        let config = try loadConfig("""
            hookgateVersion: 1
            delivery: {duplicateWindow: 1h}
            endpoints:
              - {source: GitHub, keyPath: hook.key, gitAPI: {tokenPath: t}, register: {repos: [a/b], publicURL: "https://h"}, recover: {lookback: 2d}}
            """, files: ["hook.key": GitHostTests.key, "t": "token"])
        #expect(config.delivery.seenRetention == .seconds(2 * 86400))
        #expect(config.delivery.duplicateWindow == .seconds(3600))
    }
}

/// An App endpoint serves only with Kubernetes (its tokens live in Secrets).
@Suite(.serialized, .enabled(if: KubeAdmin.current != nil, "needs the API server that scripts/test starts"))
struct GitHubAppRecoveryTests {
    let kube = KubeAdmin.current!

    @Test("a GitHub App's own webhook: failed deliveries never accepted are asked for again with the App's JWT")
    func recoverAppDeliveries() async throws {
        // The App's Secrets, and the Lease that picks the replica doing the recovery, live in `ci`.
        try? kube.create(["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "ci"]])
        let pair = FakeGitHubAPI.makeKey()
        let api = try await FakeGitHubAPI.start(publicKey: pair.publicKey, issuer: "4242")
        let probe = try await RecordingServer.start()
        let port = probe.port
        await probe.stop()
        let folder = Fixtures.temporaryDirectory()
        try GitHostTests.key.write(toFile: folder + "/hook.key", atomically: true, encoding: .utf8)
        try pair.pkcs1.write(toFile: folder + "/app.pem", atomically: true, encoding: .utf8)
        try """
            hookgateVersion: 1
            githubApps: [{name: my-app, appID: 4242, privateKeyPath: app.pem, apiURL: "\(api.baseURL)", secrets: {namespace: ci}}]
            endpoints:
              - {name: app, id: \(GitHostTests.endpointID), source: GitHub, keyPath: hook.key, app: my-app, notify: [log], recover: {every: 10m, lookback: 3h}}
            """.write(toFile: folder + "/hookgate.yaml", atomically: true, encoding: .utf8)
        api.setHook(url: "http://127.0.0.1:\(port)/hook/\(GitHostTests.endpointID)", secret: GitHostTests.key)
        let arguments = ["serve", "--config", folder + "/hookgate.yaml", "--listen", "127.0.0.1:\(port)", "--data-dir", folder + "/data", "--kubeconfig", kube.kubeconfig]
        let first = try await HookGateProcess.start(serve: arguments)
        #expect(try await GitHostTests.post(GitHostTests.pushBody(1), delivery: "app-1", to: "http://127.0.0.1:\(port)/hook/\(GitHostTests.endpointID)") == 200)
        #expect(await first.terminate() == 0)
        let lease = kube.get("/apis/coordination.k8s.io/v1/namespaces/ci/leases/\(Leadership.leaseName)")?["spec"] as? [String: Any]
        #expect((lease?["holderIdentity"] as? String ?? "") == "", "the Lease is given up on shutdown: \(first.stderr)")
        api.addDelivery(guid: "app-1", statusCode: 504, at: Date().addingTimeInterval(-900), body: GitHostTests.pushBody(1))
        api.addDelivery(guid: "app-2", statusCode: 0, at: Date().addingTimeInterval(-600), body: GitHostTests.pushBody(2))
        api.addDelivery(guid: "app-3", statusCode: 200, at: Date().addingTimeInterval(-300), body: GitHostTests.pushBody(3))

        let dry = await HookGateProcess.runInBackground(["hooks", "recover", "--config", folder + "/hookgate.yaml", "--endpoint", "app", "--since", "1h",
                                                         "--data-dir", folder + "/data", "--dry-run"])
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("would ask for delivery app-2"), "\(dry.stdout)")
        #expect(dry.stdout.contains("1 to ask for, 1 failed at the host but accepted here"), "\(dry.stdout)")

        let second = try await HookGateProcess.start(serve: arguments)
        defer { second.stop() }
        let restarted = ContinuousClock.now
        do {
            try await waitUntil(timeout: .seconds(20)) { api.deliveries.contains { $0.redelivery } }
        } catch {
            Issue.record("no redelivery; hookgate said:\n\(second.stderr)")
        }
        #expect(api.redeliveryRequests.count == 1)
        // The first process gave the Lease up when it stopped: no wait for it to expire.
        #expect(ContinuousClock.now - restarted < .seconds(10))
        #expect(api.deliveries.filter(\.redelivery).map(\.guid) == ["app-2"])
        #expect(api.deliveries.filter(\.redelivery).allSatisfy { $0.statusCode == 200 })
        #expect(api.refusedJWTs == 0)
        #expect(await second.terminate() == 0)
        await api.stop()
    }

}

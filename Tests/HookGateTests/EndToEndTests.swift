import AsyncHTTPClient
import Foundation
import HookGate
import HookGateTestSupport
import Logging
import NIOCore
import NIOHTTP1
import Testing

/// The built binary, started as an operator starts it, with flux-recv's own fixture set and a
/// flux-recv config; a recording Flux API; requests signed by Python over HTTP.
@Suite(.serialized) struct EndToEndTests {
    static let fluxRecv = Fixtures.path("flux-recv")

    /// A folder holding flux-recv's key files and a `fluxrecv.yaml` pointing at `api`.
    static func fluxRecvFolder(api: String) throws -> String {
        let folder = Fixtures.temporaryDirectory()
        for name in try FileManager.default.contentsOfDirectory(atPath: fluxRecv) where name.hasSuffix("_key") {
            try FileManager.default.copyItem(atPath: fluxRecv + "/" + name, toPath: folder + "/" + name)
        }
        let yaml = """
            fluxRecvVersion: 1
            api: \(api)
            endpoints:
            - source: GitHub
              keyPath: github_key
            - source: GitLab
              keyPath: gitlab_key
            - source: BitbucketCloud
              keyPath: bitbucket_cloud_key
            - source: BitbucketServer
              keyPath: bitbucket_server_key
            - source: DockerHub
              keyPath: dockerhub_key
            - source: Quay
              keyPath: quay_key
            - source: Harbor
              keyPath: harbor_key
            - source: Harbor
              keyPath: harborV2_key
            - source: Nexus
              keyPath: nexus_key
              registryHost: nexus.example.com
            - source: GoogleContainerRegistry
              keyPath: gcr_key

            """
        try yaml.write(toFile: folder + "/fluxrecv.yaml", atomically: true, encoding: .utf8)
        return folder
    }

    static func key(_ name: String) -> String {
        String(decoding: Fixtures.data("flux-recv/\(name)"), as: UTF8.self)
    }

    static func post(_ url: String, headers: [String: String], body: Data) async throws -> (Int, String) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
        return (Int(response.status.code), text)
    }

    @Test func everyFluxRecvSourceMakesTheSameNotifyCall() async throws {
        let flux = try await RecordingServer.start()
        defer { Task { await flux.stop() } }
        let folder = try Self.fluxRecvFolder(api: flux.baseURL + "/api/flux")
        let server = try await HookGateProcess.start(serve: ["--config", folder + "/fluxrecv.yaml", "--listen", "127.0.0.1:0", "--data-dir", folder + "/data"])
        defer { server.stop() }

        func url(_ keyFile: String, registryHost: String = "") -> String {
            server.baseURL + "/hook/" + Python.sha256Hex(Fixtures.data("flux-recv/" + keyFile) + Data(registryHost.utf8))
        }
        func payload(_ name: String) -> Data { Fixtures.data("flux-recv/" + name) }
        func hmac(_ keyFile: String, _ body: Data, _ algorithm: String = "sha256") -> String {
            Python.hmacHex(key: Self.key(keyFile), body: body, algorithm: algorithm)
        }

        let cases: [(String, [String: String], Data, String)] = [
            (url("github_key"), ["X-GitHub-Event": "push", "Content-Type": "application/json",
                                 "X-Hub-Signature": "sha512=" + hmac("github_key", payload("github_payload"), "sha512")],
             payload("github_payload"),
             #"{"Kind":"git","Source":{"URL":"git@github.com:Codertocat/Hello-World.git","Branch":"refs/tags/simple-tag"}}"#),
            (url("gitlab_key"), ["X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": Self.key("gitlab_key")], payload("gitlab_payload"),
             #"{"Kind":"git","Source":{"URL":"git@example.com:mike/diaspora.git","Branch":"master"}}"#),
            (url("bitbucket_cloud_key"), ["X-Event-Key": "repo:push"], payload("bitbucket_cloud_payload"),
             #"{"Kind":"git","Source":{"URL":"git@bitbucket.org:mbridgen/dummy.git","Branch":"master"}}"#),
            (url("bitbucket_server_key"), ["X-Event-Key": "repo:refs_changed",
                                           "X-Hub-Signature": "sha256=" + hmac("bitbucket_server_key", payload("bitbucket_server_payload"))],
             payload("bitbucket_server_payload"),
             #"{"Kind":"git","Source":{"URL":"ssh://git@bitbucket.redacted.com/~abursavich/hook-test.git","Branch":"master"}}"#),
            (url("dockerhub_key"), [:], payload("dockerhub_payload"),
             #"{"Kind":"image","Source":{"Name":{"Domain":"","Image":"svendowideit/testhook"}}}"#),
            (url("quay_key"), [:], payload("quay_payload"),
             #"{"Kind":"image","Source":{"Name":{"Domain":"quay.io","Image":"hiddeco/foo"}}}"#),
            (url("harbor_key"), ["Authorization": Self.key("harbor_key")], payload("harbor_payload"),
             #"{"Kind":"image","Source":{"Name":{"Domain":"demo.goharbor.io","Image":"test123/alpine"}}}"#),
            (url("harborV2_key"), ["Authorization": Self.key("harborV2_key")], payload("harborV2_payload"),
             #"{"Kind":"image","Source":{"Name":{"Domain":"hub.harbor.com","Image":"test-webhook/debian"}}}"#),
            (url("nexus_key", registryHost: "nexus.example.com"),
             ["X-Nexus-Webhook-Id": "rm:repository:component", "X-Nexus-Webhook-Signature": hmac("nexus_key", payload("nexus_payload"), "sha1")],
             payload("nexus_payload"),
             #"{"Kind":"image","Source":{"Name":{"Domain":"nexus.example.com","Image":"app1/alpine"}}}"#),
            (url("gcr_key"), [:], Fixtures.data("gcr-pubsub_push-INSERT.json"),
             #"{"Kind":"image","Source":{"Name":{"Domain":"us.gcr.io","Image":"am/am.kebab.api"}}}"#),
        ]
        for (index, (target, headers, body, expected)) in cases.enumerated() {
            let (status, text) = try await Self.post(target, headers: headers, body: body)
            #expect(status == 200, "case \(index): \(text)")
            #expect(text == "queued")
            let calls = await flux.waitForRequests(index + 1)
            #expect(calls.count == index + 1)
            #expect(calls.last?.path == "/api/flux/v11/notify")
            #expect(calls.last?.body == expected, "case \(index)")
        }
        // The start-up log names every endpoint's source, key file and URL path, never a key.
        for name in ["github_key", "gitlab_key", "nexus_key"] { #expect(server.stderr.contains(folder + "/" + name)) }
        #expect(server.stderr.contains(URL(string: url("github_key"))!.path))
        #expect(!server.stderr.contains(Self.key("gitlab_key")))
        #expect(server.stderr.contains("ends with a newline"))
        #expect(await server.terminate() == 0)
    }

    /// SIGTERM: the request in flight (sync) is answered, the queued delivery in flight finishes,
    /// then the process exits 0 with nothing left pending.
    @Test func sigtermLetsRequestsAndDeliveriesInFlightFinish() async throws {
        let flux = try await RecordingServer.start { _ in .init(delay: .milliseconds(1500)) }
        defer { Task { await flux.stop() } }
        let folder = Fixtures.temporaryDirectory()
        try "queued-key".write(toFile: folder + "/queued.key", atomically: true, encoding: .utf8)
        try "sync-key".write(toFile: folder + "/sync.key", atomically: true, encoding: .utf8)
        try """
            hookgateVersion: 1
            api: \(flux.baseURL)/api/flux
            endpoints:
              - {name: queued, source: DockerHub, keyPath: queued.key}
              - {name: sync, source: DockerHub, keyPath: sync.key, delivery: sync}
            """.write(toFile: folder + "/hookgate.yaml", atomically: true, encoding: .utf8)
        // flux-recv's argument style, no subcommand.
        let server = try await HookGateProcess.start(serve: [
            "--config=\(folder)/hookgate.yaml", "--listen=127.0.0.1:0", "--data-dir=\(folder)/data", "--log-format", "json"])
        let body = Fixtures.data("dockerhub-push.json")
        let queued = try await Self.post(server.baseURL + "/hook/" + Python.sha256Hex(Data("queued-key".utf8)), headers: [:], body: body)
        #expect(queued.1 == "queued")
        _ = await flux.waitForRequests(1)
        async let sync = Self.post(server.baseURL + "/hook/" + Python.sha256Hex(Data("sync-key".utf8)), headers: [:], body: body)
        _ = await flux.waitForRequests(2)
        server.signal(SIGTERM)
        let (status, text) = try await sync
        #expect(status == 200)
        #expect(text == "OK")
        #expect(await server.waitForExit() == 0)
        let list = HookGateProcess.run(["deliveries", "--data-dir", folder + "/data"])
        #expect(list.stdout.hasPrefix("pending 0, failed 0, delivered 2"), "\(list.stdout)")
        // JSON logs: every line parses.
        for line in server.stderr.split(separator: "\n") {
            #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil, "\(line)")
        }
    }

    /// A delivery still in flight when the drain timeout ends stays pending and is delivered on the
    /// next start.
    @Test func unfinishedDeliveriesAreRetriedOnTheNextStart() async throws {
        let calls = Counter()
        let flux = try await RecordingServer.start { _ in calls.next() == 1 ? .init(delay: .seconds(8)) : .init() }
        defer { Task { await flux.stop() } }
        let folder = Fixtures.temporaryDirectory()
        try "drain-key".write(toFile: folder + "/drain.key", atomically: true, encoding: .utf8)
        try """
            hookgateVersion: 1
            api: \(flux.baseURL)/api/flux
            delivery: {drainTimeout: 300ms}
            endpoints:
              - {name: drain, source: DockerHub, keyPath: drain.key}
            """.write(toFile: folder + "/hookgate.yaml", atomically: true, encoding: .utf8)
        let arguments = ["serve", "--config", folder + "/hookgate.yaml", "--listen", "127.0.0.1:0", "--data-dir", folder + "/data"]
        let first = try await HookGateProcess.start(serve: arguments)
        let url = first.baseURL + "/hook/" + Python.sha256Hex(Data("drain-key".utf8))
        #expect(try await Self.post(url, headers: [:], body: Fixtures.data("dockerhub-push.json")).1 == "queued")
        _ = await flux.waitForRequests(1)
        let stopping = ContinuousClock.now
        first.signal(SIGTERM)
        #expect(await first.waitForExit() == 0)
        #expect(ContinuousClock.now - stopping < .seconds(5))
        #expect(HookGateProcess.run(["deliveries", "--data-dir", folder + "/data"]).stdout.hasPrefix("pending 1, failed 0, delivered 0"))

        let second = try await HookGateProcess.start(serve: arguments)
        defer { second.stop() }
        #expect(await flux.waitForRequests(2).count == 2)
        #expect(await second.terminate() == 0)
        #expect(HookGateProcess.run(["deliveries", "--data-dir", folder + "/data"]).stdout.hasPrefix("pending 0, failed 0, delivered 1"))
    }

    @Test func quickstartServesWithoutFlux() async throws {
        let config = Fixtures.packageRoot + "/examples/quickstart/hookgate.yaml"
        let server = try await HookGateProcess.start(serve: ["serve", "--config", config, "--listen", "127.0.0.1:0", "--data-dir", Fixtures.temporaryDirectory()])
        defer { server.stop() }
        let key = String(decoding: FileManager.default.contents(atPath: Fixtures.packageRoot + "/examples/quickstart/keys/github.key")!, as: UTF8.self)
        let body = Fixtures.data("github-push-branch-created-with-installation.json")
        let target = server.baseURL + "/hook/" + Python.sha256Hex(Data(key.utf8))
        let (status, _) = try await Self.post(target, headers: [
            "X-GitHub-Event": "push", "X-GitHub-Delivery": "quick-1", "Content-Type": "application/json",
            "X-Hub-Signature-256": "sha256=" + Python.hmacHex(key: key, body: body)], body: body)
        #expect(status == 200)
        let lines = await server.waitForStdoutLines(1)
        #expect(lines.count == 1)
        #expect(lines.first?.contains(#""branch":"master""#) == true)
        #expect(lines.first?.contains(#""delivery":"quick-1""#) == true)
    }
}

/// The commands an operator runs by hand.
@Suite struct CommandLineTests {
    @Test func checkPassesAndFails() throws {
        let good = HookGateProcess.run(["check", "--config", Fixtures.packageRoot + "/examples/quickstart/hookgate.yaml"])
        #expect(good.status == 0)
        #expect(good.stdout.contains("OK (hookgateVersion 1, 2 endpoints)"))

        let folder = Fixtures.temporaryDirectory()
        try "fluxRecvVersion: 1\nendpoints:\n- source: Gitlab\n  keyPath: nothere\n- source: DockerHubb\n  keyPath: nothere\n"
            .write(toFile: folder + "/bad.yaml", atomically: true, encoding: .utf8)
        let bad = HookGateProcess.run(["check", "--config", folder + "/bad.yaml"])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("bad.yaml:4: key file \"nothere\""))
        #expect(bad.stderr.contains("bad.yaml:5: `endpoints[1].source`: unknown source \"DockerHubb\"; did you mean `DockerHub`?"))
        #expect(bad.stderr.contains("3 problems"))
        // serve refuses the same config before binding a port
        let serve = HookGateProcess.run(["--config", folder + "/bad.yaml", "--listen", "127.0.0.1:0", "--data-dir", folder + "/data"])
        #expect(serve.status == 1)
        #expect(!serve.stderr.contains("listening"))
    }

    @Test func endpointsPrintsPasteableURLs() throws {
        let folder = try EndToEndTests.fluxRecvFolder(api: "http://localhost:3030/api/flux")
        let result = HookGateProcess.run(["endpoints", "--config", folder + "/fluxrecv.yaml", "--base-url", "https://hooks.example.com/"])
        #expect(result.status == 0)
        let nexus = Python.sha256Hex(Fixtures.data("flux-recv/nexus_key") + Data("nexus.example.com".utf8))
        #expect(result.stdout.contains("https://hooks.example.com/hook/\(nexus)"))
        #expect(result.stdout.contains("https://hooks.example.com/hook/" + Python.sha256Hex(Fixtures.data("flux-recv/github_key"))))
        #expect(!result.stdout.contains(EndToEndTests.key("gitlab_key")))
        #expect(result.stdout.split(separator: "\n").count == 11)
    }

    @Test func keygenWritesAPrivateKeyWithoutNewline() throws {
        let folder = Fixtures.temporaryDirectory()
        let result = HookGateProcess.run(["keygen", "--out", "keys/github.key", "--source", "gitlab"], currentDirectory: folder)
        #expect(result.status == 0)
        let data = try #require(FileManager.default.contents(atPath: folder + "/keys/github.key"))
        #expect(data.count == 40)
        #expect(data.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) })
        let mode = try FileManager.default.attributesOfItem(atPath: folder + "/keys/github.key")[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(result.stdout.contains("URL path: /hook/" + Python.sha256Hex(data)))
        #expect(result.stdout.contains("source: GitLab"))
        #expect(!result.stdout.contains(String(decoding: data, as: UTF8.self)))
        let again = HookGateProcess.run(["keygen", "--out", "keys/github.key"], currentDirectory: folder)
        #expect(again.status != 0)
        #expect(again.stderr.contains("exists"))
        let toStdout = HookGateProcess.run(["keygen"])
        #expect(toStdout.stdout.count == 40)
        #expect(toStdout.stderr.contains("URL path: /hook/" + Python.sha256Hex(Data(toStdout.stdout.utf8))))
    }

    @Test func helpHasExamples() {
        for command in ["serve", "check", "endpoints", "keygen", "deliveries"] {
            let result = HookGateProcess.run([command, "--help"])
            #expect(result.status == 0)
            #expect(result.stdout.contains("Example"), "\(command)")
        }
    }

    @Test func deliveriesListRetryAndPurge() async throws {
        let folder = Fixtures.temporaryDirectory()
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let store = try await DeliveryStore.open(directory: folder, logger: logger)
        let event = HookEvent(name: "push", kind: .gitPush(GitPush(fullName: "a/b", sshURL: "git@h:a/b.git", httpsURL: nil, ref: "refs/heads/main")))
        let row = NewDelivery(endpoint: "gh", source: "GitHub", deliveryID: "d-9", target: "flux-api http://x/api/flux/v11/notify", notifier: "flux-api", events: [event])
        let ids = try #require(try await store.enqueue([row, row], dedupeKeys: [], window: .seconds(60))).map(\.id)
        try await store.markFailed(ids[0], attempts: 3, error: "http://x answered 500")
        await store.close()

        let list = HookGateProcess.run(["deliveries", "--data-dir", folder])
        #expect(list.status == 0)
        #expect(list.stdout.hasPrefix("pending 1, failed 1, delivered 0"))
        #expect(list.stdout.contains("FAILED"))
        #expect(list.stdout.contains("d-9"))
        #expect(list.stdout.contains("http://x answered 500"))

        let retry = HookGateProcess.run(["deliveries", "retry", String(ids[0]), "--data-dir", folder])
        #expect(retry.status == 0)
        #expect(retry.stdout.contains("requeued 1 delivery"))
        #expect(HookGateProcess.run(["deliveries", "--data-dir", folder]).stdout.hasPrefix("pending 2, failed 0"))
        #expect(HookGateProcess.run(["deliveries", "retry", "999", "--data-dir", folder]).status == 1)
        #expect(HookGateProcess.run(["deliveries", "retry", "--data-dir", folder]).status != 0)
        #expect(HookGateProcess.run(["deliveries", "purge", "--failed", "--data-dir", folder]).stdout.contains("deleted 0 deliveries"))
        #expect(HookGateProcess.run(["deliveries", "--data-dir", folder + "/nothing"]).status == 1)
    }
}

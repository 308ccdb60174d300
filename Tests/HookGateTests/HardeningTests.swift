import AsyncHTTPClient
import Foundation
import Logging
import HTTPTypes
import HookGateTestSupport
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOHTTP1
import Testing

@testable import HookGate

/// Issue 12: what an outside attack run broke, each with the test that failed before the fix.
@Suite(.serialized) struct HardeningTests {
    static let endpoint = "hookgateVersion: 1\nendpoints:\n  - {source: GitHub, keyPath: k}\n"

    /// 1, 11: a key that is empty or only whitespace is an error naming the file; a directory says
    /// so; a short key is a warning.
    @Test(arguments: [("\n", "holds only a newline"), ("", "is empty"), (" ", "holds only whitespace"), ("\r\n", "holds only a newline"), (" \t\n", "holds only whitespace")])
    func emptyKeysAreRefused(key: String, says: String) {
        let text = problems(Self.endpoint, files: ["k": key]).map(\.description)
        #expect(text.contains { $0.contains(says) && $0.contains("/k)") }, "\(text)")
    }

    @Test func directoryShortKeyAndBadID() throws {
        let folder = Fixtures.temporaryDirectory()
        try FileManager.default.createDirectory(atPath: folder + "/keys", withIntermediateDirectories: true)
        try Self.endpoint.replacingOccurrences(of: "keyPath: k", with: "keyPath: keys").write(toFile: folder + "/c.yaml", atomically: true, encoding: .utf8)
        do {
            _ = try ConfigLoader.load(path: folder + "/c.yaml")
            Issue.record("a directory as key file was accepted")
        } catch {
            #expect(error.problems.map(\.description).contains { $0.contains("is a directory") && !$0.contains("permissions") })
        }
        let config = try loadConfig(Self.endpoint, files: ["k": "short"])
        #expect(config.warnings.map(\.description).contains { $0.contains("5 bytes long, short enough to guess") })
        let badID = problems("""
            hookgateVersion: 1
            endpoints:
              - {source: GitHub, keyPath: k, id: "no/slashes"}
              - {source: GitHub, keyPath: k, id: other-id}
            """, files: ["k": "0123456789abcdef0123"]).map(\.description)
        #expect(badID.count == 1 && badID[0].contains("cannot be a URL segment"), "\(badID)")
    }

    /// 5: an alias bomb in the config or a template is refused with its line, at once.
    @Test func aliasBombsAreRefused() throws {
        var bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 { bomb += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n" }
        let text = problems(Self.endpoint + bomb, files: ["k": "0123456789abcdef0123"]).map(\.description)
        #expect(text.contains { $0.contains(":8: the YAML stands for more than 100000 nodes") }, "\(text)")
        #expect(throws: TemplateError.self) { try ObjectTemplate(yaml: "kind: PipelineRun\n" + bomb) }
        // Anchors used a little are fine.
        _ = try loadConfig(Self.endpoint + "x: &r {branches: [main]}\n".replacingOccurrences(of: "x:", with: "# x:"), files: ["k": "0123456789abcdef0123"])
        try YAMLExpansion.check("a: &a [1, 2]\nb: *a\n")
    }

    /// 2: duplicates by sender id, and by body hash only where the signature covers the body.
    @Test func duplicatesFollowTheSignature() async throws {
        let flux = try await RecordingServer.start()
        defer { Task { await flux.stop() } }
        let quay = Fixtures.data("flux-recv/quay_payload")
        try await Harness.withServer(downstream: flux, extraYAML: """
              - {name: quay, source: Quay, keyPath: quay.key, notify: [log]}
            """, files: ["quay.key": "quay-key-0123456789abcdef"]) { client, config in
            func send(_ path: String, _ headers: HTTPFields, _ body: Data) async throws -> String {
                try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(bytes: body)) { String(buffer: $0.body) }
            }
            // Quay signs nothing and names no delivery: a re-push of :latest is a new push.
            #expect(try await send(config.endpoints[2].path, [:], quay) == "queued")
            #expect(try await send(config.endpoints[2].path, [:], quay) == "queued")
            // GitHub signs the body: a captured request replayed under new ids is a duplicate.
            let body = Fixtures.data("github-push-branch-created-with-installation.json")
            var answers: [String] = []
            for id in ["r-1", "r-2", "r-3"] { answers.append(try await send(config.endpoints[0].path, Harness.githubHeaders(body, delivery: id), body)) }
            #expect(answers == ["OK", "duplicate", "duplicate"])
        }
    }

    /// 4: more events than limits.maxEventsPerDelivery is a 413, counted; an unsigned Bitbucket
    /// push of 16k branches no longer takes seconds of CPU.
    @Test func tooManyEventsAre413() async throws {
        let flux = try await RecordingServer.start()
        defer { Task { await flux.stop() } }
        let changes = (0..<16_000).map { #"{"new": {"type": "branch", "name": "b\#($0)", "target": {"hash": "abc"}}}"# }.joined(separator: ",")
        let body = Data(#"{"push": {"changes": [\#(changes)]}, "repository": {"full_name": "a/b", "links": {"html": {"href": "https://bitbucket.org/a/b"}}}}"#.utf8)
        try await Harness.withServer(downstream: flux, extraYAML: """
              - {name: bb, source: BitbucketCloud, keyPath: bb.key}
            """, files: ["bb.key": "bb-key-0123456789abcdef"]) { client, config in
            try await client.execute(uri: config.endpoints[2].path, method: .post, headers: [HTTPField.Name("X-Event-Key")!: "repo:push"],
                                     body: ByteBuffer(bytes: body)) { response in
                #expect(response.status == .contentTooLarge)
                #expect(String(buffer: response.body).contains("too many events in one delivery (16000; at most 1000)"))
            }
            let metrics = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            #expect(metrics.contains(#"hookgate_requests_total{endpoint="bb",source="BitbucketCloud",outcome="too_many_events"} 1"#))
        }
        let many = (0..<20_000).map { HookEvent(name: "push", kind: .gitPush(GitPush(fullName: "a/b", sshURL: "s", httpsURL: nil, ref: "refs/heads/b\($0)"))) }
        #expect(FluxAPINotifier.distinctBodies(many + many).count == 20_000)
    }

    /// 7: slow uploads holding one endpoint's share leave the other endpoints room.
    @Test func aFloodAtOneEndpointLeavesTheOthersRoom() async throws {
        let flux = try await RecordingServer.start()
        defer { Task { await flux.stop() } }
        let body = Fixtures.data("github-push-branch-created-with-installation.json")
        try await Harness.withServer(downstream: flux, extraYAML: """
              - {name: flooded, source: Quay, keyPath: q.key, notify: [log]}
            """, limits: "maxConcurrentRequests: 8, maxConcurrentRequestsPerClient: 8", files: ["q.key": "quay-key-0123456789abcdef"]) { client, config in
            let port = try #require(client.port)
            let flood = Task {
                await Python.runInBackground("""
                    import socket, sys, time
                    held = []
                    for i in range(12):
                        s = socket.socket(); s.bind(("127.0.0.2", 0)); s.connect(("127.0.0.1", int(sys.argv[1])))
                        s.sendall(("POST " + sys.argv[2] + " HTTP/1.1\\r\\nHost: a\\r\\nContent-Length: 1000\\r\\n\\r\\n{").encode())
                        held.append(s)
                    time.sleep(1)
                    answered = 0
                    for s in held:
                        s.setblocking(False)
                        try:
                            if s.recv(100).startswith(b"HTTP/1.1 429"): answered += 1
                        except BlockingIOError:
                            pass
                    print("holding", len(held) - answered, flush=True)
                    time.sleep(2)
                    """, arguments: [String(port), config.endpoints[2].path])
            }
            try await Task.sleep(for: .milliseconds(1500))
            try await client.execute(uri: config.endpoints[0].path, method: .post, headers: Harness.githubHeaders(body), body: ByteBuffer(bytes: body)) {
                #expect($0.status == .ok, "the other endpoint still takes requests")
            }
            try await client.execute(uri: config.endpoints[2].path, method: .post, body: ByteBuffer(string: "{}")) {
                #expect($0.status == .tooManyRequests)
                #expect(String(buffer: $0.body).contains("to this endpoint"))
            }
            let floodOutput = await flood.value
            #expect(floodOutput.contains("holding 2"), "\(floodOutput)")
        }
    }

    /// 3, 10: created objects are named from the delivery id only; label values are label-safe.
    @Test func createdNamesAndLabels() async throws {
        let kube = try KubeClient(connection: KubeConnection(
            server: "http://127.0.0.1:1", certificateAuthority: nil, credentials: .token("t"), namespace: "default", origin: "a test"))
        let template = try ObjectTemplate(yaml: """
            apiVersion: tekton.dev/v1
            kind: PipelineRun
            metadata: {generateName: build-, labels: {branch: "$(hook.branch)"}}
            """)
        let notifier = CreateNotifier(target: "create ci", resource: KubeResource.resolve(kind: "PipelineRun", apiVersion: "tekton.dev/v1", plural: nil)!,
                                      namespace: "ci", template: template, client: kube)
        func object(_ branch: String, delivery: String) -> ObjectTemplate.Value {
            let push = GitPush(fullName: "a/b", sshURL: "s", httpsURL: nil, ref: "refs/heads/" + branch)
            return notifier.render(HookEvent(name: "push", kind: .gitPush(push)), index: 0,
                                   context: NotifyContext(endpoint: "e", source: .gitHub, deliveryID: delivery, logger: .init(label: "t")))
        }
        let one = object("main", delivery: "d-1"), other = object("feature/x", delivery: "d-1")
        #expect(one["metadata"]?["name"] == other["metadata"]?["name"], "the name follows the delivery, not the event's encoding")
        #expect(one["metadata"]?["name"]?.string == "build-" + Python.sha256Hex(Data("create ci\nd-1\n0".utf8)).prefix(10))
        #expect(object("main", delivery: "d-2")["metadata"]?["name"] != one["metadata"]?["name"])
        #expect(other["metadata"]?["labels"]?["branch"]?.string == "feature-x")
        let long = object(String(repeating: "x", count: 80) + "/", delivery: "d-3")["metadata"]?["labels"]?["branch"]?.string ?? ""
        #expect(long.count == 63)
        try await kube.shutdown()
    }

    /// 9: credentials in a URL reach only the call.
    @Test func credentialsAreRedacted() {
        let url = CredentialedURL("http://user:s3cret@flux:3030/api/flux/v11/notify")
        #expect(url.plain == "http://flux:3030/api/flux/v11/notify")
        #expect(url.redacted == "http://***@flux:3030/api/flux/v11/notify")
        #expect(url.authorization == "Basic " + Data("user:s3cret".utf8).base64EncodedString())
        #expect(CredentialedURL.redactingCredentials(in: "flux-api http://u:p@h/x answered 500") == "flux-api http://***@h/x answered 500")
        let notifier = FluxAPINotifier(baseURL: "http://user:s3cret@flux:3030/api/flux", client: .shared)
        #expect(!notifier.target.contains("s3cret"))
    }

    /// 8: the queue's files deleted while it runs: the next write notices, carries what was queued
    /// over to a new file, and nothing is lost at the next start.
    @Test func deletedQueueFilesAreNoticedAndNothingIsLost() async throws {
        let directory = Fixtures.temporaryDirectory() + "/data"
        let logger = Logger(label: "test")
        let event = HookEvent(name: "push", kind: .gitPush(GitPush(fullName: "a/b", sshURL: "s", httpsURL: nil, ref: "refs/heads/main")))
        func row(_ id: String) -> NewDelivery {
            NewDelivery(endpoint: "gh", source: "GitHub", deliveryID: id, target: "t", notifier: "n", events: [event])
        }
        let store = try await DeliveryStore.open(directory: directory, logger: logger)
        _ = try await store.enqueue([row("before")], dedupeKeys: [], window: .seconds(60))
        try FileManager.default.removeItem(atPath: directory)
        _ = try await store.enqueue([row("after")], dedupeKeys: [], window: .seconds(60))
        #expect(FileManager.default.fileExists(atPath: directory + "/" + DeliveryStore.fileName))
        #expect(try await store.counts()[.pending] == 2)
        await store.close()
        let reopened = try await DeliveryStore.open(directory: directory, logger: logger)
        #expect(try await reopened.list(states: [.pending], limit: 10).compactMap(\.deliveryID).sorted() == ["after", "before"])
        await reopened.close()
    }

    /// 6: 200 concurrent 20 MB uploads against the built binary, three times over: a bad signature
    /// (refused after reading), a good one (verified, then parsed), and unsigned Quay pushes (parsed
    /// and queued). Memory stays bounded by the in-flight budget; the peak is printed.
    @Test func manyLargeUploadsStayWithinTheBudget() async throws {
        let folder = Fixtures.temporaryDirectory()
        let key = "large-upload-key-0123456789"
        try key.write(toFile: folder + "/k.key", atomically: true, encoding: .utf8)
        try "quay-upload-key-0123456789".write(toFile: folder + "/q.key", atomically: true, encoding: .utf8)
        try """
            hookgateVersion: 1
            endpoints:
              - {name: big, source: GitHub, keyPath: k.key, notify: [log]}
              - {name: quay, source: Quay, keyPath: q.key, notify: [log]}
            """.write(toFile: folder + "/hookgate.yaml", atomically: true, encoding: .utf8)
        let server = try await HookGateProcess.start(serve: ["--config", folder + "/hookgate.yaml", "--listen", "127.0.0.1:0", "--data-dir", folder + "/data"])
        defer { server.stop() }
        let github = "/hook/" + Python.sha256Hex(Data(key.utf8)), quay = "/hook/" + Python.sha256Hex(Data("quay-upload-key-0123456789".utf8))
        let uploads = """
            import hashlib, hmac, socket, sys, threading
            port, path, kind, key = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4].encode()
            if kind == "quay":
                start = b'{"repository": "org/app", "docker_url": "quay.io/org/app", "updated_tags": ["latest"]'
            else:
                start = (b'{"ref": "refs/heads/main", "commits": [], "repository": {"full_name": "org/app", '
                         b'"ssh_url": "git@github.com:org/app.git", "clone_url": "https://github.com/org/app.git"}')
            body = start + b" " * (20 * 1024 * 1024 - len(start) - 1) + b"}"
            signature = hmac.new(key, body, hashlib.sha256).hexdigest() if kind == "signed" else "0" * 64
            head = ("POST " + path + " HTTP/1.1\\r\\nHost: a\\r\\nContent-Type: application/json\\r\\nX-GitHub-Event: push\\r\\n"
                    "X-Hub-Signature-256: sha256=" + signature + "\\r\\nContent-Length: " + str(len(body)) + "\\r\\n\\r\\n").encode()
            statuses = {}
            lock = threading.Lock()
            def upload():
                status = "error"
                try:
                    s = socket.create_connection(("127.0.0.1", port), timeout=120)
                    s.sendall(head)
                    try:
                        s.sendall(body)
                    except OSError:
                        pass
                    status = s.recv(12).decode(errors="replace")[9:12] or "closed"
                except OSError as e:
                    status = "error"
                with lock:
                    statuses[status] = statuses.get(status, 0) + 1
            threads = [threading.Thread(target=upload) for _ in range(200)]
            for t in threads: t.start()
            for t in threads: t.join()
            print(sorted(statuses.items()))
            """
        var answers: [String: String] = [:]
        for (kind, path) in [("unsigned", github), ("signed", github), ("quay", quay)] {
            answers[kind] = await Python.runInBackground(uploads, arguments: [String(server.port), path, kind, key])
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let peak = try #require(server.peakResidentKiB)
            print("200 concurrent 20 MB uploads, \(kind): answers \(answers[kind]!); peak RSS so far \(peak / 1024) MiB")
        }
        #expect(answers["unsigned"]?.contains("('401'") == true, "\(answers)")
        #expect(answers["signed"]?.contains("('200'") == true, "\(answers)")
        #expect(answers["quay"]?.contains("('200'") == true, "\(answers)")
        #expect(answers.values.allSatisfy { $0.contains("('503'") }, "\(answers)")
        let peak = try #require(server.peakResidentKiB)
        #expect(peak < 300 * 1024, "peak RSS \(peak / 1024) MiB")
        #expect(server.isRunning)
    }

    static func get(_ url: String) async throws -> (Int, String) {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
        return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 20)))
    }

    /// 5: a reload that would install an alias bomb is refused by the running binary, which goes on
    /// serving; `hookgate check` refuses a key file holding only a newline, naming it.
    @Test func theRunningBinaryRefusesABombAndAnEmptyKey() async throws {
        let folder = Fixtures.temporaryDirectory()
        try "reload-key-0123456789abcdef".write(toFile: folder + "/k.key", atomically: true, encoding: .utf8)
        let config = "hookgateVersion: 1\nendpoints: [{name: gh, source: GitHub, keyPath: k.key, notify: [log]}]\n"
        try config.write(toFile: folder + "/hookgate.yaml", atomically: true, encoding: .utf8)
        let server = try await HookGateProcess.start(serve: [
            "serve", "--config", folder + "/hookgate.yaml", "--listen", "127.0.0.1:0", "--data-dir", folder + "/data", "--reload", "100ms"])
        defer { server.stop() }
        var bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 { bomb += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n" }
        try (config + bomb).write(toFile: folder + "/hookgate.yaml", atomically: true, encoding: .utf8)
        try await waitUntil { server.stderr.contains("the changed config was refused") }
        #expect(server.stderr.contains("nodes"), "\(server.stderr)")
        #expect(server.isRunning)
        #expect(try await Self.get(server.baseURL + "/health").0 == 200)

        try "\n".write(toFile: folder + "/k.key", atomically: true, encoding: .utf8)
        try config.write(toFile: folder + "/hookgate.yaml", atomically: true, encoding: .utf8)
        let check = HookGateProcess.run(["check", "--config", folder + "/hookgate.yaml"])
        #expect(check.status != 0)
        let said = check.stdout + check.stderr
        #expect(said.contains("key file \"k.key\"") && said.contains("holds only a newline"), "\(said)")
    }

    /// 11: aborted uploads are refusals like any other: a flood of them is logged at a few lines a
    /// second, the rest counted.
    @Test func abortedUploadsAreLoggedAtAFewLinesASecond() async throws {
        let folder = Fixtures.temporaryDirectory()
        try "aborted-key-0123456789abcdef".write(toFile: folder + "/k.key", atomically: true, encoding: .utf8)
        try "hookgateVersion: 1\nendpoints: [{name: gh, source: GitHub, keyPath: k.key, notify: [log]}]\n"
            .write(toFile: folder + "/hookgate.yaml", atomically: true, encoding: .utf8)
        let server = try await HookGateProcess.start(serve: ["--config", folder + "/hookgate.yaml", "--listen", "127.0.0.1:0", "--data-dir", folder + "/data"])
        defer { server.stop() }
        let before = server.stderr.split(separator: "\n").count
        _ = await Python.runInBackground("""
            import socket, sys
            for _ in range(200):
                s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
                s.sendall(("POST " + sys.argv[2] + " HTTP/1.1\\r\\nHost: a\\r\\nContent-Length: 1000\\r\\n\\r\\n" + "x" * 10).encode())
                s.close()
            """, arguments: [String(server.port), "/hook/" + Python.sha256Hex(Data("aborted-key-0123456789abcdef".utf8))])
        try await waitUntil {
            try await Self.get(server.baseURL + "/metrics").1.contains(#"outcome="bad_request"} 200"#)
        }
        let lines = server.stderr.split(separator: "\n").dropFirst(before)
        #expect(lines.count <= 15, "\(lines.joined(separator: "\n"))")
        #expect(lines.contains { $0.contains("cannot read the body") })
    }

    /// Whether this machine lets tests mount a small tmpfs (root, or a container allowed to mount).
    static let canMount: Bool = {
        let folder = Fixtures.temporaryDirectory()
        guard run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", folder) == 0 else { return false }
        return run("umount", folder) == 0
    }()

    @discardableResult
    static func run(_ arguments: String...) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// 8: with the queue's disk full, webhooks get 503 and `/readyz` says not ready (its own probe
    /// row would still fit); with room again, both recover. Needs a tmpfs, so root.
    @Test(.enabled(if: canMount, "needs to mount a tmpfs")) func aFullDiskIsNotReady() async throws {
        let folder = Fixtures.temporaryDirectory()
        let data = folder + "/data"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        #expect(Self.run("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", data) == 0)
        defer { Self.run("umount", "-l", data) }
        let key = "full-disk-key-0123456789abcdef"
        try key.write(toFile: folder + "/k.key", atomically: true, encoding: .utf8)
        try "hookgateVersion: 1\nendpoints: [{name: any, source: Generic, keyPath: k.key, notify: [log]}]\n"
            .write(toFile: folder + "/hookgate.yaml", atomically: true, encoding: .utf8)
        let server = try await HookGateProcess.start(serve: ["--config", folder + "/hookgate.yaml", "--listen", "127.0.0.1:0", "--data-dir", data])
        let url = server.baseURL + "/hook/" + Python.sha256Hex(Data(key.utf8))
        func send(_ id: Int) async throws -> Int {
            try await EndToEndTests.post(url, headers: ["X-Request-Id": "full-\(id)"], body: Data("{}".utf8)).0
        }
        #expect(try await send(0) == 200)
        #expect(try await Self.get(server.baseURL + "/readyz").0 == 200)

        Self.run("dd", "if=/dev/zero", "of=" + data + "/filler", "bs=4k")
        var statuses: [Int] = []
        for id in 1...500 {
            statuses.append(try await send(id))
            if statuses.last == 503 { break }
        }
        #expect(statuses.last == 503, "\(statuses)")
        let (ready, why) = try await Self.get(server.baseURL + "/readyz")
        #expect(ready == 503, "\(why)")

        try FileManager.default.removeItem(atPath: data + "/filler")
        try await waitUntil { try await send(1000) == 200 }
        #expect(try await Self.get(server.baseURL + "/readyz").0 == 200)
        await server.terminate()
    }
}

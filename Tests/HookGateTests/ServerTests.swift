import AsyncHTTPClient
import Foundation
import HTTPTypes
import NIOCore
import HookGate
import HookGateTestSupport
import Hummingbird
import HummingbirdTesting
import Logging
import Metrics
import Prometheus
import Synchronization
import Testing

@Suite(.serialized) struct ServerTests {
    let push = Fixtures.tagPush

    @Test func signedPushNotifiesTheFluxAPIExactly() async throws {
        let flux = try await RecordingServer.start()
        defer { Task { await flux.stop() } }
        let body = push
        try await Harness.withServer(downstream: flux) { client, config in
            let path = config.endpoints[0].path
            try await client.execute(uri: path, method: .post, headers: Harness.githubHeaders(body), body: ByteBuffer(bytes: body)) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "OK")
            }
            let calls = await flux.requests
            #expect(calls.count == 1)
            #expect(calls.first?.method == .post)
            #expect(calls.first?.path == "/api/flux/v11/notify")
            #expect(calls.first?.headers[.contentType] == "application/json")
            #expect(calls.first?.body == #"{"Kind":"git","Source":{"URL":"git@github.com:Codertocat/Hello-World.git","Branch":"refs/tags/simple-tag"}}"#)
        }
    }

    @Test func statusCodes() async throws {
        let flux = try await RecordingServer.start()
        defer { Task { await flux.stop() } }
        let body = push
        try await Harness.withServer(downstream: flux, maxBody: "4KiB") { client, config in
            let path = config.endpoints[0].path
            try await client.execute(uri: "/hook/" + String(repeating: "0", count: 64), method: .post, body: ByteBuffer(string: "{}")) {
                #expect($0.status == .notFound)
                #expect($0.body.readableBytes <= 9)
            }
            try await client.execute(uri: "/nope", method: .get) { #expect($0.status == .notFound) }
            try await client.execute(uri: path, method: .get) { response in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "POST")
            }
            try await client.execute(uri: path, method: .post, headers: Harness.githubHeaders(body), body: ByteBuffer(bytes: body)) {
                #expect($0.status == .contentTooLarge)
            }
            let small = Data(#"{"zen":"x"}"#.utf8)
            var bad = Harness.githubHeaders(small)
            bad[HTTPField.Name("X-Hub-Signature-256")!] = "sha256=" + String(repeating: "0", count: 64)
            try await client.execute(uri: path, method: .post, headers: bad, body: ByteBuffer(bytes: small)) { response in
                #expect(response.status == .unauthorized)
                #expect(String(buffer: response.body) == "invalid signature")
            }
            var noEvent = Harness.githubHeaders(small)
            noEvent[HTTPField.Name("X-GitHub-Event")!] = nil
            try await client.execute(uri: path, method: .post, headers: noEvent, body: ByteBuffer(bytes: small)) {
                #expect($0.status == .badRequest)
            }
            try await client.execute(uri: path, method: .post, headers: Harness.githubHeaders(small, event: "ping"), body: ByteBuffer(bytes: small)) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "Pong")
            }
            try await client.execute(uri: path, method: .post, headers: Harness.githubHeaders(small, event: "issues"), body: ByteBuffer(bytes: small)) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("nothing to notify"))
            }
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/metrics", method: .get) { response in
                let text = String(buffer: response.body)
                #expect(text.contains(#"hookgate_requests_total{endpoint="gh",source="GitHub",outcome="too_large"}"#))
                #expect(text.contains(#"hookgate_requests_total{endpoint="gh",source="GitHub",outcome="pong"}"#))
                #expect(!text.contains(config.endpoints[0].fingerprint))
            }
            #expect(await flux.requests.isEmpty)
        }
    }

    @Test func downstreamFailuresBecome502And504() async throws {
        let failing = try await RecordingServer.start { _ in .init(status: .internalServerError, body: "boom") }
        let slow = try await RecordingServer.start { _ in .init(delay: .seconds(3)) }
        defer { Task { await failing.stop(); await slow.stop() } }
        let body = push
        try await Harness.withServer(downstream: failing) { client, config in
            try await client.execute(uri: config.endpoints[0].path, method: .post, headers: Harness.githubHeaders(body), body: ByteBuffer(bytes: body)) {
                #expect($0.status == .badGateway)
            }
        }
        try await Harness.withServer(downstream: slow, notifyTimeout: .milliseconds(300)) { client, config in
            try await client.execute(uri: config.endpoints[0].path, method: .post, headers: Harness.githubHeaders(body), body: ByteBuffer(bytes: body)) {
                #expect($0.status == .gatewayTimeout)
            }
        }
        let port = failing.port
        await failing.stop()
        let unreachable = try await RecordingServer.start()
        defer { Task { await unreachable.stop() } }
        try await Harness.withServer(downstream: unreachable, extraYAML: """
              - name: dead
                source: DockerHub
                keyPath: dead.key
                notify: [{fluxAPI: {url: "http://127.0.0.1:\(port)/api/flux"}}]
                delivery: sync
            """, files: ["dead.key": "dead"]) { client, config in
            try await client.execute(uri: config.endpoints[2].path, method: .post, body: ByteBuffer(bytes: Fixtures.data("dockerhub-push.json"))) {
                #expect($0.status == .badGateway)
            }
        }
    }

    @Test func logActionWritesOneJSONLinePerEvent() async throws {
        let flux = try await RecordingServer.start()
        defer { Task { await flux.stop() } }
        let sink = LineSink()
        try await Harness.withServer(downstream: flux, sink: sink) { client, config in
            let headers: HTTPFields = [HTTPField.Name("X-Gitlab-Token")!: "gitlab-token", HTTPField.Name("X-Gitlab-Event")!: "Push Hook", HTTPField.Name("Idempotency-Key")!: "d-1"]
            try await client.execute(uri: config.endpoints[1].path, method: .post, headers: headers, body: ByteBuffer(bytes: Fixtures.data("gitlab-push_hook.json"))) {
                #expect($0.status == .ok)
            }
        }
        #expect(sink.all.count == 1)
        let line = try JSONSerialization.jsonObject(with: Data(sink.all[0].utf8)) as? [String: Any]
        #expect(line?["branch"] as? String == "master")
        #expect(line?["delivery"] as? String == "d-1")
        #expect(line?["sshURL"] as? String == "git@example.com:mike/diaspora.git")
        #expect(line?["endpoint"] as? String == "gl-log")
        #expect(await flux.requests.isEmpty)
    }

    /// A client that sends its request one byte every 100 ms is cut off by the read deadline, and
    /// other requests are answered meanwhile.
    @Test func slowClientIsCutOff() async throws {
        let flux = try await RecordingServer.start()
        defer { Task { await flux.stop() } }
        let body = push
        try await Harness.withServer(downstream: flux, requestReadTimeout: .milliseconds(800)) { client, config in
            let port = try #require(client.port)
            let slow = Task {
                await Python.runInBackground("""
                    import socket, sys, time
                    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
                    s.settimeout(5)
                    request = b"POST /hook/x HTTP/1.1\\r\\nHost: a\\r\\nContent-Length: 10\\r\\n\\r\\n0123456789"
                    sent = 0
                    try:
                        for byte in request:
                            s.send(bytes([byte]))
                            sent += 1
                            time.sleep(0.1)
                        print("answered", sent, s.recv(100))
                    except OSError:
                        print("closed", sent)
                    """, arguments: [String(port)])
            }
            try await client.execute(uri: config.endpoints[0].path, method: .post, headers: Harness.githubHeaders(body), body: ByteBuffer(bytes: body)) {
                #expect($0.status == .ok)
            }
            let outcome = await slow.value.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ")
            #expect(outcome.first == "closed")
            #expect((Int(outcome.last ?? "") ?? 99) < 20)
        }
    }

    /// The read deadline stops once the request has arrived: a slow notify call is not cut off.
    @Test func slowDownstreamIsNotCutOff() async throws {
        let flux = try await RecordingServer.start { _ in .init(delay: .milliseconds(2500)) }
        defer { Task { await flux.stop() } }
        let body = push
        // Signed before the client connects: the read deadline runs from the connection's start.
        let headers = Harness.githubHeaders(body)
        try await Harness.withServer(downstream: flux, requestReadTimeout: .seconds(1)) { client, config in
            try await client.execute(uri: config.endpoints[0].path, method: .post, headers: headers, body: ByteBuffer(bytes: body)) {
                #expect($0.status == .ok)
            }
        }
    }

    /// An event that no action's rule picks is answered 200 with a note and counted.
    @Test func eventsNoRuleMatches() async throws {
        let flux = try await RecordingServer.start()
        defer { Task { await flux.stop() } }
        let body = push
        try await Harness.withServer(downstream: flux, extraYAML: """
              - name: main-only
                source: GitHub
                keyPath: main.key
                delivery: sync
                notify:
                  - fluxAPI:
                    when: {branches: [main]}
            """, files: ["main.key": Harness.githubKey + "-main"]) { client, config in
            var headers = Harness.githubHeaders(body)
            headers[HTTPField.Name("X-Hub-Signature-256")!] = "sha256=" + Python.hmacHex(key: Harness.githubKey + "-main", body: body)
            try await client.execute(uri: config.endpoints[2].path, method: .post, headers: headers, body: ByteBuffer(bytes: body)) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "event push accepted; no action's rule matches it")
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(String(buffer: response.body).contains(#"hookgate_requests_total{endpoint="main-only",source="GitHub",outcome="unmatched"} 1"#))
            }
            #expect(await flux.requests.isEmpty)
        }
    }
}

import AsyncHTTPClient
import Foundation
import HTTPTypes
import HookGate
import HookGateTestSupport
import NIOCore
import NIOHTTP1
import Synchronization
import Testing

/// With the Flux API down, 1,000 signed webhooks are queued; hookgate is killed with SIGKILL and
/// started again; the Flux API comes up: every notification arrives.
@Suite(.serialized) struct CrashTests {
    static let count = 1000

    @Test func killNineLosesNothing() async throws {
        let folder = Fixtures.temporaryDirectory()
        try "crash-test-key".write(toFile: folder + "/github.key", atomically: true, encoding: .utf8)
        // The Flux API is "down" (503) until the second start; the server holds its port all the
        // while, so no other test's server can take it and receive these notifications.
        let up = Switch()
        let flux = try await RecordingServer.start { _ in up.isOn ? RecordingServer.Reply() : RecordingServer.Reply(status: .serviceUnavailable) }
        defer { Task { await flux.stop() } }
        let port = flux.port
        try """
            hookgateVersion: 1
            api: http://127.0.0.1:\(port)/api/flux
            delivery: {initialBackoff: 100ms, maxBackoff: 500ms}
            endpoints:
              - {name: gh, source: GitHub, keyPath: github.key}
            """.write(toFile: folder + "/hookgate.yaml", atomically: true, encoding: .utf8)
        let arguments = ["serve", "--config", folder + "/hookgate.yaml", "--listen", "127.0.0.1:0", "--data-dir", folder + "/data"]

        // 1,000 distinct pushes (branch b0 … b999), signed by Python in one go.
        let template = Fixtures.path("github-push-branch-created-with-installation.json")
        let signed = Python.run("""
            import hmac, hashlib, json, sys
            template = open(sys.argv[1], "rb").read()
            out = []
            for i in range(int(sys.argv[2])):
                body = template.replace(b'"ref": "refs/heads/master"', b'"ref": "refs/heads/b%d"' % i)
                out.append({"body": body.decode(), "signature": "sha256=" + hmac.new(b"crash-test-key", body, hashlib.sha256).hexdigest()})
            print(json.dumps(out))
            """, arguments: [template, String(Self.count)])
        struct Signed: Decodable { var body: String; var signature: String }
        let requests = try JSONDecoder().decode([Signed].self, from: Data(signed.utf8))

        let first = try await HookGateProcess.start(serve: arguments)
        let url = first.baseURL + "/hook/" + Python.sha256Hex(Data("crash-test-key".utf8))
        let answers = try await withThrowingTaskGroup(of: Int.self) { group in
            var answered = 0
            var next = 0
            func send(_ index: Int) {
                let request = requests[index]
                group.addTask {
                    var http = HTTPClientRequest(url: url)
                    http.method = .POST
                    http.headers.add(name: "Content-Type", value: "application/json")
                    http.headers.add(name: "X-GitHub-Event", value: "push")
                    http.headers.add(name: "X-GitHub-Delivery", value: "crash-\(index)")
                    http.headers.add(name: "X-Hub-Signature-256", value: request.signature)
                    http.body = .bytes(ByteBuffer(string: request.body))
                    let response = try await HTTPClient.shared.execute(http, timeout: .seconds(30))
                    return response.status.code == 200 ? 1 : 0
                }
            }
            while next < 16 { send(next); next += 1 }
            while let ok = try await group.next() {
                answered += ok
                if next < requests.count { send(next); next += 1 }
            }
            return answered
        }
        #expect(answers == Self.count)

        first.signal(SIGKILL)
        _ = await first.waitForExit()

        let refused = await flux.requests.count
        up.turnOn()
        let second = try await HookGateProcess.start(serve: arguments)
        defer { second.stop() }
        let deadline = ContinuousClock.now + .seconds(120)
        var branches: [String] = []
        while ContinuousClock.now < deadline {
            branches = QueueHarness.branches(Array(await flux.requests.dropFirst(refused)))
            if Set(branches).count >= Self.count { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let distinct = Set(branches)
        print("crash test: \(Self.count) webhooks accepted, \(branches.count) notifications received, \(distinct.count) distinct, \(branches.count - distinct.count) repeated (at-least-once)")
        #expect(distinct == Set((0..<Self.count).map { "b\($0)" }))
        #expect(await second.terminate() == 0)
    }
}

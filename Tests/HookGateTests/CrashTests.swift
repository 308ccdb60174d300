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

    /// Forwarding to three backends that each take a second to answer; hookgate is killed with
    /// SIGKILL while forwards are in flight and started again: every backend gets every request.
    @Test func killNineDuringAFanOutLosesNothing() async throws {
        let folder = Fixtures.temporaryDirectory()
        let key = "fan-out-crash-key"
        try key.write(toFile: folder + "/github.key", atomically: true, encoding: .utf8)
        var backends: [RecordingServer] = []
        for _ in 0..<3 { backends.append(try await RecordingServer.start { _ in .init(delay: .seconds(1)) }) }
        try """
            hookgateVersion: 1
            delivery: {initialBackoff: 100ms, maxBackoff: 500ms, concurrencyPerTarget: 4}
            endpoints:
              - name: app
                source: GitHub
                keyPath: github.key
                notify: [{forward: {backends: [\(backends.map { $0.baseURL + "/hook" }.joined(separator: ", "))]}}]
            """.write(toFile: folder + "/hookgate.yaml", atomically: true, encoding: .utf8)
        let arguments = ["serve", "--config", folder + "/hookgate.yaml", "--listen", "127.0.0.1:0", "--data-dir", folder + "/data"]
        let first = try await HookGateProcess.start(serve: arguments)
        let url = first.baseURL + "/hook/" + Python.sha256Hex(Data(key.utf8))
        let count = 20
        for index in 0..<count {
            let body = Data(#"{"action":"opened","n":\#(index)}"#.utf8)
            var http = HTTPClientRequest(url: url)
            http.method = .POST
            http.headers.add(name: "Content-Type", value: "application/json")
            http.headers.add(name: "X-GitHub-Event", value: "pull_request_review")
            http.headers.add(name: "X-GitHub-Delivery", value: "fan-\(index)")
            http.headers.add(name: "X-Hub-Signature-256", value: "sha256=" + Python.hmacHex(key: key, body: body))
            http.body = .bytes(ByteBuffer(bytes: body))
            let response = try await HTTPClient.shared.execute(http, timeout: .seconds(10))
            #expect(response.status.code == 200)
        }
        // Forwards are in flight (each backend takes a second per request): kill now.
        try await waitUntil { await backends[0].requests.count >= 1 }
        first.signal(SIGKILL)
        _ = await first.waitForExit()
        let before = await backends.asyncMap { await $0.requests.count }

        let second = try await HookGateProcess.start(serve: arguments)
        defer { second.stop() }
        let expected = Set((0..<count).map { "fan-\($0)" })
        try await waitUntil(timeout: .seconds(60)) {
            for backend in backends where Set(await backend.requests.compactMap { $0.headers[HTTPField.Name("X-GitHub-Delivery")!] }) != expected {
                return false
            }
            return true
        }
        for (index, backend) in backends.enumerated() {
            let received = await backend.requests.compactMap { $0.headers[HTTPField.Name("X-GitHub-Delivery")!] }
            print("fan-out crash test: backend \(index) received \(received.count) requests (\(before[index]) before the kill) for \(count) webhooks, \(received.count - Set(received).count) repeated (at-least-once)")
            #expect(Set(received) == expected)
        }
        #expect(await second.terminate() == 0)
        for backend in backends { await backend.stop() }
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}

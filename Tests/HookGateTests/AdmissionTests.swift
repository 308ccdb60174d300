import AsyncHTTPClient
import Foundation
import HTTPTypes
import HookGateTestSupport
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOHTTP1
import Testing

@testable import HookGate

/// Address blocks, the client behind trusted proxies, the token bucket, and their config keys.
struct AdmissionTests {
    /// Whether `address` is inside `range`; nil when either does not parse.
    func inside(_ address: String, _ range: String) -> Bool? {
        guard let address = IPAddress(address), let range = AddressRange(range) else { return nil }
        return range.contains(address)
    }

    @Test func addressBlocks() {
        #expect(inside("10.200.1.2", "10.0.0.0/8") == true)
        #expect(inside("11.0.0.1", "10.0.0.0/8") == false)
        #expect(AddressRange("10.1.2.3/8") == nil, "host bits set: refused, not widened")
        #expect(AddressRange("10.0.0.0/33") == nil)
        #expect(AddressRange("10.0.0.0/") == nil)
        #expect(AddressRange("example.com") == nil)
        #expect(AddressRange("10.0.0.0/8/8") == nil)
        #expect(inside("2001:db8:1::5", "2001:db8::/32") == true)
        #expect(inside("2001:db9::1", "2001:db8::/32") == false)
        #expect(inside("10.0.0.1", "2001:db8::/32") == false)
        #expect(inside("::ffff:192.0.2.7", "192.0.2.7") == true, "an IPv4-mapped peer is its IPv4 address")
        #expect(inside("8.8.8.8", "0.0.0.0/0") == true)
        #expect(inside("140.82.127.255", "140.82.112.0/20") == true)
        #expect(inside("140.82.128.0", "140.82.112.0/20") == false)
        #expect(IPAddress("[2001:db8::1]")?.description == "2001:db8::1")
        #expect(AddressRange("2001:db8::/32")?.description == "2001:db8::/32")
        #expect(IPAddress("192.0.2.1:443") == nil)
    }

    @Test func forwardedForIsBelievedOnlyFromTrustedProxies() throws {
        let proxies = try #require(AddressRange("10.0.0.0/8"))
        let policy = ClientAddressPolicy(trustedProxies: [proxies])
        let ingress = IPAddress("10.0.0.5")
        #expect(policy.client(peer: IPAddress("198.51.100.9"), forwardedFor: ["203.0.113.7"]) == IPAddress("198.51.100.9"),
                "an untrusted peer's header is ignored")
        #expect(policy.client(peer: ingress, forwardedFor: ["203.0.113.7"]) == IPAddress("203.0.113.7"))
        #expect(policy.client(peer: ingress, forwardedFor: ["192.0.2.1, 203.0.113.7, 10.1.1.1"]) == IPAddress("203.0.113.7"),
                "the right-most address that is not a trusted proxy")
        #expect(policy.client(peer: ingress, forwardedFor: ["140.82.112.1", "198.51.100.9"]) == IPAddress("198.51.100.9"),
                "what a client writes in its own header comes first, so it cannot choose its address")
        #expect(policy.client(peer: ingress, forwardedFor: ["10.2.2.2, 10.3.3.3"]) == IPAddress("10.2.2.2"))
        #expect(policy.client(peer: ingress, forwardedFor: []) == ingress)
        #expect(policy.client(peer: ingress, forwardedFor: ["203.0.113.7, unknown"]) == nil, "garbage where the client should be")
        #expect(policy.client(peer: ingress, forwardedFor: ["junk, 203.0.113.7"]) == IPAddress("203.0.113.7"), "entries beyond the client are not read")
        #expect(policy.client(peer: nil, forwardedFor: ["203.0.113.7"]) == nil)
        #expect(ClientAddressPolicy().client(peer: ingress, forwardedFor: ["203.0.113.7"]) == ingress)
    }

    @Test func tokenBucketRefillsAtTheRateUpToTheBurst() {
        let start = ContinuousClock.now
        let bucket = TokenBucket(RateLimit(requests: 1, per: .seconds(2), burst: 2), now: start)
        #expect(bucket.take(now: start) == nil)
        #expect(bucket.take(now: start) == nil)
        #expect(bucket.take(now: start) == .seconds(2))
        #expect(bucket.take(now: start + .seconds(1)) == .seconds(1), "half a token back after a second")
        #expect(bucket.take(now: start + .seconds(2)) == nil)
        #expect(bucket.take(now: start + .seconds(100)) == nil)
        #expect(bucket.take(now: start + .seconds(100)) == nil)
        #expect(bucket.take(now: start + .seconds(100)) != nil, "never more than the burst")
    }

    @Test func refusalLogsAreCappedAndSayHowManyWereLeftOut() {
        let start = ContinuousClock.now
        let allowance = LogAllowance(burst: 3, per: .seconds(1), now: start)
        #expect((0..<3).map { _ in allowance.take(now: start) } == [0, 0, 0])
        #expect((0..<5).map { _ in allowance.take(now: start) } == [nil, nil, nil, nil, nil])
        #expect(allowance.take(now: start + .seconds(1)) == 5, "the next line written says five were left out")
        #expect(allowance.take(now: start + .seconds(1)) == nil)
        #expect(allowance.take(now: start + .seconds(2)) == 1)
    }

    @Test func admissionGateSharesRequestsAndBytes() throws {
        let gate = AdmissionGate()
        let limits = Limits(maxBodyBytes: 10, maxBodyBytesInFlight: 30, maxConcurrentRequests: 4,
                            maxConcurrentRequestsPerEndpoint: 3, maxConcurrentRequestsPerClient: 2)
        let one = try #require(IPAddress("192.0.2.1")), two = try #require(IPAddress("192.0.2.2"))
        #expect(gate.enter(endpoint: "a", client: one, limits: limits) == nil)
        #expect(gate.enter(endpoint: "a", client: one, limits: limits) == nil)
        #expect(gate.enter(endpoint: "b", client: one, limits: limits) == .client, "one address holds at most its share")
        #expect(gate.enter(endpoint: "a", client: two, limits: limits) == nil)
        #expect(gate.enter(endpoint: "a", client: nil, limits: limits) == .endpoint, "one endpoint holds at most its share")
        #expect(gate.enter(endpoint: "b", client: nil, limits: limits) == nil)
        #expect(gate.enter(endpoint: "c", client: nil, limits: limits) == .server)
        gate.leave(endpoint: "a", client: one)
        #expect(gate.enter(endpoint: "b", client: one, limits: limits) == nil)
        // Bytes: 30 in all, 15 per endpoint (half, and at least one largest body).
        #expect(gate.hold(bytes: 10, endpoint: "a", limits: limits))
        #expect(!gate.hold(bytes: 10, endpoint: "a", limits: limits))
        #expect(gate.hold(bytes: 5, endpoint: "a", limits: limits))
        #expect(gate.hold(bytes: 15, endpoint: "b", limits: limits))
        #expect(!gate.hold(bytes: 1, endpoint: "c", limits: limits), "the budget is spent")
        gate.release(bytes: 15, endpoint: "a")
        #expect(gate.hold(bytes: 10, endpoint: "c", limits: limits))
        #expect(gate.held.bytes == 25)
    }

    @Test func settingsLoad() throws {
        let config = try loadConfig("""
            hookgateVersion: 1
            trustedProxies: [10.0.0.0/8, "fd00::/8"]
            limits: {maxConcurrentRequests: 16}
            endpoints:
              - source: GitHub
                keyPath: k
                allowFrom: [192.30.252.0/22, 140.82.112.0/20, 2a0a:a440::/29]
                rateLimit: {requests: 60, per: 1m, burst: 10}
              - source: GitLab
                keyPath: k2
            """, files: ["k": "secret", "k2": "other"])
        #expect(config.clientAddresses.trustedProxies.map(\.description) == ["10.0.0.0/8", "fd00::/8"])
        #expect(config.limits.maxConcurrentRequests == 16)
        #expect(config.endpoints[0].allowFrom?.map(\.description) == ["192.30.252.0/22", "140.82.112.0/20", "2a0a:a440::/29"])
        #expect(config.endpoints[0].rateLimit == RateLimit(requests: 60, per: .seconds(60), burst: 10))
        #expect(config.endpoints[1].allowFrom == nil && config.endpoints[1].rateLimit == nil)
        #expect(try loadConfig("hookgateVersion: 1\nendpoints: [{source: GitHub, keyPath: k, rateLimit: {requests: 5}}]", files: ["k": "s"])
            .endpoints[0].rateLimit == RateLimit(requests: 5, per: .seconds(1), burst: 5))
        #expect(try loadConfig("hookgateVersion: 1\nendpoints: [{source: GitHub, keyPath: k}]", files: ["k": "s"]).limits.maxConcurrentRequests
            == Limits.defaultMaxConcurrentRequests)
    }

    @Test func mistakesAreNamedWithTheirLines() {
        let found = problems("""
            hookgateVersion: 1
            trustedProxies: [10.0.0.0/8, ingress.local]
            limits: {maxConcurrentRequests: 0}
            endpoints:
              - source: GitHub
                keyPath: k
                allowFrom: [10.1.2.3/8]
                rateLimit: {per: 0s, burst: 0}
              - source: GitHub
                keyPath: k2
                allowFrom: []
                rateLimit: {requests: 10, per: 1m, brust: 3}
            """, files: ["k": "secret", "k2": "other"])
        let text = found.map { "\($0.line ?? 0): \($0.message) \($0.fix ?? "")" }
        #expect(text.contains { $0.hasPrefix("2: `trustedProxies`: \"ingress.local\" is not an IP address or a CIDR block") }, "\(text)")
        #expect(text.contains { $0.hasPrefix("3: `limits.maxConcurrentRequests` must be 1 or more") }, "\(text)")
        #expect(text.contains { $0.hasPrefix("7: `endpoints[0].allowFrom`: \"10.1.2.3/8\" is not an IP address or a CIDR block with the host bits zero") }, "\(text)")
        #expect(text.contains { $0.hasPrefix("8: `endpoints[0].rateLimit.requests` is missing") }, "\(text)")
        #expect(text.contains { $0.hasPrefix("8: `endpoints[0].rateLimit.per` must be a duration above zero") }, "\(text)")
        #expect(text.contains { $0.hasPrefix("11: `endpoints[1].allowFrom` is empty, so no request would ever be taken") }, "\(text)")
        #expect(text.contains { $0.hasPrefix("12: unknown key `endpoints[1].rateLimit.brust` did you mean `burst`?") }, "\(text)")
    }

    @Test func fluxRecvConfigsHaveNoAdmissionKeys() {
        let found = problems("""
            fluxRecvVersion: 1
            endpoints:
              - source: GitHub
                keyPath: k
                allowFrom: [10.0.0.0/8]
            """, files: ["k": "secret"])
        #expect(found.map(\.message) == ["unknown key `endpoints[0].allowFrom`"])
    }
}

/// Admission on a live server: who may send, how many at once, how often; and clients that trickle.
@Suite(.serialized) struct AdmissionServerTests {
    let push = Fixtures.tagPush

    /// The push as the `n`th of a series: a different body each (trailing spaces), as every push
    /// GitHub sends differs; the same signed body again would be a replay.
    func push(_ n: Int) -> Data { push + Data(repeating: UInt8(ascii: " "), count: n) }

    func metrics(_ client: any TestClientProtocol) async throws -> String {
        try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
    }

    func post(_ client: any TestClientProtocol, _ path: String, headers: HTTPFields = [:], body: Data = Data("{}".utf8)) async throws -> TestResponse {
        try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(bytes: body)) { $0 }
    }

    /// The peer's own address decides without trusted proxies; a refused request is answered 403
    /// before verification (an unsigned request to an allowed endpoint gets 401 instead).
    @Test func allowFromJudgesThePeer() async throws {
        let flux = try await RecordingServer.start()
        defer { Task { await flux.stop() } }
        try await Harness.withServer(downstream: flux, extraYAML: """
              - name: elsewhere
                source: GitHub
                keyPath: a.key
                allowFrom: [10.9.0.0/16, "2001:db8::/32"]
              - name: local
                source: GitHub
                keyPath: b.key
                allowFrom: [127.0.0.1]
            """, files: ["a.key": "key-a", "b.key": "key-b"]) { client, config in
            let refused = try await post(client, config.endpoints[2].path, headers: [HTTPField.Name("X-Forwarded-For")!: "10.9.1.1"])
            #expect(refused.status == .forbidden)
            #expect(String(buffer: refused.body) == "forbidden: this endpoint takes requests only from its allowFrom addresses, and this one came from 127.0.0.1")
            #expect(try await post(client, config.endpoints[3].path).status == .unauthorized)
            #expect(try await metrics(client).contains(#"hookgate_requests_total{endpoint="elsewhere",source="GitHub",outcome="forbidden"} 1"#))
        }
    }

    /// Behind a trusted proxy (here: the test client on 127.0.0.1), the right-most address in
    /// X-Forwarded-For that the proxies did not add is the client.
    @Test func allowFromBehindATrustedProxy() async throws {
        let flux = try await RecordingServer.start()
        defer { Task { await flux.stop() } }
        let key = "proxied-key"
        try await Harness.withServer(downstream: flux, extraYAML: """
              - name: proxied
                source: GitHub
                keyPath: p.key
                delivery: sync
                allowFrom: [203.0.113.0/24]
            """, topYAML: "trustedProxies: [127.0.0.0/8]", files: ["p.key": key]) { client, config in
            let path = config.endpoints[2].path
            var statuses: [HTTPResponse.Status] = []
            for (n, forwardedFor) in ["203.0.113.7", "203.0.113.7, 127.0.0.2", "203.0.113.7, 198.51.100.1", nil, "not-an-address"].enumerated() {
                let body = push(n)
                var headers: HTTPFields = [
                    .contentType: "application/json", HTTPField.Name("X-GitHub-Event")!: "push",
                    HTTPField.Name("X-GitHub-Delivery")!: UUID().uuidString,
                    HTTPField.Name("X-Hub-Signature-256")!: "sha256=" + Python.hmacHex(key: key, body: body)]
                if let forwardedFor { headers[HTTPField.Name("X-Forwarded-For")!] = forwardedFor }
                statuses.append(try await post(client, path, headers: headers, body: body).status)
            }
            // The client itself; behind a second trusted hop; a client that wrote an allowed address
            // first is judged on the address the proxy saw; the proxy itself; garbage.
            #expect(statuses == [.ok, .ok, .forbidden, .forbidden, .forbidden])
            #expect(await flux.requests.count == 2)
        }
    }

    /// `rateLimit` answers 429 with Retry-After once the burst is spent, per endpoint.
    @Test func rateLimitAnswers429WithRetryAfter() async throws {
        let flux = try await RecordingServer.start()
        defer { Task { await flux.stop() } }
        try await Harness.withServer(downstream: flux, extraYAML: """
              - name: limited
                source: GitHub
                keyPath: r.key
                rateLimit: {requests: 2, per: 1m}
            """, files: ["r.key": "key-r"]) { client, config in
            let path = config.endpoints[2].path
            #expect(try await post(client, path).status == .unauthorized)
            #expect(try await post(client, path).status == .unauthorized)
            let limited = try await post(client, path)
            #expect(limited.status == .tooManyRequests)
            let retryAfter = try #require(limited.headers[.retryAfter].flatMap { Int($0) })
            #expect((1...30).contains(retryAfter), "a token comes back every 30 s")
            #expect(String(buffer: limited.body).hasPrefix("too many requests to this endpoint"))
            #expect(try await post(client, config.endpoints[0].path).status == .unauthorized, "other endpoints are not limited")
            #expect(try await metrics(client).contains(#"hookgate_requests_total{endpoint="limited",source="GitHub",outcome="rate_limited"} 1"#))
        }
    }

    /// `limits.maxConcurrentRequests`: while one request waits for a slow downstream, the next is
    /// answered 429 with Retry-After at once; when it is done, requests are taken again.
    @Test func concurrencyLimitAnswers429() async throws {
        let flux = try await RecordingServer.start { _ in .init(delay: .milliseconds(1500)) }
        defer { Task { await flux.stop() } }
        let body = push
        try await Harness.withServer(downstream: flux, limits: "maxConcurrentRequests: 1") { client, config in
            let path = config.endpoints[0].path
            // On a connection of its own: the test client sends its requests one after the other.
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(try #require(client.port))\(path)")
            request.method = .POST
            for field in Harness.githubHeaders(body) { request.headers.add(name: field.name.rawName, value: field.value) }
            request.body = .bytes(ByteBuffer(bytes: body))
            let first = Task { [request] in try await HTTPClient.shared.execute(request, timeout: .seconds(10)).status }
            _ = await flux.waitForRequests(1)
            let turnedAway = try await post(client, path, headers: Harness.githubHeaders(body), body: body)
            #expect(turnedAway.status == .tooManyRequests)
            #expect(turnedAway.headers[.retryAfter] == "1")
            #expect(try await first.value == .ok)
            #expect(try await post(client, path, headers: Harness.githubHeaders(body), body: body).status == .ok)
            #expect(try await metrics(client).contains(#"hookgate_requests_total{endpoint="gh",source="GitHub",outcome="overloaded"} 1"#))
        }
    }

    /// Two clients send one byte per second, one its head, one its body; both are cut off at the
    /// read deadline (4 s here, 30 s by default), and other senders are answered meanwhile.
    @Test func clientsSendingOneBytePerSecondAreCutOff() async throws {
        let flux = try await RecordingServer.start()
        defer { Task { await flux.stop() } }
        let body = push
        // Signed up front: the senders answered meanwhile must not wait for Python on a loaded machine.
        let signed = (0..<5).map { push($0 + 1) }.map { ($0, Harness.githubHeaders($0)) }
        try await Harness.withServer(downstream: flux, requestReadTimeout: .seconds(4)) { client, config in
            let port = try #require(client.port)
            let path = config.endpoints[0].path
            let head = "POST \(path) HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n"
            func trickle(_ fast: String, _ slow: String) -> Task<String, Never> {
                Task {
                    await Python.runInBackground("""
                        import select, socket, sys, time
                        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
                        s.sendall(sys.argv[2].encode())
                        start, sent = time.time(), 0
                        try:
                            for byte in sys.argv[3].encode():
                                if time.time() - start > 12:
                                    print("open", sent, time.time())
                                    sys.exit()
                                s.send(bytes([byte]))
                                sent += 1
                                if select.select([s], [], [], 1)[0]:
                                    data = s.recv(100)
                                    if data:
                                        print("answered", data)
                                    break
                        except OSError:
                            pass
                        print("closed", sent, time.time())
                        """, arguments: [String(port), fast, slow])
                }
            }
            let slowHead = trickle("", head)
            let slowBody = trickle(head, String(decoding: body, as: UTF8.self))
            try await Task.sleep(for: .milliseconds(500))
            var servedBy = Date.distantFuture.timeIntervalSince1970
            for (other, headers) in signed {
                #expect(try await post(client, path, headers: headers, body: other).status == .ok)
                servedBy = min(servedBy, Date().timeIntervalSince1970)
            }
            for slow in [slowHead, slowBody] {
                let words = await slow.value.split(separator: "\n").last?.split(separator: " ") ?? []
                #expect(words.first == "closed", "\(words)")
                let sent = Int(words.dropFirst().first ?? "") ?? 99
                #expect(sent <= 6, "cut off after about 4 s of one byte per second: \(sent) bytes")
                #expect(servedBy < Double(words.last ?? "") ?? 0, "the other senders were answered while the slow one was still connected")
            }
            #expect(await flux.requests.count == 5)
        }
    }
}

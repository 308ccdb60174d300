import AsyncHTTPClient
import Foundation
import HTTPTypes
import HookGate
import HookGateTestSupport
import Logging
import Testing

/// Verifies and parses a request as the server does, for a configured endpoint and a clock.
func deliver(
    to endpoint: Endpoint, headers: [String: String], body: Data, now: Date = Date()
) async throws(HookFailure) -> [HookEvent] {
    let provider = provider(for: endpoint, now: now)
    let request = webhookRequest(headers, body: body)
    try await provider.verify(request)
    return try provider.parse(request)
}

func provider(for endpoint: Endpoint, now: Date = Date()) -> any Provider {
    ProviderFactory.make(for: endpoint, googleKeys: GoogleKeyStore(client: .shared, logger: Logger(label: "test")), now: { now })
}

func webhookRequest(_ headers: [String: String], body: Data) -> WebhookRequest {
    var fields = HTTPFields()
    for (name, value) in headers { fields[HTTPField.Name(name)!] = value }
    return WebhookRequest(headers: fields, body: body)
}

func endpoint(_ source: Source, key: String, registryHost: String? = nil, configure: (inout Endpoint) -> Void = { _ in }) -> Endpoint {
    var endpoint = Endpoint(source: source, keyPaths: ["test.key"], key: EndpointKey(key), registryHost: registryHost, notify: [Action(LogAction())])
    configure(&endpoint)
    return endpoint
}

/// The failure `body` throws: status and message to the sender, reason for the log.
func failure(of body: () async throws(HookFailure) -> [HookEvent]) async -> HookFailure? {
    do {
        _ = try await body()
        return nil
    } catch {
        return error
    }
}

/// `v1,<base64>` over `id.timestamp.body` with a `whsec_` secret, computed by CPython's `hmac`.
func standardSignature(secret: String, id: String, timestamp: String, body: Data) -> String {
    Python.run("""
        import base64, hashlib, hmac, sys
        encoded = sys.argv[1][len("whsec_"):]
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4))
        content = sys.argv[2].encode() + b"." + sys.argv[3].encode() + b"." + sys.stdin.buffer.read()
        sys.stdout.write("v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode())
        """, arguments: [secret, id, timestamp], input: body)
}

/// A `whsec_` secret of `count` bytes made by Python's `secrets`.
func newStandardSecret(_ count: Int = 32) -> String {
    Python.run("import base64, secrets, sys; sys.stdout.write('whsec_' + base64.b64encode(secrets.token_bytes(\(count))).decode())")
}

@Suite struct StandardWebhooksTests {
    /// The published vector (standard-webhooks' Python and JavaScript `sign` tests).
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    static let id = "msg_p5jXN8AQM9LWM0D4loKWxJek"
    static let timestamp = "1614265330"
    static let signature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    static let signedAt = Date(timeIntervalSince1970: 1_614_265_330)
    let body = Fixtures.data("standardwebhooks-testvector.body")

    static func headers(signature: String = signature, id: String = id, timestamp: String = timestamp) -> [String: String] {
        ["webhook-id": id, "webhook-timestamp": timestamp, "webhook-signature": signature]
    }

    func receive(
        key: String = secret, headers: [String: String] = StandardWebhooksTests.headers(), body: Data? = nil,
        now: Date = StandardWebhooksTests.signedAt, tolerance: Duration? = nil
    ) async throws(HookFailure) -> [HookEvent] {
        let endpoint = endpoint(.standardWebhooks, key: key) { if let tolerance { $0.settings = SigningTimestampSettings(tolerance: tolerance, checked: true) } }
        return try await deliver(to: endpoint, headers: headers, body: body ?? self.body, now: now)
    }

    @Test func publishedVector() async throws {
        #expect(try await receive() == [HookEvent(name: "webhook", kind: .trigger)])
    }

    @Test func keyFileWithNewlineAndWithoutPadding() async throws {
        #expect(try await receive(key: Self.secret + "\n").count == 1)
        // GitLab's self-made vector has a padded key; the same key without its `=` works too.
        let padded = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
        let headers = Self.headers(signature: "v1,lVs8o2pUd0IgKBECEjaKlCnl4yYJR6jky2pE1SFHCj4=", id: "f4e2c1a0-0000-4000-8000-000000000001")
        let body = Fixtures.data("gitlab-signing_token-selfmade.body")
        #expect(try await receive(key: padded, headers: headers, body: body).count == 1)
        #expect(try await receive(key: String(padded.dropLast()) + "\r\n", headers: headers, body: body).count == 1)
    }

    @Test func eventNameIsThePayloadsType() async throws {
        let body = Data(#"{"type":"invoice.paid","timestamp":"2024-05-01T10:00:00Z","data":{"id":"in_1"}}"#.utf8)
        let now = Date()
        let timestamp = String(Int(now.timeIntervalSince1970))
        let signature = standardSignature(secret: Self.secret, id: "msg_2", timestamp: timestamp, body: body)
        let events = try await receive(headers: Self.headers(signature: signature, id: "msg_2", timestamp: timestamp), body: body, now: now)
        #expect(events == [HookEvent(name: "invoice.paid", kind: .trigger)])
    }

    @Test(arguments: [
        ("wrong key", "whsec_" + Data(repeating: 7, count: 24).base64EncodedString(), nil as String?, nil as String?, "invalid signature"),
        ("tampered body", StandardWebhooksTests.secret, #"{"test": 2432232315}"#, nil, "invalid signature"),
        ("other webhook-id", StandardWebhooksTests.secret, nil, "msg_p5jXN8AQM9LWM0D4loKWxJel", "invalid signature"),
    ])
    func refusals(_ name: String, _ key: String, _ body: String?, _ id: String?, _ message: String) async {
        let headers = Self.headers(id: id ?? Self.id)
        let found = await failure { () async throws(HookFailure) in try await receive(key: key, headers: headers, body: body.map { Data($0.utf8) }) }
        #expect(found?.status == .unauthorized, "\(name)")
        #expect(found?.message == message, "\(name)")
    }

    @Test func missingHeaders() async {
        for (header, message) in [("webhook-signature", "missing signature"), ("webhook-id", "missing webhook-id or webhook-timestamp"),
                                  ("webhook-timestamp", "missing webhook-id or webhook-timestamp")] {
            var headers = Self.headers()
            headers[header] = nil
            let found = await failure { () async throws(HookFailure) in try await receive(headers: headers) }
            #expect(found?.status == .unauthorized)
            #expect(found?.message == message, "without \(header)")
        }
        let malformed = await failure { () async throws(HookFailure) in try await receive(headers: Self.headers(timestamp: "2021-02-25T15:02:10Z")) }
        #expect(malformed?.message == "malformed webhook-timestamp")
    }

    @Test func timestampToleranceBothWays() async throws {
        #expect(try await receive(now: Self.signedAt.addingTimeInterval(300)).count == 1)
        #expect(try await receive(now: Self.signedAt.addingTimeInterval(-300)).count == 1)
        let late = await failure { () async throws(HookFailure) in try await receive(now: Self.signedAt.addingTimeInterval(432)) }
        #expect(late?.status == .unauthorized)
        #expect(late?.message == "webhook-timestamp is 7 min 12 s in the past, outside the 5 min tolerance")
        #expect(late?.reason.contains("`timestampTolerance`") == true)
        let early = await failure { () async throws(HookFailure) in try await receive(now: Self.signedAt.addingTimeInterval(-3 * 3600)) }
        #expect(early?.message == "webhook-timestamp is 3 h in the future, outside the 5 min tolerance")
        #expect(early?.reason.contains("ahead of this host's clock") == true)
        // A wider tolerance per endpoint.
        #expect(try await receive(now: Self.signedAt.addingTimeInterval(432), tolerance: .seconds(600)).count == 1)
        let old = await failure { () async throws(HookFailure) in try await receive(now: Self.signedAt.addingTimeInterval(30 * 86400), tolerance: .seconds(600)) }
        #expect(old?.message == "webhook-timestamp is 30 days in the past, outside the 10 min tolerance")
    }

    /// Found by fuzzing (Fixtures/fuzz/regressions/standardwebhooks-timestamp-int64-min.txt): the
    /// offset from a signed timestamp near Int64.min overflowed Int when described, and crashed.
    @Test func signedTimestampAtInt64MinIsRefused() async {
        let timestamp = String(Int64.min)
        let signature = standardSignature(secret: Self.secret, id: Self.id, timestamp: timestamp, body: body)
        let refused = await failure { () async throws(HookFailure) in
            try await receive(headers: Self.headers(signature: signature, timestamp: timestamp))
        }
        #expect(refused?.status == .unauthorized)
        #expect(refused?.message == "webhook-timestamp is 106751991185984 days in the past, outside the 5 min tolerance")
    }

    @Test func severalSignaturesInTheHeader() async throws {
        let wrong = "v1," + Data(repeating: 1, count: 32).base64EncodedString()
        for header in ["\(wrong) \(Self.signature)", "\(Self.signature) \(wrong)", "v1a,\(Self.signature.dropFirst(3)) \(Self.signature)", "\(Self.signature) v2,abc", "v1,%%% \(Self.signature)"] {
            #expect(try await receive(headers: Self.headers(signature: header)).count == 1, "\(header)")
        }
        let onlyOthers = await failure { () async throws(HookFailure) in
            try await receive(headers: Self.headers(signature: "v1a,\(Self.signature.dropFirst(3)) v2,\(Self.signature.dropFirst(3))"))
        }
        #expect(onlyOthers?.message == "no v1 signature")
        let allWrong = await failure { () async throws(HookFailure) in try await receive(headers: Self.headers(signature: "\(wrong) \(wrong)")) }
        #expect(allWrong?.message == "invalid signature")
        #expect(allWrong?.reason.contains("none of the 2 v1 signatures") == true)
    }

    /// A rotation: the receiver knows the old and the new secret, the sender signs with either or
    /// both; a third secret is refused.
    @Test func keyRotationList() throws {
        let old = newStandardSecret(24), new = newStandardSecret(32), other = newStandardSecret(64)
        let verifier = StandardWebhookSignature(
            keys: [try #require(StandardWebhookSecret.decode(Array(old.utf8))), try #require(StandardWebhookSecret.decode(Array(new.utf8)))],
            now: { Self.signedAt })
        func signed(_ signatures: [String]) -> WebhookRequest {
            webhookRequest(Self.headers(signature: signatures.joined(separator: " ")), body: body)
        }
        func sign(_ secret: String) -> String { standardSignature(secret: secret, id: Self.id, timestamp: Self.timestamp, body: body) }
        try verifier.verify(signed([sign(old)]))
        try verifier.verify(signed([sign(new)]))
        try verifier.verify(signed([sign(old), sign(new)]))
        try verifier.verify(signed([sign(other), sign(new)]))
        #expect(throws: HookFailure.self) { try verifier.verify(signed([sign(other)])) }
    }

    @Test func deliveryIDIsWebhookID() {
        let provider = provider(for: endpoint(.standardWebhooks, key: Self.secret))
        #expect(provider.deliveryID(of: webhookRequest(Self.headers(), body: body)) == Self.id)
    }
}

@Suite struct GitLabSigningTokenTests {
    /// The self-made vector in `gitlab-signing_token-selfmade.body.sig.txt`.
    static let secret = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    static let id = "f4e2c1a0-0000-4000-8000-000000000001"
    static let signedAt = Date(timeIntervalSince1970: 1_614_265_330)

    func receive(key: String, headers: [String: String], body: Data, now: Date = Date()) async throws(HookFailure) -> [HookEvent] {
        try await deliver(to: endpoint(.gitLab, key: key), headers: headers, body: body, now: now)
    }

    @Test func selfMadeVector() async throws {
        let headers = ["webhook-id": Self.id, "webhook-timestamp": "1614265330", "Idempotency-Key": Self.id,
                       "webhook-signature": "v1,lVs8o2pUd0IgKBECEjaKlCnl4yYJR6jky2pE1SFHCj4=", "X-Gitlab-Event": "Note Hook"]
        let events = try await receive(key: Self.secret, headers: headers, body: Fixtures.data("gitlab-signing_token-selfmade.body"), now: Self.signedAt)
        #expect(events == [HookEvent(name: "Note Hook", kind: .other)])
    }

    /// A signed push parses as today; the delivery id is the Idempotency-Key (= webhook-id).
    @Test func signedPushParsesAsToday() async throws {
        let body = Fixtures.data("gitlab-push_hook.json")
        let now = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
        let timestamp = String(Int(now.timeIntervalSince1970))
        let headers = ["webhook-id": "d-7", "webhook-timestamp": timestamp, "X-Gitlab-Event": "Push Hook",
                       "webhook-signature": standardSignature(secret: Self.secret, id: "d-7", timestamp: timestamp, body: body)]
        let events = try await receive(key: Self.secret, headers: headers, body: body, now: now)
        #expect(fluxBodies(events) == [#"{"Kind":"git","Source":{"URL":"git@example.com:mike/diaspora.git","Branch":"master"}}"#])
        let provider = provider(for: endpoint(.gitLab, key: Self.secret))
        #expect(provider.deliveryID(of: webhookRequest(headers, body: body)) == "d-7")

        let tampered = await failure { () async throws(HookFailure) in
            try await receive(key: Self.secret, headers: headers, body: body + Data(" ".utf8), now: now)
        }
        #expect(tampered?.message == "invalid signature")
        let late = await failure { () async throws(HookFailure) in try await receive(key: Self.secret, headers: headers, body: body, now: now.addingTimeInterval(3600)) }
        #expect(late?.message == "webhook-timestamp is 60 min in the past, outside the 5 min tolerance")
    }

    /// With a signing token as the key, a request with only X-Gitlab-Token is refused, even when the
    /// token is the signing token itself.
    @Test func signingKeyNeverDoublesAsAToken() async {
        let body = Fixtures.data("gitlab-push_hook.json")
        for token in [Self.secret, "af82965fd1338596c801a04059c652d333044768"] {
            let found = await failure { () async throws(HookFailure) in
                try await receive(key: Self.secret, headers: ["X-Gitlab-Token": token, "X-Gitlab-Event": "Push Hook"], body: body)
            }
            #expect(found?.status == .unauthorized)
            #expect(found?.message == "signature required")
        }
        let neither = await failure { () async throws(HookFailure) in try await receive(key: Self.secret, headers: ["X-Gitlab-Event": "Push Hook"], body: body) }
        #expect(neither?.message == "missing signature")
    }

    /// With a secret token as the key, a hook that also signs keeps working through its token; a
    /// signed request without a token cannot be verified.
    @Test func tokenKeyKeepsWorkingWhenGitLabAlsoSigns() async throws {
        let token = "af82965fd1338596c801a04059c652d333044768"
        let body = Fixtures.data("gitlab-push_hook.json")
        let signedHeaders = ["webhook-id": "d-8", "webhook-timestamp": "1614265330", "X-Gitlab-Event": "Push Hook",
                             "webhook-signature": standardSignature(secret: Self.secret, id: "d-8", timestamp: "1614265330", body: body)]
        let events = try await receive(key: token, headers: signedHeaders.merging(["X-Gitlab-Token": token]) { $1 }, body: body)
        #expect(events.count == 1)
        let wrongToken = await failure { () async throws(HookFailure) in
            try await receive(key: token, headers: signedHeaders.merging(["X-Gitlab-Token": "nope"]) { $1 }, body: body)
        }
        #expect(wrongToken?.message == "invalid token")
        let unverifiable = await failure { () async throws(HookFailure) in try await receive(key: token, headers: signedHeaders, body: body) }
        #expect(unverifiable?.message == "cannot verify the signature")
    }
}

@Suite struct GenericHMACTests {
    static let key = "c0ffee5ecret"
    let body = Data(#"{"action":"deploy","ref":"main"}"#.utf8)

    func receive(key: String = key, headers: [String: String], body: Data? = nil, format: SignatureFormat = SignatureFormat()) async throws(HookFailure) -> [HookEvent] {
        try await deliver(to: endpoint(.genericHMAC, key: key) { $0.settings = GenericHMACSettings(format: format) }, headers: headers, body: body ?? self.body)
    }

    @Test func defaultFormatReadsTheAlgorithmFromThePrefix() async throws {
        for algorithm in ["sha1", "sha256", "sha512"] {
            let signature = algorithm + "=" + Python.hmacHex(key: Self.key, body: body, algorithm: algorithm)
            #expect(try await receive(headers: ["X-Signature": signature]) == [HookEvent(name: "trigger", kind: .trigger)])
            #expect(try await receive(headers: ["X-Signature": signature.uppercased()]).count == 1, "hex in either case")
        }
    }

    /// GitHub's published vector, described as a generic format.
    @Test func configuredHeaderAlgorithmAndPrefix() async throws {
        let format = SignatureFormat(header: HTTPField.Name("X-Hub-Signature-256")!, algorithm: .sha256, prefix: "sha256=")
        let headers = ["X-Hub-Signature-256": "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"]
        #expect(try await receive(key: "It's a Secret to Everybody", headers: headers, body: Data("Hello, World!".utf8), format: format).count == 1)
        let unprefixed = await failure { () async throws(HookFailure) in
            try await receive(key: "It's a Secret to Everybody", headers: ["X-Hub-Signature-256": "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"],
                              body: Data("Hello, World!".utf8), format: format)
        }
        #expect(unprefixed?.message == "malformed signature")
        #expect(unprefixed?.reason == "X-Hub-Signature-256 is not `sha256=` followed by a hex digest (HMAC-SHA256)")
    }

    @Test func base64WithoutPrefix() async throws {
        let format = SignatureFormat(header: HTTPField.Name("X-Body-Signature")!, algorithm: .sha512, encoding: .base64)
        let signature = Python.run("""
            import base64, hashlib, hmac, sys
            sys.stdout.write(base64.b64encode(hmac.new(sys.argv[1].encode(), sys.stdin.buffer.read(), hashlib.sha512).digest()).decode())
            """, arguments: [Self.key], input: body)
        #expect(try await receive(headers: ["X-Body-Signature": signature], format: format).count == 1)
        let hex = Python.hmacHex(key: Self.key, body: body, algorithm: "sha512")
        #expect(await failure { () async throws(HookFailure) in try await receive(headers: ["X-Body-Signature": hex], format: format) }?.message == "malformed signature")
    }

    @Test func refusals() async {
        let good = "sha256=" + Python.hmacHex(key: Self.key, body: body)
        let cases: [(String, [String: String], Data?, String)] = [
            ("missing header", [:], nil, "missing signature"),
            ("wrong key", ["X-Signature": "sha256=" + Python.hmacHex(key: "other", body: body)], nil, "invalid signature"),
            ("tampered body", ["X-Signature": good], Data(#"{"action":"deploy","ref":"evil"}"#.utf8), "invalid signature"),
            ("unknown algorithm", ["X-Signature": "md5=" + String(repeating: "0", count: 32)], nil, "malformed signature"),
            ("truncated", ["X-Signature": String(good.dropLast(2))], nil, "malformed signature"),
            ("other header", ["X-Hub-Signature-256": good], nil, "missing signature"),
        ]
        for (name, headers, body, message) in cases {
            let found = await failure { () async throws(HookFailure) in try await receive(headers: headers, body: body) }
            #expect(found?.status == .unauthorized, "\(name)")
            #expect(found?.message == message, "\(name)")
        }
    }

    @Test func keyFileWithFinalNewlineAcceptsBoth() async throws {
        for signingKey in [Self.key, Self.key + "\n"] {
            let signature = "sha256=" + Python.hmacHex(key: signingKey, body: body)
            #expect(try await receive(key: Self.key + "\n", headers: ["X-Signature": signature]).count == 1)
        }
    }
}

@Suite struct GenericTests {
    @Test func anyBodyIsATrigger() async throws {
        for body in [Data(), Data("not json".utf8), Data(#"{"a":1}"#.utf8)] {
            #expect(try await deliver(to: endpoint(.generic, key: "k"), headers: [:], body: body) == [HookEvent(name: "trigger", kind: .trigger)])
        }
    }

    /// The sender's X-Request-Id, if any; without one, hookgate gives each request a fresh id when
    /// it accepts it (ServerTests), so the same body triggers again.
    @Test func deliveryIDs() {
        let provider = provider(for: endpoint(.generic, key: "k"))
        #expect(provider.deliveryID(of: webhookRequest([:], body: Data())) == nil)
        #expect(provider.deliveryID(of: webhookRequest(["X-Request-Id": "job-42"], body: Data())) == "job-42")
        #expect(!provider.signsBody(webhookRequest(["X-Request-Id": "job-42"], body: Data())))
    }
}

@Suite struct ACRTests {
    static let key = "8f3e6d1c0b9a"
    let body = Fixtures.data("acr-push.json")

    func receive(headers: [String: String], body: Data? = nil, token: TokenHeader? = .bearer) async throws(HookFailure) -> [HookEvent] {
        try await deliver(to: endpoint(.acr, key: Self.key) { $0.settings = ACRSettings(token: token) }, headers: headers, body: body ?? self.body)
    }

    @Test func pushIsAnImagePushOnTheRequestsHost() async throws {
        let events = try await receive(headers: ["Authorization": "Bearer \(Self.key)"])
        #expect(fluxBodies(events) == [#"{"Kind":"image","Source":{"Name":{"Domain":"myregistry.azurecr.io","Image":"hello-world"}}}"#])
        guard case .imagePush(let push) = events.first?.kind else { Issue.record("not an image push"); return }
        #expect(push.image == ImageReference(domain: "myregistry.azurecr.io", repository: "hello-world", tag: "v1"))
        #expect(push.digest == "sha256:xxxxd5c8786bb9e621a45ece0dbxxxx1cdc624ad20da9fe62e9d25490f33xxxx")
        #expect(try await receive(headers: ["Authorization": "bearer \(Self.key)"]).count == 1, "the scheme ignores case")
    }

    @Test func tokenRefusals() async {
        for (name, headers, message) in [
            ("missing", [:], "missing token"), ("wrong key", ["Authorization": "Bearer nope"], "invalid token"),
            ("no scheme", ["Authorization": Self.key], "invalid token"), ("basic", ["Authorization": "Basic \(Self.key)"], "invalid token"),
        ] as [(String, [String: String], String)] {
            let found = await failure { () async throws(HookFailure) in try await receive(headers: headers) }
            #expect(found?.status == .unauthorized, "\(name)")
            #expect(found?.message == message, "\(name)")
        }
        let missing = await failure { () async throws(HookFailure) in try await receive(headers: [:]) }
        #expect(missing?.reason.contains("`Authorization: Bearer <key file content>`") == true)
    }

    @Test func customHeaderOrNone() async throws {
        let custom = TokenHeader(header: HTTPField.Name("X-Hook-Token")!, prefix: "")
        #expect(try await receive(headers: ["X-Hook-Token": Self.key], token: custom).count == 1)
        #expect(await failure { () async throws(HookFailure) in try await receive(headers: ["Authorization": "Bearer \(Self.key)"], token: custom) }?.status == .unauthorized)
        #expect(try await receive(headers: [:], token: nil).count == 1, "token: false relies on the URL")
    }

    @Test func pingOtherActionsAndBadPayloads() async throws {
        let auth = ["Authorization": "Bearer \(Self.key)"]
        #expect(try await receive(headers: auth, body: Data(#"{"id":"1","action":"ping"}"#.utf8)) == [HookEvent(name: "ping", kind: .ping)])
        let deleted = Data(String(decoding: body, as: UTF8.self).replacingOccurrences(of: #""action": "push""#, with: #""action": "delete""#).utf8)
        #expect(try await receive(headers: auth, body: deleted) == [HookEvent(name: "delete", kind: .other)])
        #expect(await failure { () async throws(HookFailure) in try await receive(headers: auth, body: Data(#"{"action":"push"}"#.utf8)) }?.status == .badRequest)
        #expect(await failure { () async throws(HookFailure) in try await receive(headers: auth, body: Data("[]".utf8)) }?.status == .badRequest)
        let noHost = try await receive(headers: auth, body: Data(#"{"action":"push","target":{"repository":"team/app","tag":"2"}}"#.utf8))
        #expect(fluxBodies(noHost) == [#"{"Kind":"image","Source":{"Name":{"Domain":"","Image":"team/app"}}}"#])
    }
}

@Suite struct ArtifactoryTests {
    /// JFrog's sample secret.
    static let key = "tell no one"
    let docker = Fixtures.data("jfrog-docker-pushed-envelope.json")

    func receive(headers: [String: String], body: Data? = nil, registryHost: String? = "artifactory.example.com") async throws(HookFailure) -> [HookEvent] {
        try await deliver(to: endpoint(.artifactory, key: Self.key, registryHost: registryHost), headers: headers, body: body ?? docker)
    }

    @Test func dockerPushedWithThePlainSecret() async throws {
        let events = try await receive(headers: ["X-JFrog-Event-Auth": Self.key])
        #expect(fluxBodies(events) == [#"{"Kind":"image","Source":{"Name":{"Domain":"artifactory.example.com","Image":"library/ubuntu"}}}"#])
        guard case .imagePush(let push) = events.first?.kind else { Issue.record("not an image push"); return }
        #expect(push.image.tag == "latest")
        #expect(push.digest == "sha256:35c4a2c15539c6c1e4e5fa4e554dac323ad0107d8eb5c582d6ff386b383b7dce")
        #expect(events.first?.name == "docker pushed")
        let repositoryPath = try await receive(headers: ["X-JFrog-Event-Auth": Self.key], registryHost: "jfrog.example.com/docker-local/")
        #expect(fluxBodies(repositoryPath) == [#"{"Kind":"image","Source":{"Name":{"Domain":"jfrog.example.com","Image":"docker-local/library/ubuntu"}}}"#])
        let bare = try await receive(headers: ["X-JFrog-Event-Auth": Self.key], registryHost: nil)
        #expect(fluxBodies(bare) == [#"{"Kind":"image","Source":{"Name":{"Domain":"","Image":"library/ubuntu"}}}"#])
    }

    @Test func signingModeHexHMAC() async throws {
        let signature = Python.hmacHex(key: Self.key, body: docker)
        #expect(try await receive(headers: ["X-JFrog-Event-Auth": signature]).count == 1)
        let artifact = Fixtures.data("jfrog-artifact-deployed-docs.json")
        // The value in the fixture's .sig.txt, computed there with Python's hmac.
        let events = try await receive(headers: ["X-JFrog-Event-Auth": "7427b7ab51274ef380b287417c4db5b8af85d44329d0926b4905473b97c7f3ef"], body: artifact)
        #expect(events == [HookEvent(name: "artifact deployed", kind: .other)])
    }

    @Test func refusals() async {
        let signature = Python.hmacHex(key: Self.key, body: docker)
        let tampered = Data(String(decoding: docker, as: UTF8.self).replacingOccurrences(of: "library/ubuntu", with: "library/evil").utf8)
        let cases: [(String, [String: String], Data?, String)] = [
            ("missing", [:], nil, "missing X-JFrog-Event-Auth header"),
            ("wrong secret", ["X-JFrog-Event-Auth": "tell every one"], nil, "invalid X-JFrog-Event-Auth"),
            ("signed with another key", ["X-JFrog-Event-Auth": Python.hmacHex(key: "other", body: docker)], nil, "invalid X-JFrog-Event-Auth"),
            ("tampered body", ["X-JFrog-Event-Auth": signature], tampered, "invalid X-JFrog-Event-Auth"),
        ]
        for (name, headers, body, message) in cases {
            let found = await failure { () async throws(HookFailure) in try await receive(headers: headers, body: body) }
            #expect(found?.status == .unauthorized, "\(name)")
            #expect(found?.message == message, "\(name)")
        }
        let unparsable = await failure { () async throws(HookFailure) in
            try await receive(headers: ["X-JFrog-Event-Auth": Self.key], body: Fixtures.data("jfrog-docker-pushed-docs.json"))
        }
        #expect(unparsable?.status == .badRequest, "the data part alone is not a webhook body")
    }
}

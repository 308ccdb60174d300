import AsyncHTTPClient
import Foundation
import HTTPTypes
import HookGate
import HookGateTestSupport
import Logging
import Testing

/// The refusal a provider gives, or nil when the request verifies and parses.
func refusal(
    _ source: Source, key: String, headers: [String: String], body: Data, allowLegacySignature: Bool = false,
    requireSignature: Bool = false, gcr: GoogleAuthSettings? = nil
) async -> HookFailure? {
    do {
        _ = try await receive(source, key: key, headers: headers, body: body, allowLegacySignature: allowLegacySignature,
                              requireSignature: requireSignature, gcr: gcr)
        return nil
    } catch {
        return error
    }
}

/// What `hookgate verify` and the server's log say: the provider's refusal plus the sender hints.
func explanation(_ source: Source, key: String, headers: [String: String], body: Data, notify: [Action] = [Action(LogAction())]) async -> RequestExplanation {
    let endpoint = Endpoint(name: "test", source: source, keyPaths: ["test.key"], key: EndpointKey(key), notify: notify)
    var fields = HTTPFields()
    for (name, value) in headers { fields[HTTPField.Name(name)!] = value }
    return await RequestExplanation.explain(
        WebhookRequest(headers: fields, body: body), endpoint: endpoint, googleKeys: GoogleKeyStore(client: .shared, logger: Logger(label: "test")))
}

/// Every line of a refusal: the log line and the sender's one-line answer.
func everything(_ failure: HookFailure) -> String { failure.reason + "\n" + failure.message }

/// The log never holds the key, the signature hookgate expected, or any 8-digit piece of it.
func expectNoSecrets(_ failure: HookFailure?, key: String, expected: [String], sourceLocation: SourceLocation = #_sourceLocation) {
    guard let failure else { Issue.record("not refused", sourceLocation: sourceLocation); return }
    let text = everything(failure)
    #expect(!text.contains(key), "the key leaked", sourceLocation: sourceLocation)
    for signature in expected {
        for start in stride(from: 0, to: signature.count - 8, by: 4) {
            let piece = signature.dropFirst(start).prefix(8)
            #expect(!text.contains(piece), "a piece of the expected signature leaked", sourceLocation: sourceLocation)
        }
    }
}

@Suite struct DiagnosisTests {
    static let key = "423be8373b98a9ffccc10402cc033e77263e1cdf"
    let body = Fixtures.data("github-push-branch-created-with-installation.json")

    func github(_ body: Data, signedWith signingKey: String = DiagnosisTests.key, over signed: Data? = nil, extra: [String: String] = [:]) -> [String: String] {
        ["X-GitHub-Event": "push", "Content-Type": "application/json",
         "X-Hub-Signature-256": "sha256=" + Python.hmacHex(key: signingKey, body: signed ?? body)].merging(extra) { $1 }
    }

    @Test func wrongSecretSaysHeaderAlgorithmSizeAndKeysButNoSecret() async throws {
        let failure = try #require(await refusal(.gitHub, key: Self.key, headers: github(body, signedWith: "another secret"), body: body))
        #expect(failure.status == .unauthorized)
        #expect(failure.message == "invalid signature")
        #expect(failure.cause == "X-Hub-Signature-256 (HMAC-SHA256) over the \(body.count)-byte body is valid for none of the endpoint's keys (1 key file, 1 candidate)")
        #expect(failure.hints.last?.contains("paste the key file's content into it again") == true)
        #expect(failure.hints.last?.contains("cannot tell a wrong secret from a body re-indented or re-encoded") == true)
        #expect(!failure.hints.contains { $0.contains("secret is right") })
        #expect(failure.reason.hasPrefix(failure.cause + "; "))
        expectNoSecrets(failure, key: Self.key, expected: [Python.hmacHex(key: Self.key, body: body)])
    }

    /// With `keyPaths`, every key file is tried and counted.
    @Test func everyKeyFileIsCounted() async {
        let endpoint = Endpoint(name: "rotating", source: .gitHub, keyPaths: ["old.key", "new.key"],
                                key: EndpointKey(files: [Array("old\n".utf8), Array("new".utf8)]), notify: [Action(LogAction())])
        var fields = HTTPFields()
        for (name, value) in github(body, signedWith: "neither") { fields[HTTPField.Name(name)!] = value }
        let explained = await RequestExplanation.explain(
            WebhookRequest(headers: fields, body: body), endpoint: endpoint, googleKeys: GoogleKeyStore(client: .shared, logger: Logger(label: "test")))
        #expect(explained.verification?.cause.hasSuffix("valid for none of the endpoint's keys (2 key files, 3 candidates: each file as stored, and without its final newline)") == true)
        #expect(explained.report.contains("key files old.key, new.key"))
    }

    @Test func keyFileEndingInANewlineSaysBothWereTried() async throws {
        let failure = try #require(await refusal(.gitHub, key: Self.key + "\n", headers: github(body, signedWith: "another secret"), body: body))
        #expect(failure.cause.hasSuffix("valid for none of the endpoint's keys (1 key file, 2 candidates: each file as stored, and without its final newline)"))
        #expect(failure.hints.contains("the key file ends in a newline; signatures made with and without it were both tried, so that newline is not the cause"))
        let spaced = try #require(await refusal(.gitHub, key: Self.key + " ", headers: github(body, signedWith: "another secret"), body: body))
        #expect(spaced.hints.contains { $0.contains("begins or ends with a space or tab") })
        expectNoSecrets(failure, key: Self.key, expected: [Python.hmacHex(key: Self.key, body: body), Python.hmacHex(key: Self.key + "\n", body: body)])
    }

    @Test(arguments: [
        ("\n", "without its final newline"),
        ("\r\n", "without its final CRLF"),
    ])
    func aNewlineAddedOnTheWay(_ added: String, _ said: String) async throws {
        let received = body + Data(added.utf8)
        let failure = try #require(await refusal(.gitHub, key: Self.key, headers: github(received, over: body), body: received))
        #expect(failure.hints.count == 1)
        #expect(failure.hints[0].hasPrefix("the secret is right: the signature matches the body \(said)"))
        expectNoSecrets(failure, key: Self.key, expected: [Python.hmacHex(key: Self.key, body: received)])
    }

    @Test func aNewlineRemovedOnTheWay() async throws {
        let failure = try #require(await refusal(.gitHub, key: Self.key, headers: github(body, over: body + Data("\n".utf8)), body: body))
        #expect(failure.hints == ["the secret is right: the signature matches the body with a final newline added, so something between the sender and hookgate (a proxy, or the tool that saved the capture) removed it; make it pass the body through unchanged"])
    }

    /// Over 1 MiB the extra HMACs are not spent; the log says so.
    @Test func largeBodiesSkipTheNewlineChecks() async throws {
        let big = Data(repeating: UInt8(ascii: "a"), count: (1 << 20) + 10)
        let received = big + Data("\n".utf8)
        let failure = try #require(await refusal(.gitHub, key: Self.key, headers: github(received, over: big), body: received))
        #expect(!failure.hints.contains { $0.contains("secret is right") })
        #expect(failure.hints.contains { $0.contains("final-newline checks were skipped") })
    }

    @Test func contentTypeCharsetAndEncodingHints() async throws {
        let wrong = "another secret"
        let latin1 = try #require(await refusal(.gitHub, key: Self.key, headers: github(body, signedWith: wrong, extra: ["Content-Type": "application/json; charset=ISO-8859-1"]), body: body))
        #expect(latin1.hints.contains("Content-Type names charset ISO-8859-1, but GitHub sends UTF-8; something in between may have re-encoded the body"))
        let utf8 = try #require(await refusal(.gitHub, key: Self.key, headers: github(body, signedWith: wrong, extra: ["Content-Type": "application/json; charset=utf-8"]), body: body))
        #expect(!utf8.hints.contains { $0.contains("charset") })

        let nexusBody = Fixtures.data("nexus-rm_repository_component-CREATED.json")
        let plain = try #require(await refusal(.nexus, key: Self.key, headers: [
            "X-Nexus-Webhook-Id": "rm:repository:component", "Content-Type": "text/plain",
            "X-Nexus-Webhook-Signature": Python.hmacHex(key: wrong, body: nexusBody, algorithm: "sha1")], body: nexusBody))
        #expect(plain.cause.hasPrefix("X-Nexus-Webhook-Signature (HMAC-SHA1) over the \(nexusBody.count)-byte body"))
        #expect(plain.hints.contains("Content-Type is text/plain, but Nexus sends application/json; something in between changed the content type and may have re-encoded the body with it"))

        let gzip = try #require(await refusal(.gitHub, key: Self.key, headers: github(body, signedWith: wrong, extra: ["Content-Encoding": "gzip"]), body: body))
        #expect(gzip.hints.contains { $0.hasPrefix("the body arrived with Content-Encoding gzip") && $0.contains("turn off compression") })

        var bare = github(body, signedWith: wrong)
        bare["Content-Type"] = nil
        let untyped = try #require(await refusal(.gitHub, key: Self.key, headers: bare, body: body))
        #expect(untyped.hints.contains { $0.hasPrefix("the request has no Content-Type, and GitHub always sends one") })
    }

    /// GitHub signs the form; Gitea signs the JSON inside it. Each endpoint recognises the other's convention.
    @Test func formModeConventionsPointAtTheOtherSource() async throws {
        let json = Fixtures.data("github-push-tag-deleted.json")
        let form = Data(Python.run("import sys, urllib.parse; sys.stdout.write('payload=' + urllib.parse.quote_plus(sys.stdin.read()))", input: json).utf8)
        let formType = "application/x-www-form-urlencoded"

        let githubFailure = try #require(await refusal(.gitHub, key: Self.key, headers: [
            "X-GitHub-Event": "push", "Content-Type": formType, "X-Hub-Signature-256": "sha256=" + Python.hmacHex(key: Self.key, body: json)], body: form))
        #expect(githubFailure.hints == ["the secret is right: the signature matches the JSON inside `payload=`, which is how Gitea, Forgejo and Gogs sign form deliveries; set `source: Gitea`, or send application/json"])

        let giteaFailure = try #require(await refusal(.gitea, key: Self.key, headers: [
            "X-Gitea-Event": "push", "Content-Type": formType, "X-Gitea-Signature": Python.hmacHex(key: Self.key, body: form)], body: form))
        #expect(giteaFailure.cause.contains("over the \(json.count)-byte JSON inside `payload=`"))
        #expect(giteaFailure.hints == ["the secret is right: the signature matches the whole form body, which is how GitHub signs form deliveries, not Gitea; set `source: GitHub`, or send application/json"])

        let wrongSecret = try #require(await refusal(.gitHub, key: Self.key, headers: [
            "X-GitHub-Event": "push", "Content-Type": formType, "X-Hub-Signature-256": "sha256=" + Python.hmacHex(key: "other", body: form)], body: form))
        #expect(wrongSecret.hints.contains { $0.hasPrefix("the webhook sends application/x-www-form-urlencoded: GitHub signs the form exactly as sent") })
    }

    @Test func onlyTheLegacyGitHubHeaderArrived() async throws {
        let legacy = "sha1=" + Python.hmacHex(key: Self.key, body: body, algorithm: "sha1")
        let failure = try #require(await refusal(.gitHub, key: Self.key, headers: ["X-GitHub-Event": "push", "X-Hub-Signature": legacy], body: body))
        #expect(failure.message == "SHA-256 signature required")
        #expect(failure.cause == "only the legacy X-Hub-Signature (sha1) arrived, and this endpoint requires X-Hub-Signature-256")
        #expect(failure.hints.contains { $0.hasPrefix("GitHub sends X-Hub-Signature-256 with every signed delivery") })
        #expect(failure.hints.contains("to accept the legacy header, set `allowLegacySignature: true` on this endpoint"))
    }

    @Test(arguments: [
        ("md5=" + String(repeating: "ab", count: 16), "X-Hub-Signature-256 names the algorithm md5, which hookgate does not accept; expected `sha256=` followed by 64 hex digits"),
        ("sha1=" + String(repeating: "ab", count: 20), "X-Hub-Signature-256 names sha1; this header must carry `sha256=` followed by 64 hex digits"),
        ("sha256=" + String(repeating: "ab", count: 16), "X-Hub-Signature-256 is `sha256=` followed by 32 hex digits; expected `sha256=` followed by 64 hex digits"),
        ("sha256=" + String(repeating: "zy", count: 32), "X-Hub-Signature-256 is `sha256=` followed by 64 characters, not all hex digits; expected `sha256=` followed by 64 hex digits"),
        (String(repeating: "ab", count: 32), "X-Hub-Signature-256 is 64 hex digits; expected `sha256=` followed by 64 hex digits"),
    ])
    func malformedSignaturesAreDescribedNotEchoed(_ header: String, _ cause: String) async throws {
        let failure = try #require(await refusal(.gitHub, key: Self.key, headers: ["X-GitHub-Event": "push", "X-Hub-Signature-256": header], body: body))
        #expect(failure.message == "malformed signature")
        #expect(failure.cause == cause)
        #expect(!everything(failure).contains(header.split(separator: "=").last!))
    }

    @Test func bareHexOfTheWrongLength() async throws {
        let nexusBody = Fixtures.data("nexus-rm_repository_component-CREATED.json")
        let failure = try #require(await refusal(.nexus, key: Self.key, headers: [
            "X-Nexus-Webhook-Id": "rm:repository:component", "X-Nexus-Webhook-Signature": String(repeating: "0", count: 38)], body: nexusBody))
        #expect(failure.cause == "X-Nexus-Webhook-Signature is 38 hex digits; expected 40 hex digits (HMAC-SHA1)")
    }

    @Test func missingHeadersNameWhatDidArrive() async throws {
        let failure = try #require(await refusal(.gitHub, key: Self.key, headers: ["X-GitHub-Event": "push", "X-Gitlab-Token": Self.key, "X-Custom-Signature": "abc"], body: body))
        #expect(failure.message == "missing signature")
        // In the order they arrived; the test's headers come from a dictionary, whose order varies by run.
        let prefix = "no X-Hub-Signature-256 header; signature or token headers that did arrive: "
        #expect(failure.cause.hasPrefix(prefix))
        #expect(Set(failure.cause.dropFirst(prefix.count).components(separatedBy: ", ")) == ["X-Gitlab-Token", "X-Custom-Signature"])
        #expect(failure.hints == ["GitHub signs only when the webhook has a secret: set the webhook's secret to the key file's content"])
        #expect(!everything(failure).contains(Self.key))

        let none = try #require(await refusal(.gitea, key: Self.key, headers: ["X-Gitea-Event": "push"], body: body))
        #expect(none.cause == "no X-Forgejo-Signature, X-Gitea-Signature or X-Gogs-Signature header, and no other signature or token header either")

        let bitbucket = try #require(await refusal(.bitbucketCloud, key: Self.key, headers: ["X-Event-Key": "repo:push"], body: body, requireSignature: true))
        #expect(bitbucket.cause == "no X-Hub-Signature header, and no other signature or token header either")
        #expect(bitbucket.hints.first?.contains("`requireSignature: true`") == true)
    }

    /// The wrong `source:` is the classic mistake; the headers give it away.
    @Test func headersOfAnotherSenderAskWhetherTheSourceIsRight() async {
        let gitlab = await explanation(.gitHub, key: Self.key, headers: ["X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": Self.key], body: body)
        #expect(!gitlab.accepted)
        #expect(gitlab.verification?.hints.contains("the request carries X-Gitlab-Token, which GitLab sends: is `source: GitHub` right for this endpoint?") == true)
        // One hint per sender, not per header.
        #expect(gitlab.verification?.hints.filter { $0.contains("GitLab sends") }.count == 1)

        // Correctly signed for GitHub, but GitLab's event header: parsing fails, and says why.
        let signed = await explanation(.gitHub, key: Self.key, headers: ["X-Gitlab-Event": "Push Hook", "X-Hub-Signature-256": "sha256=" + Python.hmacHex(key: Self.key, body: body)], body: body)
        #expect(signed.verification == nil)
        #expect(signed.parsing?.status == .badRequest)
        #expect(signed.parsing?.hints.contains("the request carries X-Gitlab-Event, which GitLab sends: is `source: GitHub` right for this endpoint?") == true)

        // A GitHub request at a GitHub endpoint gets no such hint; neither does Gitea's GitHub-compatible set at a Gitea endpoint.
        let github = await explanation(.gitHub, key: Self.key, headers: github(body, signedWith: "other"), body: body)
        #expect(github.verification?.hints.contains { $0.contains("is `source:") } == false)
        let gitea = await explanation(.gitea, key: Self.key, headers: ["X-GitHub-Event": "push", "X-Gitea-Event": "push", "X-Hub-Signature-256": "sha256=00"], body: body)
        #expect(gitea.verification?.hints.contains { $0.contains("is `source:") } == false)
    }

    @Test func tokensAndAuthSchemes() async throws {
        let gitlabBody = Fixtures.data("gitlab-push_hook.json")
        let wrong = try #require(await refusal(.gitLab, key: Self.key + "\n", headers: ["X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": "wrong"], body: gitlabBody))
        #expect(wrong.cause == "X-Gitlab-Token matches none of the endpoint's keys (1 key file, 2 candidates: each file as stored, and without its final newline)")
        #expect(wrong.hints.first == "the key file ends in a newline; signatures made with and without it were both tried, so that newline is not the cause")
        #expect(wrong.hints.last?.hasPrefix("otherwise the secret token set in GitLab differs from the key file") == true)
        expectNoSecrets(wrong, key: Self.key, expected: [])

        let harborBody = Fixtures.data("harbor_v2-PUSH_ARTIFACT.json")
        let scheme = try #require(await refusal(.harbor, key: Self.key, headers: ["Authorization": "Secret \(Self.key)"], body: harborBody))
        #expect(scheme.message == "invalid Authorization header")
        #expect(scheme.hints.count == 1)
        #expect(scheme.hints[0].hasPrefix("the secret is right: Authorization matches once its `Secret ` scheme is removed"))
        #expect(!everything(scheme).contains(Self.key))
        let missing = try #require(await refusal(.harbor, key: Self.key, headers: [:], body: harborBody))
        #expect(missing.cause == "no Authorization header, and no other signature or token header either")
    }

    @Test func googleTokensSayWhatToFix() async throws {
        let tokens = GoogleAuthTests.tokens
        let keys = try await RecordingServer.start { _ in .init(body: tokens.jwks) }
        defer { Task { await keys.stop() } }
        let auth = GoogleAuthSettings(audience: "hookgate-test", keysURL: keys.baseURL + "/certs")
        let body = Fixtures.data("gcr-pubsub_push-INSERT.json")
        func refused(_ headers: [String: String]) async -> HookFailure? {
            await refusal(.googleContainerRegistry, key: "gcr", headers: headers, body: body, gcr: auth)
        }
        let expired = try #require(await refused(["Authorization": "Bearer " + tokens.expired]))
        #expect(expired.cause.hasPrefix("the token expired 6") && expired.cause.hasSuffix(" min ago"))
        #expect(expired.hints.first?.contains("a captured request cannot be verified later") == true)
        let audience = try #require(await refused(["Authorization": "Bearer " + tokens.wrongAudience]))
        #expect(audience.hints.first?.hasPrefix("Pub/Sub uses the push endpoint's URL as the audience") == true)
        let basic = try #require(await refused(["Authorization": "Basic abc"]))
        #expect(basic.cause == "Authorization arrived without the `Bearer ` scheme")
        let none = try #require(await refused([:]))
        #expect(none.cause == "no Authorization header, and no other signature or token header either")
        #expect(none.hints.first?.hasPrefix("enable authentication on the Pub/Sub push subscription") == true)
        #expect(!everything(expired).contains(tokens.expired))
    }

    /// Every signing source explains a missing and a wrong signature the same way.
    @Test(arguments: [
        (Source.gitHub, "X-Hub-Signature-256", "sha256=", "sha256", "application/json"),
        (.bitbucketCloud, "X-Hub-Signature", "sha256=", "sha256", "application/json"),
        (.bitbucketServer, "X-Hub-Signature", "sha256=", "sha256", "application/json; charset=UTF-8"),
        (.gitea, "X-Gitea-Signature", "", "sha256", "application/json"),
        (.nexus, "X-Nexus-Webhook-Signature", "", "sha1", "application/json; charset=UTF-8"),
    ])
    func everySigningSourceIsConsistent(_ source: Source, _ header: String, _ prefix: String, _ algorithm: String, _ contentType: String) async throws {
        let events = ["X-GitHub-Event": "push", "X-Event-Key": "repo:push", "X-Gitea-Event": "push", "X-Nexus-Webhook-Id": "rm:repository:component"]
        let headers = events.merging(["Content-Type": contentType, header: prefix + Python.hmacHex(key: "wrong", body: body, algorithm: algorithm)]) { $1 }
        let wrong = try #require(await refusal(source, key: Self.key, headers: headers, body: body))
        #expect(wrong.status == .unauthorized)
        #expect(wrong.message == "invalid signature")
        #expect(wrong.cause.hasPrefix("\(header) (HMAC-\(algorithm.uppercased())) over the \(body.count)-byte body is valid for none of the endpoint's keys"))
        #expect(wrong.hints.last?.hasPrefix("otherwise the secret set in") == true)
        expectNoSecrets(wrong, key: Self.key, expected: [Python.hmacHex(key: Self.key, body: body, algorithm: algorithm)])

        let added = body + Data("\n".utf8)
        let proxied = events.merging(["Content-Type": contentType, header: prefix + Python.hmacHex(key: Self.key, body: body, algorithm: algorithm)]) { $1 }
        let newline = try #require(await refusal(source, key: Self.key, headers: proxied, body: added))
        #expect(newline.hints.first?.hasPrefix("the secret is right: the signature matches the body without its final newline") == true)

        let missing = try #require(await refusal(source, key: Self.key, headers: events.merging(["Content-Type": contentType]) { $1 }, body: body, requireSignature: true))
        #expect(missing.message == "missing signature")
        #expect(missing.cause.hasPrefix("no "))
        #expect(missing.hints.last?.contains("key file's content") == true)
    }
}

import Foundation
import HTTPTypes
import HookGate
import HookGateTestSupport
import Testing

/// `hookgate send`'s samples: each is signed as its source signs (checked with Python's hmac),
/// and each is accepted and parsed by its own provider into the push asked for.
@Suite struct SampleWebhookTests {
    static let key = "c0ffee0123456789abcdef0123456789abcdef01"

    static func endpoint(_ source: Source, key: String = key, registryHost: String? = nil, gcr: GoogleAuthSettings? = nil) -> Endpoint {
        Endpoint(name: "sample", source: source, keyPaths: ["k"], key: EndpointKey(key), registryHost: registryHost, notify: [Action(LogAction())], settings: settings(source, gcr: gcr))
    }

    static func headers(_ sample: SampleWebhook) -> [String: String] {
        var headers: [String: String] = [:]
        for field in sample.headers { headers[field.name.rawName] = field.value }
        return headers
    }

    static func header(_ sample: SampleWebhook, _ name: String) -> String? {
        sample.headers[HTTPField.Name(name)!]
    }

    /// Each HMAC source's header, recomputed by Python over the sample's exact bytes.
    @Test(arguments: [
        (Source.gitHub, "X-Hub-Signature-256", "sha256=", "sha256"),
        (.gitHub, "X-Hub-Signature", "sha1=", "sha1"),
        (.bitbucketCloud, "X-Hub-Signature", "sha256=", "sha256"),
        (.bitbucketServer, "X-Hub-Signature", "sha256=", "sha256"),
        (.gitea, "X-Gitea-Signature", "", "sha256"),
        (.gitea, "X-Hub-Signature-256", "sha256=", "sha256"),
        (.nexus, "X-Nexus-Webhook-Signature", "", "sha1"),
    ])
    func signaturesMatchAnIndependentHMAC(_ source: Source, _ name: String, _ prefix: String, _ algorithm: String) throws {
        let sample = try SampleWebhook.make(for: Self.endpoint(source))
        #expect(Self.header(sample, name) == prefix + Python.hmacHex(key: Self.key, body: sample.body, algorithm: algorithm))
    }

    /// Senders sign with the secret as typed: a key file's final newline is left out.
    @Test func signsWithTheKeyAsTyped() throws {
        let sample = try SampleWebhook.make(for: Self.endpoint(.gitHub, key: Self.key + "\n"))
        #expect(Self.header(sample, "X-Hub-Signature-256") == "sha256=" + Python.hmacHex(key: Self.key, body: sample.body))
        let gitlab = try SampleWebhook.make(for: Self.endpoint(.gitLab, key: Self.key + "\n"))
        #expect(Self.header(gitlab, "X-Gitlab-Token") == Self.key)
        let harbor = try SampleWebhook.make(for: Self.endpoint(.harbor))
        #expect(Self.header(harbor, "Authorization") == Self.key)
    }

    @Test(arguments: [Source.gitHub, .gitLab, .bitbucketCloud, .bitbucketServer, .gitea])
    func gitSamplesAreThePushAskedFor(_ source: Source) async throws {
        for (ref, expected) in [(nil, "refs/heads/main"), ("develop", "refs/heads/develop"), ("refs/tags/v1.2.0", "refs/tags/v1.2.0")] {
            let options = SampleWebhook.Options(ref: ref, repository: "team/app")
            let sample = try SampleWebhook.make(for: Self.endpoint(source), options: options)
            let events = try await receive(source, key: Self.key, headers: Self.headers(sample), body: sample.body)
            #expect(events.count == 1)
            guard case .gitPush(let push) = events.first?.kind else { Issue.record("\(source): not a push"); continue }
            #expect(push.ref == expected, "\(source)")
            #expect(push.fullName == "team/app", "\(source)")
            #expect(sample.summary.contains(expected))
            let again = try SampleWebhook.make(for: Self.endpoint(source), options: SampleWebhook.Options(ref: ref, repository: "team/app"))
            #expect(again.deliveryValue(source) != sample.deliveryValue(source), "each sample is a new delivery")
        }
    }

    @Test func imageSamplesAreThePushAskedFor() async throws {
        let cases: [(Source, String?, String?, String, String)] = [
            (.dockerHub, nil, nil, "", "hookgate/sample"),
            (.quay, "quay.example.com/team/app", nil, "quay.example.com", "team/app"),
            (.quay, nil, nil, "quay.io", "hookgate/sample"),
            (.harbor, "team/app", nil, "harbor.example.com", "team/app"),
            (.nexus, "team/app", "nexus.example.com:8443", "nexus.example.com:8443", "team/app"),
            (.googleContainerRegistry, "us-docker.pkg.dev/proj/repo/app", nil, "us-docker.pkg.dev", "proj/repo/app"),
        ]
        for (source, repository, registryHost, domain, path) in cases {
            let endpoint = Self.endpoint(source, registryHost: registryHost)
            let sample = try SampleWebhook.make(for: endpoint, options: .init(tag: "1.4.2", repository: repository))
            let events = try await receive(source, key: Self.key, headers: Self.headers(sample), body: sample.body, registryHost: registryHost)
            #expect(events.count == 1)
            guard case .imagePush(let push) = events.first?.kind else { Issue.record("\(source): not an image push"); continue }
            #expect(push.image.domain == domain, "\(source)")
            #expect(push.image.repository == path, "\(source)")
            #expect(push.image.tag == "1.4.2", "\(source)")
        }
    }

    @Test func samplesOfTheNewerSourcesVerifyAndParse() async throws {
        // Independent HMACs for the body-signing ones.
        let artifactory = try SampleWebhook.make(for: Self.endpoint(.artifactory, registryHost: "jfrog.example.com"), options: .init(tag: "2.0"))
        #expect(Self.header(artifactory, "X-JFrog-Event-Auth") == Python.hmacHex(key: Self.key, body: artifactory.body))
        let events = try await receive(.artifactory, key: Self.key, headers: Self.headers(artifactory), body: artifactory.body, registryHost: "jfrog.example.com")
        guard case .imagePush(let push) = events.first?.kind else { Issue.record("Artifactory: not an image push"); return }
        #expect(push.image.domain == "jfrog.example.com" && push.image.repository == "hookgate/sample" && push.image.tag == "2.0")

        let generic = try SampleWebhook.make(for: Self.endpoint(.genericHMAC))
        #expect(Self.header(generic, "X-Signature") == "sha256=" + Python.hmacHex(key: Self.key, body: generic.body))
        #expect(try await receive(.genericHMAC, key: Self.key, headers: Self.headers(generic), body: generic.body).map(\.kind) == [.trigger])

        let acr = try SampleWebhook.make(for: Self.endpoint(.acr), options: .init(tag: "v3", repository: "myregistry.azurecr.io/team/app"))
        #expect(Self.header(acr, "Authorization") == "Bearer " + Self.key)
        let acrEvents = try await receive(.acr, key: Self.key, headers: Self.headers(acr), body: acr.body)
        guard case .imagePush(let acrPush) = acrEvents.first?.kind else { Issue.record("ACR: not an image push"); return }
        #expect(acrPush.image.domain == "myregistry.azurecr.io" && acrPush.image.repository == "team/app" && acrPush.image.tag == "v3")

        let plain = try SampleWebhook.make(for: Self.endpoint(.generic))
        #expect(try await receive(.generic, key: Self.key, headers: Self.headers(plain), body: plain.body).map(\.kind) == [.trigger])

        // whsec_ secrets: StandardWebhooks, and GitLab with a signing token (signed, no token header).
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        let standard = try SampleWebhook.make(for: Self.endpoint(.standardWebhooks, key: secret))
        #expect(try await receive(.standardWebhooks, key: secret, headers: Self.headers(standard), body: standard.body).map(\.kind) == [.trigger])
        let signedContent = Data("\(Self.header(standard, "webhook-id")!).\(Self.header(standard, "webhook-timestamp")!).".utf8) + standard.body
        let independent = Python.run(
            "import base64,hashlib,hmac,sys; print('v1,' + base64.b64encode(hmac.new(base64.b64decode(sys.argv[1]), sys.stdin.buffer.read(), hashlib.sha256).digest()).decode())",
            arguments: ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"], input: signedContent)
        #expect(Self.header(standard, "webhook-signature") == independent.trimmingCharacters(in: .whitespacesAndNewlines))
        let gitlab = try SampleWebhook.make(for: Self.endpoint(.gitLab, key: secret))
        #expect(Self.header(gitlab, "X-Gitlab-Token") == nil)
        #expect(try await receive(.gitLab, key: secret, headers: Self.headers(gitlab), body: gitlab.body).count == 1)
    }

    @Test func pingsWhereTheSourceHasOne() async throws {
        for source in [Source.gitHub, .bitbucketServer] {
            let sample = try SampleWebhook.make(for: Self.endpoint(source), options: .init(event: "ping"))
            let events = try await receive(source, key: Self.key, headers: Self.headers(sample), body: sample.body)
            #expect(events.map(\.kind) == [.ping])
        }
    }

    /// What cannot be sent is said, not guessed.
    @Test func whatCannotBeSent() {
        func problem(_ endpoint: Endpoint, _ options: SampleWebhook.Options) -> String? {
            do {
                _ = try SampleWebhook.make(for: endpoint, options: options)
                return nil
            } catch {
                return error.description
            }
        }
        let google = Self.endpoint(.googleContainerRegistry, gcr: GoogleAuthSettings(audience: "https://hooks.example.com"))
        #expect(problem(google, .init())?.contains("signed by Google's private key") == true)
        #expect(problem(Self.endpoint(.gitLab), .init(event: "ping")) == "GitLab samples are push, not ping")
        #expect(problem(Self.endpoint(.gitHub), .init(tag: "v1"))?.contains("give --ref refs/tags/NAME") == true)
        #expect(problem(Self.endpoint(.quay), .init(ref: "main"))?.contains("give --tag, not --ref") == true)
        #expect(problem(Self.endpoint(.dockerHub), .init(repository: "ghcr.io/team/app"))?.contains("namespace/name") == true)
    }
}

extension SampleWebhook {
    /// What makes two samples of a source different deliveries: the delivery header, or the body.
    func deliveryValue(_ source: Source) -> String {
        for name in ["X-GitHub-Delivery", "Idempotency-Key", "X-Request-UUID", "X-Request-Id", "X-Gitea-Delivery"] {
            if let value = headers[HTTPField.Name(name)!] { return value }
        }
        return String(decoding: body, as: UTF8.self)
    }
}

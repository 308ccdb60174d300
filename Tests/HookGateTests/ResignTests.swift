import Foundation
import HTTPTypes
@testable import HookGate
import HookGateTestSupport
import NIOCore
import Testing

/// Re-signing for `forward` backends: each source's headers, made with the backend's key, checked
/// against Python's `hmac`.
struct ResignTests {
    static let key = "backend-key-0123456789"
    static let body = Data(#"{"ref":"refs/heads/main","payload":"<&>"}"#.utf8)

    static func resign(_ source: Source, headers: [(String, String)], settings: (any SourceSettings)? = nil, key: String = ResignTests.key) throws -> ForwardedRequest {
        let kind = SourceKind.of(source)
        let signer = try #require(kind.signer)
        let endpoint = Endpoint(
            source: source, keyPaths: ["k"], key: EndpointKey("endpoint-key"), notify: [Action(LogAction())], settings: settings ?? kind.defaults)
        var request = ForwardedRequest(body: ByteBuffer(bytes: body), query: nil, headers: headers.map { .init(name: $0.0, value: $0.1) })
        signer.sign(&request, Array(key.utf8), endpoint)
        return request
    }

    @Test func gitHubKeepsTheHeadersItHad() throws {
        let modern = try Self.resign(.gitHub, headers: [("X-Hub-Signature-256", "sha256=old")])
        #expect(modern.header("X-Hub-Signature-256") == "sha256=" + Python.hmacHex(key: Self.key, body: Self.body))
        #expect(modern.header("X-Hub-Signature") == nil)
        let both = try Self.resign(.gitHub, headers: [("X-Hub-Signature-256", "sha256=old"), ("X-Hub-Signature", "sha1=old")])
        #expect(both.header("X-Hub-Signature") == "sha1=" + Python.hmacHex(key: Self.key, body: Self.body, algorithm: "sha1"))
        #expect(both.headers.filter { $0.name.lowercased() == "x-hub-signature" }.count == 1)
    }

    @Test func giteaSignsTheJSONDocument() throws {
        let json = try Self.resign(.gitea, headers: [("X-Gitea-Signature", "old"), ("X-Gogs-Signature", "old"), ("X-Hub-Signature-256", "sha256=old")])
        let expected = Python.hmacHex(key: Self.key, body: Self.body)
        #expect(json.header("X-Gitea-Signature") == expected)
        #expect(json.header("X-Gogs-Signature") == expected)
        #expect(json.header("X-Hub-Signature-256") == "sha256=" + expected)
        #expect(json.header("X-Forgejo-Signature") == nil)
    }

    @Test func bitbucketUsesTheAlgorithmTheRequestNamed() throws {
        let server = try Self.resign(.bitbucketServer, headers: [("X-Hub-Signature", "sha256=old")])
        #expect(server.header("X-Hub-Signature") == "sha256=" + Python.hmacHex(key: Self.key, body: Self.body))
        let cloud = try Self.resign(.bitbucketCloud, headers: [("X-Hub-Signature", "sha1=old")])
        #expect(cloud.header("X-Hub-Signature") == "sha1=" + Python.hmacHex(key: Self.key, body: Self.body, algorithm: "sha1"))
    }

    @Test func genericHMACFollowsTheEndpointsFormat() throws {
        let plain = try Self.resign(.genericHMAC, headers: [("X-Signature", "sha512=old")])
        #expect(plain.header("X-Signature") == "sha512=" + Python.hmacHex(key: Self.key, body: Self.body, algorithm: "sha512"))
        let format = SignatureFormat(header: HTTPField.Name("X-Payload-Signature")!, algorithm: .sha256, prefix: "v1=", encoding: .base64)
        let custom = try Self.resign(.genericHMAC, headers: [], settings: GenericHMACSettings(format: format))
        let expected = Python.run("""
            import base64, hmac, hashlib, sys
            sys.stdout.write(base64.b64encode(hmac.new(sys.argv[1].encode(), sys.stdin.buffer.read(), hashlib.sha256).digest()).decode())
            """, arguments: [Self.key], input: Self.body)
        #expect(custom.header("X-Payload-Signature") == "v1=" + expected)
    }

    /// Standard Webhooks (and GitLab with a signing token): signed over id.timestamp.body with the
    /// decoded `whsec_` secret, at the time of sending.
    @Test func standardWebhooksAreSignedNow() throws {
        let secret = "whsec_" + Data("backend-signing-secret".utf8).base64EncodedString()
        let before = Int(Date().timeIntervalSince1970)
        for source in [Source.standardWebhooks, .gitLab] {
            let request = try Self.resign(
                source, headers: [("webhook-id", "msg_1"), ("webhook-timestamp", "1"), ("webhook-signature", "v1,old"), ("X-Gitlab-Token", "endpoint-token")],
                key: secret)
            let timestamp = try #require(request.header("webhook-timestamp").flatMap(Int.init))
            #expect(timestamp >= before)
            let expected = Python.run("""
                import base64, hmac, hashlib, sys
                key = base64.b64decode(sys.argv[1][len("whsec_"):])
                signed = sys.argv[2].encode() + b"." + sys.argv[3].encode() + b"." + sys.stdin.buffer.read()
                sys.stdout.write("v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode())
                """, arguments: [secret, "msg_1", String(timestamp)], input: Self.body)
            #expect(request.header("webhook-signature") == expected)
            if source == .gitLab { #expect(request.header("X-Gitlab-Token") == nil) }
        }
    }

    /// A GitLab backend with a secret token gets its own token, never the endpoint's.
    @Test func gitLabTokensAreReplaced() throws {
        let request = try Self.resign(.gitLab, headers: [("X-Gitlab-Token", "endpoint-token")])
        #expect(request.header("X-Gitlab-Token") == Self.key)
    }

    @Test func sourcesWithoutASharedSecretHaveNoSigner() {
        for source in [Source.generic, .dockerHub, .quay, .googleContainerRegistry] {
            #expect(SourceKind.of(source).signer == nil)
        }
    }
}

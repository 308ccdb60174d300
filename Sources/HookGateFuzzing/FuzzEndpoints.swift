import Foundation
import HTTPTypes
import HookGate

/// The endpoints a source's inputs are run against: each source with the harness's fixed keys,
/// and the settings that change what its provider checks (legacy signatures, required
/// signatures, token headers, signature formats, Pub/Sub authentication).
public enum FuzzEndpoints {
    /// The shared secret of every endpoint but the signing-secret ones (ASCII, as typed into a sender).
    public static let secret = "hookgate-fuzz-secret"
    /// The signing secret of StandardWebhooks endpoints and GitLab signing tokens (standard-webhooks' published test secret).
    public static let signingSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    /// A registry host for Nexus and Artifactory.
    static let registryHost = "registry.example.com"
    /// Pub/Sub authentication whose keys URL has a scheme AsyncHTTPClient refuses before any I/O, so
    /// a well-formed RS256 token reaches the key store and fails there, transiently, offline.
    static let offlineGoogleAuth = GoogleAuthSettings(audience: "hookgate-fuzz", keysURL: "offline://hookgate-fuzz/certs")

    /// Every endpoint variant of `source`.
    public static func variants(of source: Source) -> [Endpoint] {
        let plain = endpoint(source)
        switch source {
        case .gitHub:
            return [plain, endpoint(source) { $0.allowLegacySignature = true }]
        case .gitLab:
            return [plain, endpoint(source, key: signingSecret) { $0.timestampTolerance = .seconds(60) }]
        case .bitbucketCloud:
            return [plain, endpoint(source) { $0.requireSignature = true }]
        case .nexus, .artifactory:
            return [endpoint(source) { $0.registryHost = registryHost }]
        case .googleContainerRegistry:
            return [plain, endpoint(source) { $0.gcr = offlineGoogleAuth }]
        case .acr:
            return [
                plain,
                endpoint(source) { $0.tokenHeader = nil },
                endpoint(source) { $0.tokenHeader = TokenHeader(header: HTTPField.Name("X-Hook-Token")!, prefix: "") },
            ]
        case .standardWebhooks:
            return [endpoint(source, key: signingSecret)]
        case .genericHMAC:
            return [
                plain,
                endpoint(source) {
                    $0.signatureFormat = SignatureFormat(header: HTTPField.Name("X-Payload-Signature")!, algorithm: .sha512, prefix: "v1=", encoding: .base64)
                },
            ]
        case .bitbucketServer, .gitea, .dockerHub, .quay, .harbor, .generic:
            return [plain]
        }
    }

    private static func endpoint(_ source: Source, key: String = secret, configure: (inout Endpoint) -> Void = { _ in }) -> Endpoint {
        var endpoint = Endpoint(source: source, keyPaths: ["fuzz.key"], key: EndpointKey(key), notify: [Action(LogAction())])
        configure(&endpoint)
        return endpoint
    }
}

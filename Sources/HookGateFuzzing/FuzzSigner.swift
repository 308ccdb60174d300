import Crypto
import Foundation
import HTTPTypes
import HookGate

/// Signs a fuzzed request the way its sender would, with the harness's key, so the fuzzer reaches
/// the code after verification. Computed here with swift-crypto from each sender's documented
/// scheme, not with hookgate's own helpers, so a disagreement between the two shows.
enum FuzzSigner {
    /// A request carrying a correct signature or token, and whether verification must accept it.
    struct Signed {
        var request: WebhookRequest
        /// False where the harness cannot know the outcome: a fuzzed timestamp may be outside the
        /// tolerance; Gitea signs the JSON inside a form body, which is not computed here.
        var mustVerify: Bool
    }

    /// Nil for sources that sign nothing (DockerHub, Quay, Generic, ACR without a token) or sign
    /// with Google's private keys (GoogleContainerRegistry). Written from each sender's documented
    /// scheme, apart from the sources' plug-ins on purpose: it is the fuzzer's oracle.
    static func sign(_ request: WebhookRequest, for endpoint: Endpoint) -> Signed? {
        var request = request
        let body = request.body
        switch endpoint.source {
        case .gitHub:
            request.headers[HTTPField.Name("X-Hub-Signature-256")!] = "sha256=" + hex(mac(.sha256, body))
        case .bitbucketCloud, .bitbucketServer:
            request.headers[HTTPField.Name("X-Hub-Signature")!] = "sha256=" + hex(mac(.sha256, body))
        case .gitea:
            for name in ["X-Forgejo-Signature", "X-Gogs-Signature"] { request.headers[HTTPField.Name(name)!] = nil }
            request.headers[HTTPField.Name("X-Gitea-Signature")!] = hex(mac(.sha256, body))
            let json = request.mediaType == nil || request.mediaType == "application/json"
            return Signed(request: request, mustVerify: json)
        case .nexus:
            request.headers[HTTPField.Name("X-Nexus-Webhook-Signature")!] = hex(mac(.sha1, body))
        case .artifactory:
            request.headers[HTTPField.Name("X-JFrog-Event-Auth")!] = hex(mac(.sha256, body))
        case .harbor:
            request.headers[.authorization] = FuzzEndpoints.secret
        case .azureDevOps:
            request.headers[.authorization] = "Basic " + Data("fuzz:\(FuzzEndpoints.secret)".utf8).base64EncodedString()
        case .acr:
            guard let token = endpoint.settings(ACRSettings.self)?.token else { return nil }
            request.headers[token.header] = token.prefix + FuzzEndpoints.secret
        case .gitLab where endpoint.key == EndpointKey(FuzzEndpoints.signingSecret), .standardWebhooks:
            return signStandard(request)
        case .gitLab:
            request.headers[HTTPField.Name("X-Gitlab-Token")!] = FuzzEndpoints.secret
        case .genericHMAC:
            let format = endpoint.settings(GenericHMACSettings.self)?.format ?? SignatureFormat()
            let code = mac(format.algorithm ?? .sha256, body)
            let digest = format.encoding == .hex ? hex(code) : Data(code).base64EncodedString()
            request.headers[format.header] = (format.algorithm == nil ? "sha256=" : format.prefix) + digest
        default:
            // DockerHub, Quay, Generic and GoogleContainerRegistry sign nothing a harness can sign;
            // a source added without a case here is fuzzed unsigned.
            return nil
        }
        return Signed(request: request, mustVerify: true)
    }

    /// Standard Webhooks: `v1,<base64 HMAC-SHA256 of id.timestamp.body>`. A fuzzed `webhook-id` and
    /// `webhook-timestamp` are kept (so odd timestamps reach the time check); missing ones are set
    /// to the harness's delivery id and clock.
    private static func signStandard(_ request: WebhookRequest) -> Signed {
        var request = request
        let idName = HTTPField.Name("webhook-id")!, timestampName = HTTPField.Name("webhook-timestamp")!
        if request.headers[idName]?.isEmpty ?? true { request.headers[idName] = "msg_hookgate_fuzz" }
        let fuzzedTime = !(request.headers[timestampName]?.isEmpty ?? true)
        if !fuzzedTime { request.headers[timestampName] = String(Int(FuzzHarness.now.timeIntervalSince1970)) }
        let content = Data("\(request.headers[idName]!).\(request.headers[timestampName]!).".utf8) + request.body
        let secret = Data(base64Encoded: String(FuzzEndpoints.signingSecret.dropFirst("whsec_".count)))!
        let code = HMAC<SHA256>.authenticationCode(for: content, using: SymmetricKey(data: secret))
        request.headers[HTTPField.Name("webhook-signature")!] = "v1," + Data(code).base64EncodedString()
        return Signed(request: request, mustVerify: !fuzzedTime)
    }

    private static func mac(_ algorithm: SignatureFormat.Algorithm, _ data: Data) -> [UInt8] {
        let key = SymmetricKey(data: Data(FuzzEndpoints.secret.utf8))
        return switch algorithm {
        case .sha1: Array(HMAC<Insecure.SHA1>.authenticationCode(for: data, using: key))
        case .sha256: Array(HMAC<SHA256>.authenticationCode(for: data, using: key))
        case .sha512: Array(HMAC<SHA512>.authenticationCode(for: data, using: key))
        }
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}

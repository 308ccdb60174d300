import Crypto
import Foundation

/// How a source's signature headers are made, so the `forward` action can re-sign a request with
/// a backend's own key (`resign.keyPath`). Each source that signs with a shared secret declares
/// one beside its provider (``SourceKind/signer``); the others cannot be re-signed.
public struct RequestSigner: Sendable {
    /// Replaces the signature headers `request` arrived with by ones made with `key` (the backend's
    /// key file, without a final newline), as the source would have made them; headers the request
    /// did not have stay absent unless the source always sends them.
    let sign: @Sendable (_ request: inout ForwardedRequest, _ key: [UInt8], _ endpoint: Endpoint) -> Void

    init(_ sign: @escaping @Sendable (_ request: inout ForwardedRequest, _ key: [UInt8], _ endpoint: Endpoint) -> Void) {
        self.sign = sign
    }

    /// The HMAC of `data` with `key`, as bytes.
    static func mac(_ algorithm: HMACSignature.Algorithm, key: [UInt8], _ data: Data) -> [UInt8] {
        let key = SymmetricKey(data: key)
        return switch algorithm {
        case .sha1: Array(HMAC<Insecure.SHA1>.authenticationCode(for: data, using: key))
        case .sha256: Array(HMAC<SHA256>.authenticationCode(for: data, using: key))
        case .sha512: Array(HMAC<SHA512>.authenticationCode(for: data, using: key))
        }
    }

    /// `sha256=<hex>` (GitHub's and Bitbucket's form) of `data`.
    static func prefixed(_ algorithm: HMACSignature.Algorithm, key: [UInt8], _ data: Data) -> String {
        algorithm.rawValue + "=" + mac(algorithm, key: key, data).hexString
    }

    /// The algorithm a `sha…=` header names, or `fallback` when it names none hookgate knows.
    static func algorithm(of value: String?, fallback: HMACSignature.Algorithm) -> HMACSignature.Algorithm {
        guard let value, let equals = value.firstIndex(of: "=") else { return fallback }
        return HMACSignature.Algorithm(rawValue: value[..<equals].lowercased()) ?? fallback
    }

    /// GitHub's two headers over the raw body: `X-Hub-Signature-256` always, `X-Hub-Signature`
    /// (with the algorithm it named) only when the request had it.
    static func gitHubHeaders(_ request: inout ForwardedRequest, key: [UInt8], body: Data) {
        request.setHeader("X-Hub-Signature-256", prefixed(.sha256, key: key, body))
        if let legacy = request.header("X-Hub-Signature") {
            request.setHeader("X-Hub-Signature", prefixed(algorithm(of: legacy, fallback: .sha1), key: key, body))
        }
    }

    /// A Standard Webhooks `webhook-signature` for the request's own id and the time of sending
    /// (signed now, a retry hours later is still within the backend's tolerance), with a `whsec_`
    /// key decoded (any other key is used as it is).
    static func standardWebhook(_ request: inout ForwardedRequest, key: [UInt8]) {
        let secret = StandardWebhookSecret.decode(key) ?? key
        let id = request.header("webhook-id") ?? ""
        let timestamp = Int(Date().timeIntervalSince1970)
        request.setHeader("webhook-timestamp", String(timestamp))
        request.setHeader("webhook-signature", StandardWebhookSignature.sign(id: id, timestamp: timestamp, body: request.bodyData, key: secret))
    }
}

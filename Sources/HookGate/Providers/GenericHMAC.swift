import Foundation
import HTTPTypes

/// Any sender that signs the raw body with an HMAC of the shared key in one header, in a format
/// the endpoint describes (`signature:`): by default notification-controller's generic-hmac,
/// `X-Signature: sha256=<hex>` with the algorithm read from the prefix. Each request is one
/// trigger named `trigger`.
struct GenericHMAC: Provider {
    let key: EndpointKey
    let format: SignatureFormat

    var checks: String { "\(format.header.rawName) holds \(format.expected) of the body made with the endpoint's key" }

    func verify(_ request: WebhookRequest) throws(HookFailure) {
        let name = format.header.rawName
        guard let value = request.header(format.header), !value.isEmpty else {
            throw .unauthorized("missing signature", reason: "no \(name) header; the endpoint expects \(format.expected)")
        }
        guard let signature = Self.signature(value, format: format) else {
            throw .unauthorized("malformed signature", reason: "\(name) is not \(format.expected)")
        }
        try signature.check(request.body, header: name, request: request, key: key, source: "GenericHMAC", accepts: [])
    }

    func signsBody(_ request: WebhookRequest) -> Bool { true }

    func parse(_ request: WebhookRequest) -> [HookEvent] {
        [HookEvent(name: Generic.eventName, kind: .trigger)]
    }

    /// The signature a header value holds in `format`; nil when it does not fit.
    static func signature(_ value: String, format: SignatureFormat) -> HMACSignature? {
        let algorithm: HMACSignature.Algorithm
        let digest: Substring
        if let configured = format.algorithm {
            guard value.prefix(format.prefix.count).lowercased() == format.prefix.lowercased() else { return nil }
            algorithm = configured.hmac
            digest = value.dropFirst(format.prefix.count)
        } else {
            guard let equals = value.firstIndex(of: "="), let named = HMACSignature.Algorithm(rawValue: value[..<equals].lowercased()) else { return nil }
            algorithm = named
            digest = value[value.index(after: equals)...]
        }
        let bytes: [UInt8]? =
            switch format.encoding {
            case .hex: [UInt8](hex: digest)
            case .base64: Base64Text.decode(digest)
            }
        return bytes.flatMap { HMACSignature(algorithm: algorithm, mac: $0) }
    }
}

extension SignatureFormat.Algorithm {
    var hmac: HMACSignature.Algorithm {
        switch self {
        case .sha1: .sha1
        case .sha256: .sha256
        case .sha512: .sha512
        }
    }
}

extension SignatureFormat {
    /// What the header should hold, for messages: `sha1=, sha256= or sha512= and a hex digest`.
    var expected: String {
        let digest = encoding == .hex ? "a hex digest" : "a base64 digest"
        guard let algorithm else { return "`sha1=`, `sha256=` or `sha512=` followed by \(digest)" }
        return (prefix.isEmpty ? "" : "`\(prefix)` followed by ") + "\(digest) (HMAC-\(algorithm.rawValue.uppercased()))"
    }
}

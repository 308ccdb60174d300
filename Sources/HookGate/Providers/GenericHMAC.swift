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

extension Source {
    public static let genericHMAC = Source("GenericHMAC")
}

/// What a GenericHMAC endpoint reads besides its key.
public struct GenericHMACSettings: SourceSettings, Equatable {
    /// Where and how the signature is written (`signature`).
    public var format: SignatureFormat

    public init(format: SignatureFormat = SignatureFormat()) {
        self.format = format
    }
}

extension GenericHMAC {
    static let kind = SourceKind(
        .genericHMAC, keys: ["signature"], defaults: GenericHMACSettings(),
        readSettings: { input in
            input.warnIfOnlyFluxAPI()
            guard let object = input.reader.object(input.item["signature"], path: input.item.qualified("signature")) else { return GenericHMACSettings() }
            return readSignatureFormat(object).map { GenericHMACSettings(format: $0) }
        },
        verifiesSender: { _ in true },
        fuzzVariants: [GenericHMACSettings(format: SignatureFormat(header: HTTPField.Name("X-Payload-Signature")!, algorithm: .sha512, prefix: "v1=", encoding: .base64))],
        signer: RequestSigner { request, key, endpoint in
            let format = endpoint.settings(GenericHMACSettings.self)?.format ?? SignatureFormat()
            let body = request.bodyData
            let name = format.header.rawName
            let algorithm = format.algorithm?.hmac ?? RequestSigner.algorithm(of: request.header(name), fallback: .sha256)
            let mac = RequestSigner.mac(algorithm, key: key, body)
            let digest = format.encoding == .hex ? mac.hexString : Data(mac).base64EncodedString()
            request.setHeader(name, (format.algorithm == nil ? algorithm.rawValue + "=" : format.prefix) + digest)
        },
        sample: GenericHMAC.sample(_:for:),
        makeProvider: { endpoint, _ in GenericHMAC(key: endpoint.key, format: endpoint.settings(GenericHMACSettings.self)?.format ?? SignatureFormat()) })

    private static func readSignatureFormat(_ object: YAMLObject) -> SignatureFormat? {
        let reader = object.reader
        object.rejectUnknownKeys(["header", "algorithm", "prefix", "encoding"])
        var format = SignatureFormat()
        var ok = true
        if let header = object.string("header") {
            if let name = HTTPField.Name(header) { format.header = name } else {
                reader.problem("`\(object.qualified("header"))`: \"\(header)\" is not a header name", at: object["header"])
                ok = false
            }
        }
        if let algorithm = object.string("algorithm") {
            if let parsed = SignatureFormat.Algorithm(rawValue: algorithm.lowercased()) { format.algorithm = parsed } else {
                reader.problem("`\(object.qualified("algorithm"))` must be sha1, sha256 or sha512, not \"\(algorithm)\"", at: object["algorithm"],
                    fix: "or leave it out to read the algorithm from a `sha256=` style prefix of the header")
                ok = false
            }
        }
        if let encoding = object.string("encoding") {
            if let parsed = SignatureFormat.Encoding(rawValue: encoding.lowercased()) { format.encoding = parsed } else {
                reader.problem("`\(object.qualified("encoding"))` must be hex or base64, not \"\(encoding)\"", at: object["encoding"])
                ok = false
            }
        }
        if let prefix = object.string("prefix") {
            if object["algorithm"] == nil {
                reader.problem("`\(object.qualified("prefix"))` needs `algorithm`: without one, the header must start with `sha1=`, `sha256=` or `sha512=`, which names it",
                    at: object["prefix"], fix: "add `algorithm`, or remove `prefix`")
                ok = false
            } else if !prefix.allSatisfy(\.isASCII) {
                reader.problem("`\(object.qualified("prefix"))` must be ASCII text, as header values are", at: object["prefix"])
                ok = false
            }
            format.prefix = prefix
        }
        return ok ? format : nil
    }
}

import Crypto
import Foundation

/// A hex HMAC signature as senders put it in a header, with the algorithm it names.
struct HMACSignature {
    enum Algorithm: String, CaseIterable {
        case sha1, sha256, sha512
    }

    var algorithm: Algorithm
    var mac: [UInt8]

    /// Parses `sha256=<hex>` (the prefix names the algorithm, as go-github reads it).
    /// Returns nil when the prefix is unknown or the digest is not hex of the right length.
    init?(prefixed header: String) {
        guard let equals = header.utf8.firstIndex(of: UInt8(ascii: "=")) else { return nil }
        let name = header[..<equals]
        guard let algorithm = Algorithm(rawValue: String(name)) ?? Algorithm(rawValue: name.lowercased()) else { return nil }
        self.init(algorithm: algorithm, hex: header[header.utf8.index(after: equals)...])
    }

    /// Parses a bare hex digest made with a known algorithm.
    init?(algorithm: Algorithm, hex: some StringProtocol) {
        guard let bytes = [UInt8](hex: hex) else { return nil }
        self.init(algorithm: algorithm, mac: bytes)
    }

    /// A digest already decoded (from hex or base64); nil when its length does not fit the algorithm.
    init?(algorithm: Algorithm, mac: [UInt8]) {
        guard mac.count == algorithm.macLength else { return nil }
        self.algorithm = algorithm
        self.mac = mac
    }

    /// True when the signature was made over `body` with any of the endpoint's keys.
    /// Every comparison runs in constant time.
    func isValid(for body: Data, key: EndpointKey) -> Bool {
        guard algorithm == .sha256 else { return isValid(for: body, keys: key.candidates) }
        var valid = false
        for prepared in key.sha256MACs {
            var authenticator = prepared
            authenticator.update(data: body)
            valid = (authenticator.finalize() == mac) || valid
        }
        return valid
    }

    /// True when the signature was made over `body` with any of `keys`, each compared in constant time.
    func isValid(for body: Data, keys: [SymmetricKey]) -> Bool {
        var valid = false
        for key in keys {
            let match =
                switch algorithm {
                case .sha1: HMAC<Insecure.SHA1>.isValidAuthenticationCode(mac, authenticating: body, using: key)
                case .sha256: HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: body, using: key)
                case .sha512: HMAC<SHA512>.isValidAuthenticationCode(mac, authenticating: body, using: key)
                }
            valid = valid || match
        }
        return valid
    }

    /// Parses a `sha…=<hex>` header whose prefix must name one of `algorithms`; a refusal says what
    /// arrived instead (the algorithm named, how many digits), never the digits.
    static func parse(prefixed value: String, header: String, accepting algorithms: [Algorithm] = Algorithm.allCases) throws(HookFailure) -> HMACSignature {
        if let signature = HMACSignature(prefixed: value), algorithms.contains(signature.algorithm) { return signature }
        let expected = algorithms.count == 1
            ? "`\(algorithms[0].rawValue)=` followed by \(algorithms[0].macLength * 2) hex digits"
            : "`sha1=`, `sha256=` or `sha512=` followed by a hex digest of the right length"
        if let equals = value.firstIndex(of: "=") {
            let named = value[..<equals].lowercased()
            guard let algorithm = Algorithm(rawValue: named) else {
                throw .unauthorized("malformed signature", reason: "\(header) names the algorithm \(Diagnosis.printable(named)), which hookgate does not accept; expected \(expected)",
                                    hints: ["a sender of another kind, or a proxy that rewrites the header, would do this"])
            }
            guard algorithms.contains(algorithm) else {
                throw .unauthorized("malformed signature", reason: "\(header) names \(algorithm.rawValue); this header must carry \(expected)")
            }
        }
        throw Diagnosis.malformed(header: header, value: value, expected: expected)
    }

    /// Parses a bare hex digest made with a known algorithm (Gitea, Nexus).
    static func parse(hex value: String, algorithm: Algorithm, header: String) throws(HookFailure) -> HMACSignature {
        guard let signature = HMACSignature(algorithm: algorithm, hex: value) else {
            throw Diagnosis.malformed(header: header, value: value, expected: "\(algorithm.macLength * 2) hex digits (HMAC-\(algorithm.rawValue.uppercased()))")
        }
        return signature
    }

    /// Verifies a `sha…=<hex>` header over the raw body, with failures phrased for the operator.
    static func verify(prefixed value: String?, header: String, request: WebhookRequest, key: EndpointKey, source: String, fix: String) throws(HookFailure) {
        guard let value, !value.isEmpty else {
            throw Diagnosis.missingHeader([header], source: source, request: request, message: "missing signature", fix: fix)
        }
        try parse(prefixed: value, header: header).check(request.body, header: header, request: request, key: key, source: source)
    }

    /// Checks the signature over `signed` with every candidate key; a mismatch is explained by
    /// ``Diagnosis/signatureMismatch(header:algorithm:signed:signedName:key:request:source:accepts:alternatives:notes:verifies:)``.
    func check(
        _ signed: Data, signedName: String = "body", header: String, request: WebhookRequest, key: EndpointKey, source: String,
        accepts: [String] = ["application/json"], alternatives: [Diagnosis.Alternative] = [], notes: [String] = []
    ) throws(HookFailure) {
        guard !isValid(for: signed, key: key) else { return }
        throw Diagnosis.signatureMismatch(
            header: header, algorithm: "HMAC-" + algorithm.rawValue.uppercased(), signed: signed, signedName: signedName, key: key,
            request: request, source: source, accepts: accepts, alternatives: alternatives, notes: notes,
            verifies: { isValid(for: $0, key: key) })
    }
}

extension HMACSignature.Algorithm {
    var macLength: Int {
        switch self {
        case .sha1: 20
        case .sha256: 32
        case .sha512: 64
        }
    }
}

/// Compares a token a sender put in a header with the endpoint's key, in constant time: both sides
/// are MACed with a per-process random key and the MACs compared, so neither length nor content leaks.
enum TokenCheck {
    private static let comparisonKey = SymmetricKey(size: .bits256)

    static func matches(_ token: String, key: EndpointKey) -> Bool {
        matches(token, candidates: key.candidateBytes)
    }

    /// Compares with some of an endpoint's keys (GitLab's tokens, when signing secrets sit beside them).
    static func matches(_ token: String, candidates: [[UInt8]]) -> Bool {
        let received = HMAC<SHA256>.authenticationCode(for: Array(token.utf8), using: comparisonKey)
        var valid = false
        for candidate in candidates {
            valid = HMAC<SHA256>.isValidAuthenticationCode(received, authenticating: candidate, using: comparisonKey) || valid
        }
        return valid
    }
}

extension Array where Element == UInt8 {
    /// Bytes from hex text (either case); nil when the text is not hex.
    init?(hex: some StringProtocol) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hex.utf8.count / 2)
        var high: UInt8?
        for char in hex.utf8 {
            guard let value = hexValue(char) else { return nil }
            if let first = high {
                bytes.append(first << 4 | value)
                high = nil
            } else {
                high = value
            }
        }
        guard high == nil else { return nil }
        self = bytes
    }
}

private func hexValue(_ char: UInt8) -> UInt8? {
    switch char {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): char - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): char - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): char - UInt8(ascii: "A") + 10
    default: nil
    }
}

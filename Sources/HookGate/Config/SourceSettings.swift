import HTTPTypes

/// How a GenericHMAC sender writes its signature (`signature:` of the endpoint).
public struct SignatureFormat: Sendable, Equatable {
    public enum Algorithm: String, Sendable, CaseIterable {
        case sha1, sha256, sha512
    }

    public enum Encoding: String, Sendable, CaseIterable {
        case hex, base64
    }

    /// notification-controller's generic-hmac header.
    public static let defaultHeader = HTTPField.Name("X-Signature")!

    /// The header holding the signature.
    public var header: HTTPField.Name
    /// The HMAC's hash; nil reads it from a `sha1=`/`sha256=`/`sha512=` prefix of the value.
    public var algorithm: Algorithm?
    /// Text before the digest (`sha256=`), when `algorithm` is given; matched ignoring case.
    public var prefix: String
    public var encoding: Encoding

    public init(header: HTTPField.Name = SignatureFormat.defaultHeader, algorithm: Algorithm? = nil, prefix: String = "", encoding: Encoding = .hex) {
        self.header = header
        self.algorithm = algorithm
        self.prefix = prefix
        self.encoding = encoding
    }
}

/// Where a sender without a signature (ACR) puts the endpoint's key as a token (`token:`).
public struct TokenHeader: Sendable, Equatable {
    /// The header holding the token.
    public var header: HTTPField.Name
    /// Text before the key (`Bearer `), matched ignoring case.
    public var prefix: String

    /// `Authorization: Bearer <key>`, what ACR's custom headers carry most naturally.
    public static let bearer = TokenHeader(header: .authorization, prefix: "Bearer ")

    public init(header: HTTPField.Name, prefix: String) {
        self.header = header
        self.prefix = prefix
    }
}

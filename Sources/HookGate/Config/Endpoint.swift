import Crypto

/// One configured webhook endpoint, resolved: its key read, its URL computed.
public struct Endpoint: Sendable {
    /// A short label for logs and metrics: `name` from the config, or the source and the first
    /// 8 hex digits of the fingerprint. Never the key, never the whole URL.
    public var name: String
    public var source: Source
    /// The key files, resolved against the config file's folder; a signature made with any verifies.
    public var keyPaths: [String]
    public var key: EndpointKey
    /// For Nexus and Artifactory: the registry host its images live on. For every source part of
    /// the fingerprint (flux-recv's URL), so it stays here rather than in ``settings``.
    public var registryHost: String?
    /// Lowercase hex SHA-256 of the first key file's bytes as stored followed by `registryHost`.
    public var fingerprint: String
    /// The URL segment the config sets (`id:`); nil: the fingerprint, as flux-recv had it.
    public var id: String?
    /// What only this endpoint's source reads (``SourceKind``): GitHub's `allowLegacySignature`,
    /// GoogleContainerRegistry's `gcr` …
    public var settings: any SourceSettings
    public var notify: [Action]
    /// Queue notifications (the default) or deliver them before answering.
    public var delivery: DeliveryMode
    /// Line of the endpoint in the config file.
    public var line: Int?
    /// The address blocks requests are taken from (`allowFrom`); nil: any.
    public var allowFrom: [AddressRange]?
    /// How many requests the endpoint takes (`rateLimit`); nil: no limit but the server's.
    public var rateLimit: RateLimit?
    /// Its git host's API, and the hooks kept and deliveries recovered through it (`gitAPI`,
    /// `register`, `recover`); nil: none.
    public var gitHost: GitHostSettings?

    /// The last segment of the endpoint's URL: `id`, else the key's fingerprint.
    public var urlSegment: String { id ?? fingerprint }

    /// The URL path a sender posts to.
    public var path: String { "/hook/" + urlSegment }

    public init(
        name: String? = nil, id: String? = nil, source: Source, keyPaths: [String], key: EndpointKey, registryHost: String? = nil,
        notify: [Action], delivery: DeliveryMode = .queued, line: Int? = nil, settings: (any SourceSettings)? = nil
    ) {
        let fingerprint = Endpoint.fingerprint(key: key, registryHost: registryHost)
        self.name = name ?? "\(source.rawValue.lowercased())-\((id ?? fingerprint).prefix(8))"
        self.id = id
        self.source = source
        self.keyPaths = keyPaths
        self.key = key
        self.registryHost = registryHost
        self.fingerprint = fingerprint
        self.settings = settings ?? SourceKind.of(source).defaults
        self.notify = notify
        self.delivery = delivery
        self.line = line
    }

    /// This endpoint's settings as its source's type, or that type's defaults.
    public func settings<Settings: SourceSettings>(_ type: Settings.Type) -> Settings? {
        settings as? Settings
    }

    /// flux-recv's URL segment: SHA-256 over the (first) key file's bytes as stored, then `registryHost`.
    public static func fingerprint(key: EndpointKey, registryHost: String?) -> String {
        var hash = SHA256()
        hash.update(data: key.stored)
        hash.update(data: Array((registryHost ?? "").utf8))
        return hash.finalize().hexString
    }
}

extension Endpoint: Equatable {
    public static func == (left: Endpoint, right: Endpoint) -> Bool {
        left.name == right.name && left.source == right.source && left.keyPaths == right.keyPaths && left.key == right.key
            && left.registryHost == right.registryHost && left.id == right.id && left.settings.isEqual(to: right.settings)
            && left.notify == right.notify && left.delivery == right.delivery && left.line == right.line
            && left.allowFrom == right.allowFrom && left.rateLimit == right.rateLimit && left.gitHost == right.gitHost
    }
}

/// Pub/Sub push authentication for GoogleContainerRegistry endpoints.
public struct GoogleAuthSettings: Sendable, Equatable {
    /// The `aud` claim the token must carry (the push subscription's audience).
    public var audience: String
    /// The service account the token must be issued to, when set.
    public var email: String?
    /// Where Google's signing keys (JWKS) are fetched from.
    public var keysURL: String

    public static let defaultKeysURL = "https://www.googleapis.com/oauth2/v3/certs"

    public init(audience: String, email: String? = nil, keysURL: String = GoogleAuthSettings.defaultKeysURL) {
        self.audience = audience
        self.email = email
        self.keysURL = keysURL
    }
}

/// The shared secrets read from an endpoint's key files. Its description never shows the bytes.
public struct EndpointKey: Sendable, Equatable, CustomStringConvertible {
    /// Each key file's bytes exactly as stored; the first one makes the fingerprint.
    let files: [[UInt8]]
    /// The keys a signature may have been made with: each file as stored, and without a final newline.
    public let candidates: [SymmetricKey]
    /// The candidates as byte strings, for token comparisons.
    let candidateBytes: [[UInt8]]
    /// HMAC-SHA256 keyed with each candidate, ready to take a body: most signatures are
    /// HMAC-SHA256, and keying one costs two blocks of SHA-256 and allocations per request.
    let sha256MACs: [HMAC<SHA256>]

    /// - Parameter files: the contents of each key file, in the config's order; at least one.
    public init(files: [[UInt8]]) {
        precondition(!files.isEmpty, "an endpoint has at least one key file")
        self.files = files
        var variants: [[UInt8]] = []
        for bytes in files {
            variants.append(bytes)
            if bytes.last == UInt8(ascii: "\n") { variants.append(Self.droppingFinalNewline(bytes)) }
        }
        candidateBytes = variants
        candidates = variants.map { SymmetricKey(data: $0) }
        sha256MACs = candidates.map { HMAC<SHA256>(key: $0) }
    }

    public init(_ bytes: [UInt8]) {
        self.init(files: [bytes])
    }

    public init(_ text: String) {
        self.init(Array(text.utf8))
    }

    /// `bytes` without a final `\n` or `\r\n`.
    static func droppingFinalNewline(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.last == UInt8(ascii: "\n") else { return bytes }
        var trimmed = bytes.dropLast()
        if trimmed.last == UInt8(ascii: "\r") { trimmed = trimmed.dropLast() }
        return Array(trimmed)
    }

    /// The first key file's bytes without a final newline: the secret as the provider has it.
    var withoutFinalNewline: [UInt8] { Self.droppingFinalNewline(files[0]) }

    /// The first key file's bytes as stored (the fingerprint's input).
    public var stored: [UInt8] { files[0] }

    /// How many key files the endpoint has.
    public var fileCount: Int { files.count }

    /// True when a key file ends in a newline, a classic cause of "signature invalid".
    public var endsWithNewline: Bool { candidateBytes.count > files.count }

    public static func == (lhs: EndpointKey, rhs: EndpointKey) -> Bool { lhs.files == rhs.files }

    public var description: String { "<redacted key, \(files.count) file\(files.count == 1 ? "" : "s")>" }
}

extension Sequence where Element == UInt8 {
    /// Lowercase hexadecimal.
    var hexString: String {
        var text = ""
        for byte in self {
            text.append(Character(Unicode.Scalar(hexDigits[Int(byte >> 4)])))
            text.append(Character(Unicode.Scalar(hexDigits[Int(byte & 0x0f)])))
        }
        return text
    }
}

private let hexDigits = Array("0123456789abcdef".utf8)

extension Digest {
    var hexString: String { Array(self).hexString }
}

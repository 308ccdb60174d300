import Crypto
import Foundation
import HTTPTypes

/// A realistic, correctly signed webhook of an endpoint's source, for `hookgate send`: the
/// "check that it works" step without a real push.
///
/// Each source builds its sample in `Samples/<Source>+Sample.swift`, shaped like its real payloads
/// (the fixtures) and signed the way it signs (HMAC header, token header …) with the endpoint's key.
///
/// ```swift
/// let sample = try SampleWebhook.make(for: endpoint, options: .init(ref: "refs/heads/main"))
/// // POST sample.body with sample.headers to the endpoint's URL
/// ```
public struct SampleWebhook: Sendable {
    public var headers: HTTPFields
    /// The body exactly as signed.
    public var body: Data
    /// What the sample stands for, for the user (`GitHub push of refs/heads/main in hookgate/sample`).
    public var summary: String

    public init(headers: HTTPFields, body: Data, summary: String) {
        self.headers = headers
        self.body = body
        self.summary = summary
    }

    /// What the sample is about; nil fields take the source's defaults.
    public struct Options: Sendable {
        /// `push` (every source) or `ping` (sources that have one).
        public var event: String
        /// Git sources: the ref pushed; a bare name is a branch. Default `refs/heads/main`.
        public var ref: String?
        /// Registry sources: the tag pushed. Default `latest`.
        public var tag: String?
        /// The repository (`owner/name`) or image (`[host/]path`). Default `hookgate/sample`.
        public var repository: String?
        /// The delivery id the sample carries; fresh for each sample, so none is a duplicate.
        public var deliveryID: String
        public var date: Date

        public init(
            event: String = "push", ref: String? = nil, tag: String? = nil, repository: String? = nil,
            deliveryID: String = UUID().uuidString.lowercased(), date: Date = Date()
        ) {
            self.event = event
            self.ref = ref
            self.tag = tag
            self.repository = repository
            self.deliveryID = deliveryID
            self.date = date
        }
    }

    /// Why no sample can be made: the event or option does not fit the source, or the source's
    /// signature needs a key hookgate does not have.
    public struct Problem: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// The sample for `endpoint`, made by its source's plug-in (``SourceKind``).
    public static func make(for endpoint: Endpoint, options: Options = Options()) throws(Problem) -> SampleWebhook {
        try SourceKind.of(endpoint.source).sample(options, endpoint)
    }

    /// The default repository or image path of every sample.
    static let defaultRepository = "hookgate/sample"

    /// The key a sender signs with: the secret as a person types it, so the first candidate
    /// without a final newline (any candidate verifies).
    static func signingKey(_ key: EndpointKey) -> [UInt8] {
        key.candidateBytes.first { $0.last != UInt8(ascii: "\n") } ?? key.candidateBytes[0]
    }

    /// Lowercase hex HMAC of `data` with the endpoint's key, as senders put it in a header.
    static func hmacHex(_ data: Data, key: EndpointKey, algorithm: HMACSignature.Algorithm) -> String {
        let secret = SymmetricKey(data: signingKey(key))
        return switch algorithm {
        case .sha1: Array(HMAC<Insecure.SHA1>.authenticationCode(for: data, using: secret)).hexString
        case .sha256: Array(HMAC<SHA256>.authenticationCode(for: data, using: secret)).hexString
        case .sha512: Array(HMAC<SHA512>.authenticationCode(for: data, using: secret)).hexString
        }
    }

    /// Standard Webhooks headers for `body`, signed with the endpoint's first `whsec_` secret
    /// (StandardWebhooks, GitLab signing tokens); nil when the endpoint has none.
    static func standardWebhookHeaders(_ body: Data, key: EndpointKey, options: Options) -> HTTPFields? {
        guard let secret = StandardWebhookSecret.keys(in: key).first else { return nil }
        return [
            StandardWebhookSignature.id: options.deliveryID,
            StandardWebhookSignature.timestamp: String(options.unixTime),
            StandardWebhookSignature.signature: StandardWebhookSignature.sign(id: options.deliveryID, timestamp: options.unixTime, body: body, key: secret),
        ]
    }

    /// The endpoint's key as a header value (GitLab's token, Harbor's Auth Header).
    static func token(_ key: EndpointKey) -> String {
        String(decoding: signingKey(key), as: UTF8.self)
    }

    /// The User-Agent of every sample, so the operator's logs show where it came from.
    static let userAgent = "hookgate-send/\(HookGateVersion.current)"
}

extension SampleWebhook.Options {
    /// The event, when the source can send it.
    func event(among supported: [String], source: Source) throws(SampleWebhook.Problem) -> String {
        guard supported.contains(event) else {
            throw SampleWebhook.Problem(description: "\(source.rawValue) samples are \(supported.joined(separator: " or ")), not \(event)")
        }
        return event
    }

    /// The full ref of a git push; a tag given for a git source is a mistake worth naming.
    func gitRef(source: Source) throws(SampleWebhook.Problem) -> String {
        guard tag == nil else {
            throw SampleWebhook.Problem(description: "\(source.rawValue) sends git pushes: give --ref refs/tags/NAME for a tag, not --tag")
        }
        guard let ref, !ref.isEmpty else { return "refs/heads/main" }
        return ref.hasPrefix("refs/") ? ref : "refs/heads/" + ref
    }

    /// The tag of an image push; a git ref given for a registry source is a mistake worth naming.
    func imageTag(source: Source) throws(SampleWebhook.Problem) -> String {
        guard ref == nil else {
            throw SampleWebhook.Problem(description: "\(source.rawValue) sends image pushes: give --tag, not --ref")
        }
        return tag ?? "latest"
    }

    /// `owner/name` of a git repository.
    func gitRepository() -> (full: String, owner: String, name: String) {
        let full = repository ?? SampleWebhook.defaultRepository
        let parts = full.split(separator: "/", maxSplits: 1).map(String.init)
        return parts.count == 2 ? (full, parts[0], parts[1]) : (full, full, full)
    }

    /// The image's registry host (the given one, else `defaultHost`) and path.
    func image(defaultHost: String) -> (host: String, path: String) {
        let given = repository ?? SampleWebhook.defaultRepository
        if let parsed = ImageReference.parse(given), !parsed.domain.isEmpty {
            return (parsed.domain, parsed.repository)
        }
        return (defaultHost, given)
    }

    /// Hex digits derived from the delivery id, for commit ids and digests that differ per sample.
    func hex(_ salt: String, digits: Int = 40) -> String {
        String(SHA256.hash(data: Data((deliveryID + salt).utf8)).hexString.prefix(digits))
    }

    var unixTime: Int { Int(date.timeIntervalSince1970) }

    var iso8601: String { ISO8601DateFormatter().string(from: date) }
}

import Foundation
import HTTPTypes

/// A received request as providers see it: its headers and the raw body bytes, already bounded.
public struct WebhookRequest: Sendable {
    public var headers: HTTPFields
    /// The body exactly as received; signatures are checked over these bytes.
    public var body: Data

    public init(headers: HTTPFields, body: Data) {
        self.headers = headers
        self.body = body
    }

    /// The first value of a header, looked up case-insensitively.
    public func header(_ name: HTTPField.Name) -> String? {
        headers[name]
    }

    /// The media type of `Content-Type`, lowercased, without parameters.
    public var mediaType: String? {
        guard let value = headers[.contentType] else { return nil }
        // Byte by byte: media types are ASCII, and Foundation's trimming cost more than an HMAC.
        var type = value.utf8.prefix { $0 != UInt8(ascii: ";") }
        while let first = type.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") { type = type.dropFirst() }
        while let last = type.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") { type = type.dropLast() }
        return String(decoding: type.map { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) ? $0 | 0x20 : $0 }, as: UTF8.self)
    }
}

/// Header names used by more than one provider, parsed once.
extension HTTPField.Name {
    static let xHubSignature = HTTPField.Name("X-Hub-Signature")!
    static let xHubSignature256 = HTTPField.Name("X-Hub-Signature-256")!
    static let xEventKey = HTTPField.Name("X-Event-Key")!
    static let xRequestID = HTTPField.Name("X-Request-Id")!
}

/// Why a request was refused, with the status the sender gets and the detail the log gets.
public struct HookFailure: Error, Sendable, Equatable {
    /// Hints as given, or worked out only when read: some cost more than the check that failed
    /// (trying the body with and without a final newline), and a flood of refusals is mostly not logged.
    private enum Hints: Sendable {
        case ready([String])
        case deferred(@Sendable () -> [String])
    }

    public var status: HTTPResponse.Status
    /// One line for the sender; never a key, an expected signature or the body.
    public var message: String
    /// What failed, for the operator: which header, which algorithm, how many keys, how many bytes.
    public var cause: String
    /// What to look at next, most telling first; each a clause the operator can act on
    /// (see docs/troubleshooting.md). Never a key, an expected signature or the body.
    public var hints: [String] {
        get {
            switch storedHints {
            case .ready(let hints): hints
            case .deferred(let work): work()
            }
        }
        set { storedHints = .ready(newValue) }
    }
    private var storedHints: Hints

    /// The operator's log line: the cause, then every hint.
    public var reason: String {
        hints.isEmpty ? cause : ([cause] + hints).joined(separator: "; ")
    }

    public init(status: HTTPResponse.Status, message: String, reason: String? = nil, hints: [String] = []) {
        self.status = status
        self.message = message
        self.cause = reason ?? message
        self.storedHints = .ready(hints)
    }

    /// A failure whose hints are worked out by `hints` when first read (each time it is read).
    init(status: HTTPResponse.Status, message: String, reason: String, deferredHints hints: @escaping @Sendable () -> [String]) {
        self.status = status
        self.message = message
        self.cause = reason
        self.storedHints = .deferred(hints)
    }

    public static func == (lhs: HookFailure, rhs: HookFailure) -> Bool {
        lhs.status == rhs.status && lhs.message == rhs.message && lhs.cause == rhs.cause && lhs.hints == rhs.hints
    }

    /// Verification failed: 401.
    public static func unauthorized(_ message: String, reason: String? = nil, hints: [String] = []) -> HookFailure {
        HookFailure(status: .unauthorized, message: message, reason: reason, hints: hints)
    }

    /// The request is malformed or not what this endpoint takes: 400.
    public static func badRequest(_ message: String, reason: String? = nil, hints: [String] = []) -> HookFailure {
        HookFailure(status: .badRequest, message: message, reason: reason, hints: hints)
    }
}

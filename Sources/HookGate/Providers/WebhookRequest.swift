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
        let type = value.split(separator: ";", maxSplits: 1).first ?? ""
        return type.trimmingCharacters(in: .whitespaces).lowercased()
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
    public var status: HTTPResponse.Status
    /// One line for the sender; never a key, an expected signature or the body.
    public var message: String
    /// What failed, for the operator: which header, which algorithm, how many keys, how many bytes.
    public var cause: String
    /// What to look at next, most telling first; each a clause the operator can act on
    /// (see docs/troubleshooting.md). Never a key, an expected signature or the body.
    public var hints: [String]

    /// The operator's log line: the cause, then every hint.
    public var reason: String {
        hints.isEmpty ? cause : ([cause] + hints).joined(separator: "; ")
    }

    public init(status: HTTPResponse.Status, message: String, reason: String? = nil, hints: [String] = []) {
        self.status = status
        self.message = message
        self.cause = reason ?? message
        self.hints = hints
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

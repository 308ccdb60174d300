import Foundation

/// Why a call to a git host's API failed. Its description names the call and the answer, never
/// the token or a hook's secret.
public struct GitHostError: Error, Sendable, CustomStringConvertible {
    public enum Cause: String, Sendable {
        /// 401: the token was refused.
        case unauthorized
        /// 403 without a rate limit: the token lacks a scope or the user a role.
        case forbidden
        /// 404: no such repository, organization or hook (or a token that may not see it).
        case notFound = "not_found"
        /// The host asked to wait (403/429 with `Retry-After`, or no requests left).
        case rateLimited = "rate_limited"
        /// 4xx other than those: the host refused what was sent.
        case refused
        /// 5xx or an answer that is not what the API documents.
        case serverError = "server_error"
        case timeout
        case unreachable
    }

    public var cause: Cause
    public var description: String
    /// For ``Cause/rateLimited``: when calls may start again.
    public var retryAt: Date?

    public init(cause: Cause, description: String, retryAt: Date? = nil) {
        self.cause = cause
        self.description = description
        self.retryAt = retryAt
    }

    /// A GitHub App call's failure (its causes are a subset of these, by the same names).
    init(_ failure: GitHubAppClient.Failure) {
        self.init(cause: Cause(rawValue: failure.cause.rawValue) ?? .serverError, description: failure.description)
    }
}

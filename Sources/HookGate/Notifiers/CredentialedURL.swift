import Foundation

/// A configured downstream URL that may carry credentials (`http://user:pass@host/api/flux`).
///
/// The credentials are kept only where the call is made: they become an `Authorization: Basic`
/// header (as Go's HTTP client, and so fluxd's clients, send them), and everything that shows the
/// URL (metric labels, queue rows, `hookgate deliveries`, logs, errors) shows ``redacted``.
public struct CredentialedURL: Sendable, Equatable {
    /// The URL without its user information: what the call goes to.
    public let plain: String
    /// The URL as it may be shown: its user information replaced by `***`.
    public let redacted: String
    /// `Basic …` for the user information; nil when the URL has none.
    let authorization: String?

    public init(_ text: String) {
        guard let schemeEnd = text.range(of: "://") else {
            (plain, redacted, authorization) = (text, text, nil)
            return
        }
        let afterScheme = text[schemeEnd.upperBound...]
        let authorityEnd = afterScheme.firstIndex { "/?#".contains($0) } ?? afterScheme.endIndex
        guard let at = afterScheme[..<authorityEnd].lastIndex(of: "@") else {
            (plain, redacted, authorization) = (text, text, nil)
            return
        }
        let userinfo = afterScheme[..<at]
        let prefix = text[..<schemeEnd.upperBound], rest = afterScheme[afterScheme.index(after: at)...]
        plain = String(prefix + rest)
        redacted = String(prefix + "***@" + rest)
        let decoded = userinfo.removingPercentEncoding ?? String(userinfo)
        let credentials = decoded.contains(":") ? decoded : decoded + ":"
        authorization = "Basic " + Data(credentials.utf8).base64EncodedString()
    }

    /// `text` with the user information of every URL in it replaced by `***` (for text written
    /// before URLs were redacted, such as old queue rows).
    public static func redactingCredentials(in text: String) -> String {
        text.replacing(userinfo) { match in match.1 + "***@" }
    }

    private nonisolated(unsafe) static let userinfo = /([A-Za-z][A-Za-z0-9+.\-]*:\/\/)[^\/?#@\s]+@/
}

import Foundation

/// Names made safe for URL paths, and the answers' common shapes (ids, dates, `Link` headers).
enum HostPath {
    private static let allowed: CharacterSet = {
        var set = CharacterSet.alphanumerics
        set.insert(charactersIn: "-._~")
        return set
    }()

    /// One path segment, percent-encoded (`/` included, so `group/project` is one GitLab id).
    static func segment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// `owner/name` as two encoded segments.
    static func segments(_ text: String) -> String {
        text.split(separator: "/", omittingEmptySubsequences: false).map { segment(String($0)) }.joined(separator: "/")
    }

    /// A JSON id (number or string) as text.
    static func text(_ value: Any) -> String? {
        switch value {
        case let number as Int: String(number)
        case let string as String: string
        case let number as NSNumber: number.stringValue
        default: nil
        }
    }

    static func date(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }

    /// The `rel="next"` URL of a `Link` header.
    static func nextLink(_ header: String?) -> String? {
        guard let header else { return nil }
        for part in header.split(separator: ",") where part.contains("rel=\"next\"") {
            guard let open = part.firstIndex(of: "<"), let close = part.firstIndex(of: ">"), open < close else { continue }
            return String(part[part.index(after: open)..<close])
        }
        return nil
    }

    static func unexpected(_ reply: GitHostCaller.Reply, _ what: String) -> GitHostError {
        GitHostError(cause: .serverError, description: "the host answered \(reply.status) without \(what)")
    }
}

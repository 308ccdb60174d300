import Foundation
/// Finding an endpoint the way an operator names it, for `hookgate verify` and `hookgate send`.
extension Config {
    /// The endpoint `id` names: its `name`, its URL path `/hook/<segment>`, a URL ending in that
    /// path, its URL segment (`id:` or fingerprint), or a unique prefix of at least 8 hex digits of
    /// its fingerprint.
    public func endpoint(identifiedBy id: String) throws(EndpointLookupError) -> Endpoint {
        if let byName = endpoints.first(where: { $0.name == id }) { return byName }
        var segment = id.trimmingCharacters(in: .whitespaces)
        if let range = segment.range(of: "/hook/") { segment = String(segment[range.upperBound...]) }
        segment = String(segment.prefix { $0 != "/" && $0 != "?" && $0 != "#" })
        if let exact = endpoints.first(where: { $0.urlSegment == segment }) { return exact }
        let hex = segment.lowercased()
        let matches = hex.count >= 8 && hex.allSatisfy(\.isHexDigit) ? endpoints.filter { $0.fingerprint.hasPrefix(hex) } : []
        guard matches.count == 1 else {
            throw EndpointLookupError(id: id, ambiguous: matches.count > 1, known: endpoints.map { "\($0.name) (\($0.source.rawValue), \($0.path))" })
        }
        return matches[0]
    }
}

/// No endpoint, or more than one, answers to what the operator gave.
public struct EndpointLookupError: Error, Sendable, CustomStringConvertible {
    public var id: String
    public var ambiguous: Bool
    /// Every endpoint of the config, as `name (source, path)`.
    public var known: [String]

    public var description: String {
        let what = ambiguous ? "\(id) is the start of more than one endpoint's URL; give more of it" : "no endpoint is named \(id) or has it in its URL"
        return what + "; the config's endpoints:\n" + known.map { "  " + $0 }.joined(separator: "\n")
    }
}

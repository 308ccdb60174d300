import Foundation
/// Finding an endpoint the way an operator names it, for `hookgate verify` and `hookgate send`.
extension Config {
    /// The endpoint `id` names: its `name`, its URL path `/hook/<hex>`, a URL ending in that path,
    /// its fingerprint, or a unique prefix of at least 8 hex digits of it.
    public func endpoint(identifiedBy id: String) throws(EndpointLookupError) -> Endpoint {
        if let byName = endpoints.first(where: { $0.name == id }) { return byName }
        var key = id.trimmingCharacters(in: .whitespaces)
        if let range = key.range(of: "/hook/") { key = String(key[range.upperBound...]) }
        key = String(key.prefix { $0 != "/" && $0 != "?" && $0 != "#" }).lowercased()
        let matches = key.count >= 8 && key.allSatisfy(\.isHexDigit) ? endpoints.filter { $0.fingerprint.hasPrefix(key) } : []
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

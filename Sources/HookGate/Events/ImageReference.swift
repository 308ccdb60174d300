/// An image name split into registry host, repository path and tag, as Flux's daemon
/// (`pkg/image.ParseRef`) splits it, so the notify call names the image the same way.
public struct ImageReference: Sendable, Equatable, Codable {
    /// The registry host with an optional port; empty for Docker Hub short names.
    public var domain: String
    /// The repository path inside the registry, for example `library/alpine`.
    public var repository: String
    /// The tag, when the reference had one.
    public var tag: String?

    public init(domain: String, repository: String, tag: String? = nil) {
        self.domain = domain
        self.repository = repository
        self.tag = tag
    }

    /// Parses `[domain/]path[:tag][@digest]`.
    ///
    /// With two path elements the first is a domain only when it looks like one (`localhost`, or a
    /// dotted host name, each with an optional `:port`); with three or more, the first always is.
    /// Returns nil for an empty or malformed reference.
    public static func parse(_ reference: String) -> ImageReference? {
        var name = Substring(reference)
        if let at = name.firstIndex(of: "@") { name = name[..<at] }
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        guard !parts.isEmpty, !parts.contains(where: \.isEmpty) else { return nil }
        var domain = ""
        var path = parts[...]
        if parts.count >= 3 || (parts.count == 2 && looksLikeDomain(parts[0])) {
            domain = String(parts[0])
            path = parts.dropFirst()
        }
        var last = path[path.endIndex - 1]
        var tag: String?
        if let colon = last.lastIndex(of: ":") {
            tag = String(last[last.index(after: colon)...])
            last = last[..<colon]
            guard !last.isEmpty, tag?.isEmpty == false else { return nil }
        }
        let repository = (path.dropLast().map(String.init) + [String(last)]).joined(separator: "/")
        return ImageReference(domain: domain, repository: repository, tag: tag)
    }

    private static func looksLikeDomain(_ part: Substring) -> Bool {
        let host = part.split(separator: ":", maxSplits: 1).first ?? part
        return host == "localhost" || host.contains(".") || part.contains(":")
    }
}

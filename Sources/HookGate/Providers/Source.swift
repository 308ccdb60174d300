/// A kind of sender an endpoint receives from, by the name configs give it (`GitHub`), spelt as
/// flux-recv spells them. Each is declared by its plug-in's file (``SourceKind``), next to its
/// provider: `extension Source { static let gitHub = Source("GitHub") }`.
public struct Source: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    init(_ name: String) {
        rawValue = name
    }

    public var description: String { rawValue }

    /// A source by its exact name (as stored in the queue), if one is registered.
    public init?(rawValue: String) {
        guard let kind = SourceKind.all.first(where: { $0.source.rawValue == rawValue }) else { return nil }
        self = kind.source
    }

    /// The source a config names, matched case-insensitively, aliases included (`Forgejo`).
    public init?(configName: String) {
        let lowered = configName.lowercased()
        guard let kind = SourceKind.all.first(where: { $0.source.rawValue.lowercased() == lowered || $0.aliases.contains { $0.lowercased() == lowered } })
        else { return nil }
        self = kind.source
    }

    /// Every source, in the registry's order.
    public static var allCases: [Source] { SourceKind.all.map(\.source) }

    /// Every name a config may use, for "did you mean" answers.
    public static var allNames: [String] {
        SourceKind.all.map(\.source.rawValue) + SourceKind.all.flatMap(\.aliases)
    }

    /// Whether `endpoint`'s requests can be verified (signature, token or JWT), so that its URL
    /// need not be secret.
    public func verifiesSender(of endpoint: Endpoint) -> Bool {
        SourceKind.of(self).verifiesSender(endpoint)
    }
}

extension Source: Codable {
    public init(from decoder: any Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        guard let source = Source(rawValue: name) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown source \(name)"))
        }
        self = source
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

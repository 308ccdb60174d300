/// A shell-style pattern: `*` matches within one path segment, `**` across segments, `?` one
/// character; anything else matches itself. `release/*` matches `release/1.2`, not `release/a/b`.
public struct Glob: Sendable, Equatable, CustomStringConvertible {
    public let pattern: String
    private let parts: [Character]

    public init(_ pattern: String) {
        self.pattern = pattern
        self.parts = Array(pattern)
    }

    public var description: String { pattern }

    public func matches(_ text: String) -> Bool {
        Self.match(parts[...], Array(text)[...])
    }

    private static func match(_ pattern: ArraySlice<Character>, _ text: ArraySlice<Character>) -> Bool {
        var pattern = pattern
        var text = text
        while let head = pattern.first {
            switch head {
            case "*":
                let doubled = pattern.dropFirst().first == "*"
                let rest = pattern.dropFirst(doubled ? 2 : 1)
                // `**/` also matches no folder at all.
                if doubled, rest.first == "/", match(rest.dropFirst(), text) { return true }
                if rest.isEmpty { return doubled || !text.contains("/") }
                var candidate = text
                while true {
                    if match(rest, candidate) { return true }
                    guard let next = candidate.first, doubled || next != "/" else { return false }
                    candidate = candidate.dropFirst()
                }
            case "?":
                guard let next = text.first, next != "/" else { return false }
                pattern = pattern.dropFirst()
                text = text.dropFirst()
            default:
                guard text.first == head else { return false }
                pattern = pattern.dropFirst()
                text = text.dropFirst()
            }
        }
        return text.isEmpty
    }
}

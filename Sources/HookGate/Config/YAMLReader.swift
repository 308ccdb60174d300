import Yams

/// Reads a composed YAML tree while recording every problem with its line, so that a loader can
/// keep going after the first mistake and report them all at once.
final class YAMLReader {
    let file: String
    private var found: [ConfigProblem] = []
    /// Every file read besides the config (keys, templates), so a reload can watch them.
    var files: [String] = []

    /// Every problem so far, in file order.
    var problems: [ConfigProblem] {
        found.enumerated().sorted { ($0.element.line ?? 0, $0.offset) < ($1.element.line ?? 0, $1.offset) }.map(\.element)
    }

    init(file: String) {
        self.file = file
    }

    func problem(_ message: String, at node: Node?, fix: String? = nil) {
        found.append(ConfigProblem(file: file, line: node?.mark?.line, message: message, fix: fix))
    }

    func problem(_ message: String, line: Int?, fix: String? = nil) {
        found.append(ConfigProblem(file: file, line: line, message: message, fix: fix))
    }

    /// A mapping with its path (`endpoints[2].gcr`) for messages; rejects keys not read from it.
    func object(_ node: Node?, path: String) -> YAMLObject? {
        guard let node else { return nil }
        guard let mapping = node.mapping else {
            problem("`\(path)` must be a mapping of keys to values", at: node)
            return nil
        }
        return YAMLObject(reader: self, node: node, mapping: mapping, path: path)
    }
}

/// One YAML mapping being read; keys that are never asked for are reported as unknown.
struct YAMLObject {
    let reader: YAMLReader
    let node: Node
    let mapping: Node.Mapping
    let path: String

    var line: Int? { node.mark?.line }

    func qualified(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    subscript(key: String) -> Node? { mapping[key] }

    func string(_ key: String, required: Bool = false) -> String? {
        guard let value = mapping[key] else {
            if required { reader.problem("`\(qualified(key))` is missing", at: node, fix: "add `\(key): …`") }
            return nil
        }
        guard let scalar = value.scalar, value.null == nil else {
            reader.problem("`\(qualified(key))` must be a string", at: value)
            return nil
        }
        if required, scalar.string.isEmpty {
            reader.problem("`\(qualified(key))` is empty", at: value)
            return nil
        }
        return scalar.string
    }

    func bool(_ key: String) -> Bool? {
        guard let value = mapping[key] else { return nil }
        guard let bool = value.bool else {
            reader.problem("`\(qualified(key))` must be true or false", at: value)
            return nil
        }
        return bool
    }

    func int(_ key: String) -> Int? {
        guard let value = mapping[key] else { return nil }
        guard let int = value.int else {
            reader.problem("`\(qualified(key))` must be a whole number", at: value)
            return nil
        }
        return int
    }

    func sequence(_ key: String) -> [Node]? {
        guard let value = mapping[key] else { return nil }
        guard let sequence = value.sequence else {
            reader.problem("`\(qualified(key))` must be a list", at: value)
            return nil
        }
        return Array(sequence)
    }

    /// Reports every key not in `known`, with a suggestion when one is close.
    func rejectUnknownKeys(_ known: [String]) {
        for key in mapping.keys {
            let name = key.string ?? "\(key)"
            guard !known.contains(name) else { continue }
            var fix = "known keys here: " + known.joined(separator: ", ")
            if let guess = Spelling.closest(to: name, in: known) {
                fix = "did you mean `\(guess)`?"
            }
            reader.problem("unknown key `\(qualified(name))`", at: key, fix: fix)
        }
    }
}

/// Suggestions for misspelt names.
enum Spelling {
    /// The candidate closest to `word` (ignoring case), when it is close enough to be a typo.
    static func closest(to word: String, in candidates: [String]) -> String? {
        let lowered = Array(word.lowercased())
        var best: (name: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(lowered, Array(candidate.lowercased()))
            if distance < (best?.distance ?? Int.max) { best = (candidate, distance) }
        }
        guard let best else { return nil }
        return best.distance <= max(2, word.count / 3) ? best.name : nil
    }

    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            }
            previous = current
        }
        return previous[b.count]
    }
}

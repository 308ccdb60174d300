import CYaml

/// Measures how many nodes a YAML text stands for once its aliases are expanded, without
/// expanding them, so that an alias bomb (a few hundred bytes of nested `*aliases` that stand for
/// billions of nodes) is refused before Yams composes it.
///
/// Composing copies an alias's node for every use, and everything that walks the tree afterwards
/// (the config reader, a template's conversion, even Yams' duplicate-key check, which hashes whole
/// keys) pays for the expanded size. This reads libyaml's events once: linear in the text.
enum YAMLExpansion {
    /// The most nodes a config or a template may expand to. A config of a thousand endpoints with
    /// rules is about 20,000 nodes; Tekton templates are a few hundred.
    static let maximumNodes = 100_000

    /// Where the text crosses ``maximumNodes``.
    struct TooLarge: Error {
        /// 1-based line of the node that crossed the limit.
        var line: Int
        /// The alias that crossed it, if an alias did.
        var alias: String?
        var limit: Int

        var message: String {
            guard let alias else { return "the YAML has more than \(limit) nodes" }
            return "the YAML stands for more than \(limit) nodes once its aliases are expanded (`*\(alias)` here): an alias bomb?"
        }
        static let fix = "write the values out instead of repeating them with anchors (`&name`) and aliases (`*name`)"
    }

    /// Throws when `text` expands to more than `limit` nodes. Syntax errors are left to the YAML
    /// parser that reads the text next, which reports them with their line.
    static func check(_ text: String, limit: Int = maximumNodes) throws(TooLarge) {
        var bytes = Array(text.utf8)
        if bytes.isEmpty { return }
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return }
        defer { yaml_parser_delete(&parser) }
        try bytes.withUnsafeMutableBufferPointer { buffer throws(TooLarge) in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var counter = Counter(limit: limit)
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { return }
                defer { yaml_event_delete(&event) }
                if event.type == YAML_STREAM_END_EVENT { return }
                if !counter.take(event) {
                    let alias = event.type == YAML_ALIAS_EVENT ? event.data.alias.anchor.map { String(cString: $0) } : nil
                    throw TooLarge(line: Int(event.start_mark.line) + 1, alias: alias, limit: limit)
                }
            }
        }
    }

    /// The sizes seen so far: each open collection's, and each anchor's.
    private struct Counter {
        let limit: Int
        var open: [(size: Int, anchor: String?)] = []
        var anchors: [String: Int] = [:]
        var total = 0

        /// Counts one event; false once something is larger than the limit.
        mutating func take(_ event: yaml_event_t) -> Bool {
            switch event.type {
            case YAML_SCALAR_EVENT:
                if let anchor = event.data.scalar.anchor { anchors[String(cString: anchor)] = 1 }
                return add(1)
            case YAML_ALIAS_EVENT:
                let name = event.data.alias.anchor.map { String(cString: $0) } ?? ""
                return add(anchors[name] ?? 1)
            case YAML_SEQUENCE_START_EVENT:
                open.append((1, event.data.sequence_start.anchor.map { String(cString: $0) }))
                return true
            case YAML_MAPPING_START_EVENT:
                open.append((1, event.data.mapping_start.anchor.map { String(cString: $0) }))
                return true
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                guard let closed = open.popLast() else { return true }
                if let anchor = closed.anchor { anchors[anchor] = closed.size }
                return add(closed.size)
            default:
                return true
            }
        }

        /// Adds a node of `size` to the collection it is in (or to the documents' total).
        private mutating func add(_ size: Int) -> Bool {
            if open.isEmpty {
                total += size
                return total <= limit
            }
            open[open.count - 1].size += size
            return open[open.count - 1].size <= limit
        }
    }
}

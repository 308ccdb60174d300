import Foundation
import Yams

/// Reads an endpoint's `notify:` list: each entry one action (a bare name, or a mapping with the
/// action's options), an optional `when:` rule and an optional `id:`. Each action's options are
/// read by its plug-in (``ActionKind``).
enum ActionLoader {
    static func readNotify(_ item: YAMLObject, api: String, groups: [String: [Backend]], folder: String) -> [Action]? {
        let reader = item.reader
        guard let nodes = item.sequence("notify") else { return [Action(FluxAPIAction(url: api))] }
        var actions: [Action] = []
        var lines: [String: (path: String, line: Int?)] = [:]
        var ok = true
        for (index, node) in nodes.enumerated() {
            let path = item.qualified("notify") + "[\(index)]"
            let action: Action?
            if let name = node.scalar?.string {
                action = readSpec(name, options: nil, node: node, path: path, api: api, groups: groups, folder: folder, reader: reader).map { Action($0) }
            } else if let entry = reader.object(node, path: path) {
                action = readEntry(entry, node: node, path: path, api: api, groups: groups, folder: folder)
            } else {
                action = nil
            }
            guard let action else { ok = false; continue }
            // Actions whose target ignores the id (`log`, one Flux API) share their queue anyway.
            let ownTarget = action.spec.target(endpoint: "", id: "a") != action.spec.target(endpoint: "", id: "b")
            if ownTarget, let first = lines[action.id] {
                reader.problem("`\(path)` has the id \(action.id) of `\(first.path)` (line \(first.line.map(String.init) ?? "?")): queued work could not tell them apart", at: node,
                    fix: "merge the two into one action with one `when`, or give one of them its own `id:`")
                ok = false
                continue
            }
            if ownTarget { lines[action.id] = (path, node.mark?.line) }
            actions.append(action)
        }
        if actions.isEmpty && ok {
            reader.problem("`\(item.qualified("notify"))` is empty", at: item["notify"], fix: "list at least one action, or remove `notify` to call the Flux API")
            ok = false
        }
        return ok ? actions : nil
    }

    /// A mapping entry: one action's name with its options, and optionally `when` and `id`.
    private static func readEntry(_ entry: YAMLObject, node: Node, path: String, api: String, groups: [String: [Backend]], folder: String) -> Action? {
        let reader = entry.reader
        let names = entry.mapping.keys.compactMap(\.string).filter { $0 != "when" && $0 != "id" }
        guard names.count == 1, let name = names.first else {
            reader.problem("`\(path)` must name exactly one action (\(ActionKind.allNames.joined(separator: ", "))), optionally with `when` and `id`", at: node)
            return nil
        }
        entry.rejectUnknownKeys([name, "when", "id"])
        let options = entry[name].flatMap { $0.null == nil ? reader.object($0, path: "\(path).\(name)") : nil }
        let rule = readRule(reader.object(entry["when"], path: "\(path).when"))
        var id: String?
        if let given = entry.string("id") {
            guard given.wholeMatch(of: /[A-Za-z0-9][A-Za-z0-9._-]{0,62}/) != nil else {
                reader.problem("`\(path).id` must be letters, digits, `.`, `_` and `-`, at most 63, starting with a letter or digit", at: entry["id"])
                return nil
            }
            id = given
        }
        guard let spec = readSpec(name, options: options, node: node, path: path, api: api, groups: groups, folder: folder, reader: reader), let rule else { return nil }
        return Action(spec, rule: rule, id: id)
    }

    private static func readSpec(
        _ name: String, options: YAMLObject?, node: Node, path: String, api: String, groups: [String: [Backend]], folder: String, reader: YAMLReader
    ) -> (any ActionSpec)? {
        guard let kind = ActionKind.named(name) else {
            let guess = Spelling.closest(to: name, in: ActionKind.allNames)
            reader.problem("`\(path)`: unknown action \"\(name)\"", at: node,
                fix: guess.map { "did you mean `\($0)`?" } ?? "actions: " + ActionKind.allNames.joined(separator: ", "))
            return nil
        }
        return kind.read(ActionInput(name: name, options: options, node: node, path: path, api: api, groups: groups, folder: folder, reader: reader))
    }

    private static func readRule(_ object: YAMLObject?) -> Rule? {
        guard let object else { return .any }
        let reader = object.reader
        object.rejectUnknownKeys(["events", "branches", "tags", "repositories", "paths", "images", "actions", "baseBranches", "fromForks", "body"])
        var ok = true
        func globs(_ key: String) -> [Glob]? {
            guard let node = object[key] else { return nil }
            if let single = node.scalar?.string { return [Glob(single)] }
            guard let list = object.sequence(key) else { ok = false; return nil }
            return list.compactMap { $0.string }.map(Glob.init)
        }
        /// A name or a list of names of `Value`'s cases; an unknown one is a problem naming the others.
        func names<Value: RawRepresentable & CaseIterable & Hashable>(_ key: String, _ what: String, as _: Value.Type) -> Set<Value>? where Value.RawValue == String {
            guard let node = object[key] else { return nil }
            let names = node.scalar.map { [$0.string] } ?? (object.sequence(key)?.compactMap(\.string) ?? [])
            var values: Set<Value> = []
            for name in names {
                if let value = Value(rawValue: name) {
                    values.insert(value)
                } else {
                    reader.problem("`\(object.qualified(key))`: unknown \(what) \"\(name)\"", at: node,
                        fix: "\(key): " + Value.allCases.map(\.rawValue).joined(separator: ", "))
                    ok = false
                }
            }
            return values
        }
        var body: [Rule.BodyCondition]?
        if let conditions = reader.object(object["body"], path: object.qualified("body")) {
            body = []
            for (key, value) in conditions.mapping {
                guard let text = key.string, let path = BodyPath(text) else {
                    reader.problem("`\(conditions.path)`: \"\(key.string ?? "?")\" is not a body path (keys in dots, positions in [n])", at: key,
                        fix: "for example `body: {pull_request.labels[0].name: deploy}`")
                    ok = false
                    continue
                }
                let globs = value.scalar.map { [Glob($0.string)] } ?? value.sequence?.compactMap { $0.string }.map(Glob.init)
                guard let globs, !globs.isEmpty else {
                    reader.problem("`\(conditions.qualified(text))` must be a value (a glob) or a list of them", at: value)
                    ok = false
                    continue
                }
                body?.append(Rule.BodyCondition(path: path, values: globs))
            }
            body?.sort { $0.path.description < $1.path.description }
        }
        let events = names("events", "event", as: Rule.EventKind.self)
        let actions = names("actions", "pull request action", as: PullRequest.Action.self)
        let rule = Rule(events: events, branches: globs("branches"), tags: globs("tags"), repositories: globs("repositories"),
                        paths: globs("paths"), images: globs("images"), actions: actions, baseBranches: globs("baseBranches"),
                        fromForks: object.bool("fromForks"), body: body)
        return ok ? rule : nil
    }
}

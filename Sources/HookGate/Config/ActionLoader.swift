import Foundation
import Yams

/// Reads an endpoint's `notify:` list: each entry one action (a bare name, or a mapping with the
/// action's options) and an optional `when:` rule.
enum ActionLoader {
    static let kinds = ["fluxAPI", "log", "reconcile", "create", "tekton"]

    static func readNotify(_ item: YAMLObject, api: String, folder: String) -> [Action]? {
        let reader = item.reader
        guard let nodes = item.sequence("notify") else { return [Action(.fluxAPI(url: api))] }
        var actions: [Action] = []
        var ok = true
        for (index, node) in nodes.enumerated() {
            let path = item.qualified("notify") + "[\(index)]"
            if let name = node.scalar?.string {
                guard let kind = readKind(name, options: nil, node: node, path: path, api: api, folder: folder, reader: reader) else { ok = false; continue }
                actions.append(Action(kind))
                continue
            }
            guard let entry = reader.object(node, path: path) else { ok = false; continue }
            let names = entry.mapping.keys.compactMap(\.string).filter { $0 != "when" }
            guard names.count == 1, let name = names.first else {
                reader.problem("`\(path)` must name exactly one action (\(kinds.joined(separator: ", "))), optionally with `when`", at: node)
                ok = false
                continue
            }
            entry.rejectUnknownKeys([name, "when"])
            let value = entry[name]
            let options = value.flatMap { $0.null == nil ? reader.object($0, path: "\(path).\(name)") : nil }
            let rule = readRule(reader.object(entry["when"], path: "\(path).when"))
            guard let kind = readKind(name, options: options, node: node, path: path, api: api, folder: folder, reader: reader), let rule else {
                ok = false
                continue
            }
            actions.append(Action(kind, rule: rule))
        }
        if actions.isEmpty && ok {
            reader.problem("`\(item.qualified("notify"))` is empty", at: item["notify"], fix: "list at least one action, or remove `notify` to call the Flux API")
            ok = false
        }
        return ok ? actions : nil
    }

    private static func readKind(
        _ name: String, options: YAMLObject?, node: Node, path: String, api: String, folder: String, reader: YAMLReader
    ) -> NotifyAction? {
        switch name {
        case "fluxAPI":
            options?.rejectUnknownKeys(["url"])
            return .fluxAPI(url: options?.string("url") ?? api)
        case "log":
            options?.rejectUnknownKeys([])
            return .log
        case "reconcile":
            guard let options else {
                reader.problem("`\(path).reconcile` needs `objects`", at: node, fix: "for example `reconcile: {namespace: flux-system, objects: [{kind: GitRepository, name: app}]}`")
                return nil
            }
            return readReconcile(options)
        case "create", "tekton":
            guard let options else {
                reader.problem("`\(path).\(name)` needs a `template` file or an inline `object`", at: node)
                return nil
            }
            return readCreate(options, folder: folder)
        default:
            let guess = Spelling.closest(to: name, in: kinds)
            reader.problem("`\(path)`: unknown action \"\(name)\"", at: node,
                fix: guess.map { "did you mean `\($0)`?" } ?? "actions: " + kinds.joined(separator: ", "))
            return nil
        }
    }

    private static func readReconcile(_ options: YAMLObject) -> NotifyAction? {
        let reader = options.reader
        options.rejectUnknownKeys(["namespace", "objects"])
        let namespace = options.string("namespace")
        guard let nodes = options.sequence("objects"), !nodes.isEmpty else {
            reader.problem("`\(options.qualified("objects"))` must list the objects to reconcile", at: options.node)
            return nil
        }
        var objects: [ReconcileObject] = []
        var ok = true
        for (index, node) in nodes.enumerated() {
            guard let object = reader.object(node, path: options.qualified("objects") + "[\(index)]") else { ok = false; continue }
            object.rejectUnknownKeys(["kind", "name", "namespace", "apiVersion", "matchLabels"])
            guard let kind = object.string("kind", required: true) else { ok = false; continue }
            let apiVersion = object.string("apiVersion")
            guard let resource = KubeResource.resolve(kind: kind, apiVersion: apiVersion) else {
                reader.problem("`\(object.qualified("kind"))`: \(kind) is not a Flux kind hookgate knows", at: object["kind"], fix: "add its `apiVersion`")
                ok = false
                continue
            }
            var labels: [String: String] = [:]
            if let labelObject = reader.object(object["matchLabels"], path: object.qualified("matchLabels")) {
                for (key, value) in labelObject.mapping { labels[key.string ?? ""] = value.string ?? "" }
            }
            var name = object.string("name")
            if name == "*" { name = nil }
            if name == nil && labels.isEmpty {
                reader.problem("`\(object.path)` needs a `name`, or `matchLabels` to select objects", at: node)
                ok = false
                continue
            }
            objects.append(ReconcileObject(resource: resource, namespace: object.string("namespace") ?? namespace, name: name, matchLabels: labels))
        }
        return ok ? .reconcile(objects) : nil
    }

    private static func readCreate(_ options: YAMLObject, folder: String) -> NotifyAction? {
        let reader = options.reader
        options.rejectUnknownKeys(["template", "object", "namespace", "resource"])
        let template: ObjectTemplate
        do {
            if let file = options.string("template") {
                let path = file.hasPrefix("/") ? file : (folder as NSString).appendingPathComponent(file)
                reader.files.append(path)
                guard let data = FileManager.default.contents(atPath: path) else {
                    reader.problem("template file \"\(file)\" (\(path)) cannot be read", at: options["template"], fix: "the path is relative to the config file's folder")
                    return nil
                }
                template = try ObjectTemplate(yaml: String(decoding: data, as: UTF8.self))
            } else if let node = options["object"] {
                template = try ObjectTemplate(node: node)
            } else {
                reader.problem("`\(options.path)` needs a `template` file or an inline `object`", at: options.node)
                return nil
            }
        } catch {
            reader.problem("`\(options.path)`: the template is not usable: \(error)", at: options["template"] ?? options["object"])
            return nil
        }
        guard let resource = KubeResource.resolve(kind: template.kind, apiVersion: template.apiVersion, plural: options.string("resource")) else {
            reader.problem("`\(options.path)`: the template's kind \(template.kind) has no apiVersion", at: options.node)
            return nil
        }
        return .create(CreateSpec(resource: resource, namespace: options.string("namespace") ?? template.namespace, template: template))
    }

    private static func readRule(_ object: YAMLObject?) -> Rule? {
        guard let object else { return .any }
        let reader = object.reader
        object.rejectUnknownKeys(["events", "branches", "tags", "repositories", "paths", "images"])
        var ok = true
        func globs(_ key: String) -> [Glob]? {
            guard let node = object[key] else { return nil }
            if let single = node.scalar?.string { return [Glob(single)] }
            guard let list = object.sequence(key) else { ok = false; return nil }
            return list.compactMap { $0.string }.map(Glob.init)
        }
        var events: Set<Rule.EventKind>?
        if let node = object["events"] {
            let names = node.scalar.map { [$0.string] } ?? (object.sequence("events")?.compactMap(\.string) ?? [])
            events = []
            for name in names {
                if let kind = Rule.EventKind(rawValue: name) {
                    events?.insert(kind)
                } else {
                    reader.problem("`\(object.qualified("events"))`: unknown event \"\(name)\"", at: node,
                        fix: "events: " + Rule.EventKind.allCases.map(\.rawValue).joined(separator: ", "))
                    ok = false
                }
            }
        }
        let rule = Rule(events: events, branches: globs("branches"), tags: globs("tags"), repositories: globs("repositories"),
                        paths: globs("paths"), images: globs("images"))
        return ok ? rule : nil
    }
}

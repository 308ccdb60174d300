import Yams

/// `reconcile: {namespace, objects: [{kind, name | matchLabels, namespace, apiVersion}]}`: asks
/// Flux to reconcile the objects now (``ReconcileNotifier``).
public struct ReconcileAction: ActionSpec {
    /// An entry of `objects:`.
    public struct Object: Sendable, Equatable {
        public var resource: KubeResource
        /// Nil: the action's `namespace`, else the connection's namespace.
        public var namespace: String?
        /// Nil (or `*` in the config) selects every object with `matchLabels`.
        public var name: String?
        public var matchLabels: [String: String]
    }

    public var objects: [Object]

    public var kind: String { "reconcile" }
    public var needsKubernetes: Bool { true }

    public var definition: String {
        "reconcile " + objects.map { object in
            let labels = object.matchLabels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            return "\(object.resource.apiVersion)/\(object.resource.kind) \(object.namespace ?? "-")/\(object.name ?? "*") {\(labels)}"
        }.joined(separator: "; ")
    }

    public var summary: String {
        "reconcile \(objects.map { "\($0.resource.kind) \($0.name ?? "*")" }.joined(separator: ", "))"
    }

    public func makeNotifiers(target: String, resources: ActionResources) throws(ConfigError) -> [any Notifier] {
        let kube = try resources.kubernetes()
        return [ReconcileNotifier(
            target: target,
            objects: objects.map {
                ReconcileNotifier.Target(resource: $0.resource, namespace: $0.namespace ?? kube.connection.namespace, name: $0.name, matchLabels: $0.matchLabels)
            },
            client: kube)]
    }

    static let kind = ActionKind(names: ["reconcile"]) { input in
        guard let options = input.options else {
            input.reader.problem("`\(input.path).reconcile` needs `objects`", at: input.node,
                fix: "for example `reconcile: {namespace: flux-system, objects: [{kind: GitRepository, name: app}]}`")
            return nil
        }
        return read(options)
    }

    private static func read(_ options: YAMLObject) -> ReconcileAction? {
        let reader = options.reader
        options.rejectUnknownKeys(["namespace", "objects"])
        let namespace = options.string("namespace")
        guard let nodes = options.sequence("objects"), !nodes.isEmpty else {
            reader.problem("`\(options.qualified("objects"))` must list the objects to reconcile", at: options.node)
            return nil
        }
        var objects: [Object] = []
        var ok = true
        for (index, node) in nodes.enumerated() {
            guard let object = reader.object(node, path: options.qualified("objects") + "[\(index)]") else { ok = false; continue }
            object.rejectUnknownKeys(["kind", "name", "namespace", "apiVersion", "matchLabels"])
            guard let kind = object.string("kind", required: true) else { ok = false; continue }
            guard let resource = KubeResource.resolve(kind: kind, apiVersion: object.string("apiVersion")) else {
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
            objects.append(Object(resource: resource, namespace: object.string("namespace") ?? namespace, name: name, matchLabels: labels))
        }
        return ok ? ReconcileAction(objects: objects) : nil
    }
}

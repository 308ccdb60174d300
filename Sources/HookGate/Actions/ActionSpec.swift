import AsyncHTTPClient
import Logging
import NIOCore
import Yams

/// One configured action of an endpoint's `notify:` list, as its plug-in read it: what it does,
/// which events it can act on, and how to build the notifier that does it.
///
/// Each kind of action is one file with a type conforming to this and an ``ActionKind`` value
/// listed in ``ActionKind/all`` (docs/DESIGN.md, "Adding an action").
public protocol ActionSpec: Sendable {
    /// The bounded label of metrics and logs: `flux-api`, `log`, `reconcile`, `create`.
    var kind: String { get }

    /// What makes this action this action, in one canonical line: where it acts (a URL, objects,
    /// a resource, namespace and template file), not the template's text, so an edited template
    /// keeps the action's identity. Hashed, it is the action's id when the config gives none.
    var definition: String { get }

    /// What it does, for `hookgate verify` and logs; credentials redacted.
    var summary: String { get }

    /// Whether its notifier calls the Kubernetes API.
    var needsKubernetes: Bool { get }

    /// Whether it can act on `event` (a notifiable event, or any event when ``actsOnEveryEvent``);
    /// events it cannot are never handed to it.
    func accepts(_ event: HookEvent) -> Bool

    /// Whether it acts on every verified request, pings and events hookgate does not parse
    /// included (`forward`): its rule is matched against all of the request's events, and an
    /// empty rule takes them all.
    var actsOnEveryEvent: Bool { get }

    /// The body paths it reads (`$(hook.body.PATH)`): read at acceptance and queued with the events.
    var bodyPaths: Set<BodyPath> { get }

    /// The request headers it reads (`$(hook.header.NAME)`), as written: read at acceptance and
    /// queued with the events.
    var headerNames: Set<String> { get }

    /// The queue's name for this action's work: rows are ordered, limited and delivered per
    /// target, and found again by it after a restart. Derived from the action's id.
    func target(endpoint: String, id: String) -> String

    /// The notifiers that deliver this action's work: one with `target` as its own, or (for an
    /// action that fans out) one per destination, each with a target that starts with `target`.
    func makeNotifiers(target: String, resources: ActionResources) throws(ConfigError) -> [any Notifier]
}

extension ActionSpec {
    public var needsKubernetes: Bool { false }

    public var bodyPaths: Set<BodyPath> { [] }

    public var headerNames: Set<String> { [] }

    public func accepts(_ event: HookEvent) -> Bool { event.isNotifiable }

    public var actsOnEveryEvent: Bool { false }

    public func target(endpoint: String, id: String) -> String { "\(kind) \(endpoint)/\(id)" }
}

/// What notifiers are built with: the shared HTTP client, the Kubernetes client when the config
/// needs one, and the `log` action's sink.
public struct ActionResources: Sendable {
    public var client: HTTPClient
    public var kube: KubeClient?
    public var notifyTimeout: TimeAmount
    public var logNotifier: LogNotifier
    /// The endpoint the action belongs to.
    public var endpoint: Endpoint
    /// For problems: the config file and the endpoint's line.
    var file: String
    var line: Int?

    /// The Kubernetes client, or the config problem saying there is none.
    func kubernetes() throws(ConfigError) -> KubeClient {
        guard let kube else {
            throw ConfigError(problems: [ConfigProblem(
                file: file, line: line,
                message: "reconcile and create actions need the Kubernetes API, and hookgate has no way to reach it",
                fix: "run it in a pod (in-cluster service account), set KUBECONFIG, or pass --kubeconfig")])
        }
        return kube
    }
}

/// One kind of action: the names a config uses for it and how its options are read.
struct ActionKind: Sendable {
    /// `fluxAPI`; `create` and its alias `tekton`.
    var names: [String]
    /// Reads the options (nil for a bare name such as `- log`); records problems with their lines.
    var read: @Sendable (ActionInput) -> (any ActionSpec)?

    /// Every action a config can name. Adding an action: one file, one line here.
    static let all: [ActionKind] = [FluxAPIAction.kind, LogAction.kind, ReconcileAction.kind, CreateAction.kind, ForwardAction.kind]

    static var allNames: [String] { all.flatMap(\.names) }

    static func named(_ name: String) -> ActionKind? {
        all.first { $0.names.contains(name) }
    }
}

/// What an action's reader gets: its options and where they are.
struct ActionInput {
    /// The name the config used (`create` or `tekton`).
    var name: String
    /// Its options; nil when the entry is a bare name or has no value.
    var options: YAMLObject?
    /// The entry, for problems' lines.
    var node: Node
    /// `endpoints[0].notify[1]`.
    var path: String
    /// The config's `api` (flux-recv's Flux API URL).
    var api: String
    /// The config's `backends:` groups, by name (the `forward` action's `group`).
    var groups: [String: [Backend]]
    /// The config file's folder, that relative paths start from.
    var folder: String
    var reader: YAMLReader
}

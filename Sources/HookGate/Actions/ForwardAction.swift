import Foundation
import Yams

/// `forward: {backends: [URL | {url, timeout, required, resign}], pauseAfter, probeEvery}` or
/// `forward: {group: NAME}`: every verified request, sent on byte for byte to every backend, each
/// backend its own queued delivery (docs/forwarding.md).
public struct ForwardAction: ActionSpec {
    public var backends: [Backend]
    /// The top-level `backends:` group the list came from, if it did.
    public var group: String?
    public var pausing: Pausing

    public init(backends: [Backend], group: String? = nil, pausing: Pausing = Pausing()) {
        self.backends = backends
        self.group = group
        self.pausing = pausing
    }

    public var kind: String { "forward" }

    /// A group's name, not its members: a backend added to a group keeps the action's id.
    public var definition: String {
        group.map { "forward group \($0)" } ?? "forward " + backends.map(\.url.plain).joined(separator: " ")
    }

    public var summary: String {
        "forward to " + backends.map(\.url.redacted).joined(separator: ", ") + (group.map { " (group \($0))" } ?? "")
    }

    public var actsOnEveryEvent: Bool { true }

    public func accepts(_ event: HookEvent) -> Bool { true }

    /// One notifier, and so one queue, per backend: `forward <endpoint>/<id> <url>`.
    public func makeNotifiers(target: String, resources: ActionResources) throws(ConfigError) -> [any Notifier] {
        let signer = SourceKind.of(resources.endpoint.source).signer
        if signer == nil, backends.contains(where: { $0.resignKey != nil }) {
            throw ConfigError(problems: [ConfigProblem(
                file: resources.file, line: resources.line,
                message: "the endpoint's source \(resources.endpoint.source.rawValue) has no signature to re-sign, so its forward backends cannot have `resign`",
                fix: "remove `resign` (the request's headers pass through as they came)")])
        }
        return backends.map { backend in
            ForwardNotifier(target: target + " " + backend.url.redacted, backend: backend, client: resources.client, signer: signer,
                            endpoint: resources.endpoint, pausing: pausing)
        }
    }

    static let kind = ActionKind(names: ["forward"]) { input in
        guard let options = input.options else {
            input.reader.problem("`\(input.path).forward` needs `backends: [URL, …]` or `group: NAME`", at: input.node)
            return nil
        }
        options.rejectUnknownKeys(["backends", "group", "pauseAfter", "probeEvery"])
        var pausing = Pausing()
        if let failures = options.int("pauseAfter") {
            guard failures >= 1 else {
                input.reader.problem("`\(options.qualified("pauseAfter"))` must be 1 or more", at: options["pauseAfter"])
                return nil
            }
            pausing.failures = failures
        }
        if let node = options["probeEvery"] {
            guard let interval = DurationText.parse(node.string ?? ""), interval >= .seconds(1) else {
                input.reader.problem("`\(options.qualified("probeEvery"))` must be a duration of at least 1s, such as 30s or 5m", at: node)
                return nil
            }
            pausing.probeInterval = interval
        }
        switch (options["backends"], options.string("group")) {
        case (.some, .some):
            input.reader.problem("`\(input.path).forward` has both `backends` and `group`", at: input.node, fix: "keep one")
            return nil
        case (nil, let name?):
            guard let backends = input.groups[name] else {
                let known = input.groups.keys.sorted()
                input.reader.problem("`\(options.qualified("group"))`: no backend group named \"\(name)\"", at: options["group"],
                    fix: Spelling.closest(to: name, in: known).map { "did you mean `\($0)`?" }
                        ?? (known.isEmpty ? "define it under the top-level `backends:`" : "groups: " + known.joined(separator: ", ")))
                return nil
            }
            return ForwardAction(backends: backends, group: name, pausing: pausing)
        case (let node?, nil):
            guard let nodes = options.sequence("backends"),
                  let backends = Backend.readList(nodes, at: node, path: options.qualified("backends"), folder: input.folder, reader: input.reader)
            else { return nil }
            return ForwardAction(backends: backends, pausing: pausing)
        case (nil, nil):
            input.reader.problem("`\(input.path).forward` needs `backends: [URL, …]` or `group: NAME`", at: input.node)
            return nil
        }
    }
}

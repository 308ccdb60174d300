/// `log`: each event as one JSON line on standard output.
public struct LogAction: ActionSpec {
    public init() {}

    public var kind: String { "log" }
    public var definition: String { "log" }
    public var summary: String { "log" }

    /// One queue for every endpoint's `log`.
    public func target(endpoint: String, id: String) -> String { "log" }

    public func makeNotifiers(target: String, resources: ActionResources) -> [any Notifier] {
        [resources.logNotifier]
    }

    static let kind = ActionKind(names: ["log"]) { input in
        input.options?.rejectUnknownKeys([])
        return LogAction()
    }
}

import Synchronization

/// The notifiers the delivery worker delivers with, by target: those of the config being served.
/// A reload replaces them; queued work whose target is gone becomes a dead letter (its action was
/// removed), and notifiers no config references any more are released.
public final class NotifierRegistry: Sendable {
    public struct Snapshot: Sendable {
        public var targets: Set<String>
        /// Targets rows were queued under by versions that named actions by position
        /// (`reconcile gh#0`), each with the target of the action now at that position.
        public var renamed: [String: String]
        /// Changes at every replacement, so the worker notices one.
        public var generation: Int
    }

    private struct State {
        var byTarget: [String: any Notifier]
        var renamed: [String: String]
        var generation: Int
    }

    private let state: Mutex<State>

    public init(_ notifiers: [String: any Notifier] = [:], renamed: [String: String] = [:]) {
        state = Mutex(State(byTarget: notifiers, renamed: renamed, generation: 0))
    }

    /// The notifier for `target`, if the config being served has it.
    public func notifier(for target: String) -> (any Notifier)? {
        state.withLock { $0.byTarget[target] }
    }

    /// Every target known.
    public var targets: [String] {
        state.withLock { Array($0.byTarget.keys) }
    }

    public var snapshot: Snapshot {
        state.withLock { Snapshot(targets: Set($0.byTarget.keys), renamed: $0.renamed, generation: $0.generation) }
    }

    /// Serves `notifiers` from now on, in place of the ones before.
    public func replace(with notifiers: [String: any Notifier], renamed: [String: String]) {
        state.withLock { $0 = State(byTarget: notifiers, renamed: renamed, generation: $0.generation + 1) }
    }
}

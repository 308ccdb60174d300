import Synchronization

/// The notifiers the delivery worker delivers with, by target. A reload adds the new config's
/// notifiers and keeps the old ones, so a notification queued under the old config is still
/// delivered the way it was accepted.
public final class NotifierRegistry: Sendable {
    private let byTarget: Mutex<[String: any Notifier]>

    public init(_ notifiers: [String: any Notifier] = [:]) {
        byTarget = Mutex(notifiers)
    }

    /// The notifier for `target`, if any config since the start had it.
    public func notifier(for target: String) -> (any Notifier)? {
        byTarget.withLock { $0[target] }
    }

    /// Every target known.
    public var targets: [String] {
        byTarget.withLock { Array($0.keys) }
    }

    /// Adds `notifiers`, replacing those with the same targets.
    public func update(with notifiers: [String: any Notifier]) {
        byTarget.withLock { $0.merge(notifiers) { $1 } }
    }
}

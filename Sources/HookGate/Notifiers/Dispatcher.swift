import Logging

/// The seam between receiving and notifying. The server hands every verified request's events
/// to a dispatcher; this one calls the notifiers before the sender gets its answer. A durable
/// queue will be another dispatcher with the same shape.
public protocol Dispatcher: Sendable {
    func dispatch(_ events: [HookEvent], to notifiers: [any Notifier], context: NotifyContext) async throws(NotifyFailure)
}

/// Calls each notifier in turn, stopping at the first failure, and records metrics.
public struct SyncDispatcher: Dispatcher {
    public init() {}

    public func dispatch(_ events: [HookEvent], to notifiers: [any Notifier], context: NotifyContext) async throws(NotifyFailure) {
        let clock = ContinuousClock()
        for notifier in notifiers {
            let start = clock.now
            do {
                try await notifier.notify(events, context: context)
                HookMetrics.notification(notifier: notifier.kind, outcome: "ok", duration: clock.now - start)
            } catch {
                HookMetrics.notification(notifier: notifier.kind, outcome: error.kind.rawValue, duration: clock.now - start)
                throw error
            }
        }
    }
}

/// One call of a notifier, timed and counted: the same for `delivery: sync` (while the sender
/// waits) and for the queue's worker.
enum DeliveryAttempt {
    /// Nil when the notifier succeeded.
    static func run(_ notifier: any Notifier, events: [HookEvent], context: NotifyContext, metrics: HookMetrics) async -> NotifyFailure? {
        let clock = ContinuousClock()
        let start = clock.now
        do throws(NotifyFailure) {
            try await notifier.notify(events, context: context)
            metrics.notification(notifier: notifier.kind, backend: notifier.backendLabel, outcome: "ok", duration: clock.now - start)
            return nil
        } catch {
            metrics.notification(notifier: notifier.kind, backend: notifier.backendLabel, outcome: error.kind.rawValue, duration: clock.now - start)
            return error
        }
    }
}

/// Which of a route's actions get which of a request's events.
extension Receiver.Route {
    /// The outcome of matching events against the route's actions.
    enum Selection {
        /// Each notifier with the events its rule chose and that it can act on.
        case work([(notifier: any Notifier, events: [HookEvent])])
        /// Rules chose events, but the actions they belong to cannot act on them (a trigger reaching
        /// only `fluxAPI`, which needs a git or image change); the note says so to the sender.
        case unsupported(note: String)
        /// No action's rule chose any event.
        case unmatched
    }

    /// Matches `events` (all notifiable) against every action's rule and what its notifier accepts.
    func select(_ events: [HookEvent]) -> Selection {
        var work: [(notifier: any Notifier, events: [HookEvent])] = []
        var refusing: [String] = []
        var refused: Set<String> = []
        for step in steps {
            let chosen = events.filter(step.rule.matches)
            let accepted = chosen.filter(step.notifier.accepts)
            if !accepted.isEmpty {
                work.append((step.notifier, accepted))
            } else if !chosen.isEmpty {
                if !refusing.contains(step.notifier.kind) { refusing.append(step.notifier.kind) }
                refused.formUnion(chosen.map(\.kindName))
            }
        }
        if !work.isEmpty { return .work(work) }
        guard !refusing.isEmpty else { return .unmatched }
        let kinds = refused.sorted().joined(separator: ", ")
        return .unsupported(note: "\(refusing.joined(separator: ", ")) cannot act on a \(kinds) event; nothing to notify")
    }
}

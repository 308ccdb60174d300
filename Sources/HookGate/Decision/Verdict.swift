import HTTPTypes

/// What hookgate makes of one request at one endpoint, decided once (``decide(_:endpoint:provider:maxEvents:)``)
/// and then only acted on: the server answers it, `hookgate verify` explains it. Every answer but
/// those of delivery itself (queued, duplicate, 502 …) is one of these.
public enum Verdict: Sendable {
    /// Not verified, not understood, or too big to act on.
    case refused(Refusal)
    /// A test delivery (`ping`): answered Pong, nothing notified.
    case pong(events: [HookEvent])
    /// Verified, but nothing in it is a change hookgate notifies about.
    case ignored(events: [HookEvent])
    /// Rules chose events, but the actions they belong to cannot act on them.
    case unsupported(events: [HookEvent], note: String)
    /// No action's rule chose any event.
    case unmatched(events: [HookEvent])
    /// Work for the endpoint's actions.
    case work(Work)

    public struct Refusal: Sendable {
        public enum Stage: Sendable {
            case verification
            case parsing
            /// Verified and parsed, but over a limit.
            case limits
        }

        public var failure: HookFailure
        public var outcome: Outcome
        public var stage: Stage
    }

    /// One action and the events its rule chose that it can act on.
    public struct Choice: Sendable {
        /// Its position in the endpoint's `notify:`.
        public var action: Int
        public var events: [HookEvent]
    }

    public struct Work: Sendable {
        /// Every notifiable event of the request (every event, when only an action that acts on
        /// every event chose some).
        public var events: [HookEvent]
        public var choices: [Choice]
        /// The sender's id for the delivery, when it gave one (verified where the source can).
        public var senderID: String?
        /// The id the delivery is known by from here on: the sender's, else a fresh one
        /// (docs/delivery.md#delivery-ids).
        public var deliveryID: String
        /// The keys under which it counts as seen (docs/delivery.md#duplicates).
        public var dedupeKeys: [String]
    }

    /// Runs `provider` on `request` (verify, then parse), bounds the events, and matches them
    /// against `endpoint`'s actions. No side effects but the provider's (GCR fetches Google's keys).
    public static func decide(_ request: WebhookRequest, endpoint: Endpoint, provider: any Provider, maxEvents: Int) async -> Verdict {
        do throws(HookFailure) {
            try await provider.verify(request)
        } catch {
            return .refused(Refusal(failure: error, outcome: error.status == .unauthorized ? .unauthorized : .badRequest, stage: .verification))
        }
        var events: [HookEvent]
        do throws(HookFailure) {
            events = try provider.parse(request)
        } catch {
            return .refused(Refusal(failure: error, outcome: error.status == .unauthorized ? .unauthorized : .badRequest, stage: .parsing))
        }
        guard events.count <= maxEvents else {
            return .refused(Refusal(
                failure: HookFailure(status: .contentTooLarge, message: "too many events in one delivery (\(events.count); at most \(maxEvents))",
                                     reason: "the request carries \(events.count) events, more than limits.maxEventsPerDelivery (\(maxEvents))"),
                outcome: .tooManyEvents, stage: .limits))
        }
        let values = bodyValues(request, endpoint: endpoint)
        if !values.isEmpty { for index in events.indices { events[index].bodyValues = values } }
        let ping = events.contains { $0.kind == .ping }
        let notifiable = ping ? [] : events.filter(\.isNotifiable)

        var choices: [Choice] = []
        var refusing: [String] = []
        var refused: Set<String> = []
        for (index, action) in endpoint.notify.enumerated() {
            let chosen = Self.chosen(by: action, from: action.spec.actsOnEveryEvent ? events : notifiable)
            let accepted = chosen.filter(action.spec.accepts)
            if !accepted.isEmpty {
                choices.append(Choice(action: index, events: accepted))
            } else if !chosen.isEmpty {
                if !refusing.contains(action.spec.kind) { refusing.append(action.spec.kind) }
                refused.formUnion(chosen.map(\.kindName))
            }
        }
        guard !choices.isEmpty else {
            if ping { return .pong(events: events) }
            guard !notifiable.isEmpty else { return .ignored(events: events) }
            guard !refusing.isEmpty else { return .unmatched(events: events) }
            let kinds = refused.sorted().joined(separator: ", ")
            return .unsupported(events: events, note: "\(refusing.joined(separator: ", ")) cannot act on a \(kinds) event; nothing to notify")
        }
        // Each action's events keep the body values its templates read, and no others.
        if !values.isEmpty {
            for index in choices.indices {
                let kept = Set(endpoint.notify[choices[index].action].spec.bodyPaths.map(\.description))
                for event in choices[index].events.indices {
                    choices[index].events[event].bodyValues = values.filter { kept.contains($0.key) }
                }
            }
        }
        for index in choices.indices {
            let names = endpoint.notify[choices[index].action].spec.headerNames
            guard !names.isEmpty else { continue }
            var values: [String: String] = [:]
            for name in names {
                if let field = HTTPField.Name(name), let value = request.headers[field] { values[name] = value }
            }
            for event in choices[index].events.indices { choices[index].events[event].headerValues = values }
        }
        let senderID = DeliveryIdentity.senderID(provider.acceptedDeliveryID(of: request))
        return .work(Work(
            events: notifiable.isEmpty ? events : notifiable, choices: choices, senderID: senderID, deliveryID: senderID ?? DeliveryIdentity.fresh(),
            dedupeKeys: Deliveries.dedupeKeys(endpoint: endpoint.name, senderID: senderID, body: request.body, bodySigned: provider.signsBody(request))))
    }

    /// The values at the body paths `endpoint`'s rules test and its templates read, from one parse
    /// of the body (the JSON inside `payload=` for forms).
    static func bodyValues(_ request: WebhookRequest, endpoint: Endpoint) -> [String: String] {
        let paths = endpoint.notify.reduce(into: Set<BodyPath>()) { $0.formUnion($1.rule.bodyPaths.union($1.spec.bodyPaths)) }
        guard !paths.isEmpty else { return [:] }
        let json = request.mediaType == "application/x-www-form-urlencoded" ? ((try? Payload.formPayload(request.body)) ?? request.body) : request.body
        return BodyPath.values(paths, in: json)
    }

    /// The events of `events` that `action`'s rule chooses: an action that acts on every event
    /// (`forward`) takes them all when its rule is empty.
    static func chosen(by action: Action, from events: [HookEvent]) -> [HookEvent] {
        action.spec.actsOnEveryEvent && action.rule == .any ? events : events.filter(action.rule.matches)
    }

    /// The events' names, sorted and joined (`push`, `ping,push`), for answers and logs.
    static func names(_ events: [HookEvent]) -> String {
        Set(events.map(\.name)).sorted().joined(separator: ",")
    }

    /// The answer, the outcome counted and the log line of every verdict but ``work(_:)``, whose
    /// answer depends on delivery.
    public var answer: (status: HTTPResponse.Status, body: String, outcome: Outcome, log: String)? {
        switch self {
        case .refused(let refusal):
            return (refusal.failure.status, refusal.failure.message, refusal.outcome, "refused a webhook: \(refusal.failure.message)")
        case .pong:
            return (.ok, "Pong", .pong, "answered a ping")
        case .ignored(let events):
            let names = Self.names(events)
            return (.ok, "event \(names.isEmpty ? "(none)" : names) accepted; nothing to notify", .ignored, "nothing to notify for this event")
        case .unsupported(let events, let note):
            return (.ok, "event \(Self.names(events)) accepted; \(note)", .ignored, "the actions cannot act on this event")
        case .unmatched(let events):
            return (.ok, "event \(Self.names(events)) accepted; no action's rule matches it", .unmatched, "no action's rule matches this event")
        case .work:
            return nil
        }
    }
}

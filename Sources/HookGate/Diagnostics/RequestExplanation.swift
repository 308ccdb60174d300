import Foundation
import HTTPTypes

/// What hookgate makes of one request at one endpoint, checked offline and explained step by step:
/// the check, its outcome (with the same cause and hints the server logs), the events, and which
/// actions would act on them. `hookgate verify` prints it.
///
/// ```swift
/// let explanation = await RequestExplanation.explain(request, endpoint: endpoint, googleKeys: keys)
/// print(explanation.report)
/// ```
public struct RequestExplanation: Sendable {
    public var endpoint: Endpoint
    /// What the endpoint's provider checks.
    public var checks: String
    public var bodyBytes: Int
    /// The sender's id for the delivery, when its headers carry one.
    public var deliveryID: String?
    /// Why verification failed; nil when it passed.
    public var verification: HookFailure?
    /// Why parsing failed; nil when it passed or was not reached.
    public var parsing: HookFailure?
    public var events: [HookEvent]
    /// Each of the endpoint's actions and what it would do with the events.
    public var actions: [ActionOutcome]
    /// About the capture rather than the request (a Content-Length that differs from the body …).
    public var captureNotes: [String]

    /// One `notify:` entry and the events its rule picks.
    public struct ActionOutcome: Sendable {
        /// `log`, `fluxAPI http://…`, `reconcile 2 objects`, …
        public var action: String
        public var rule: String
        /// The notifiable events it would get, described.
        public var acting: [String]
        /// The notifiable events it would not get, each with why.
        public var skipping: [String]
    }

    /// True when the server would accept the request: verified and parsed.
    public var accepted: Bool { verification == nil && parsing == nil }

    /// What the server decided (``Verdict``): the answer below is the server's own.
    public var verdict: Verdict

    /// Decides `request` as the server would (``Verdict/decide(_:endpoint:provider:maxEvents:)``)
    /// and explains the decision. Only GoogleContainerRegistry endpoints with `gcr.audience` use
    /// the network (Google's keys).
    public static func explain(
        _ request: WebhookRequest, endpoint: Endpoint, googleKeys: GoogleKeyStore, maxEvents: Int = Limits().maxEventsPerDelivery
    ) async -> RequestExplanation {
        let provider = ProviderFactory.make(for: endpoint, googleKeys: googleKeys)
        let verdict = await Verdict.decide(request, endpoint: endpoint, provider: provider, maxEvents: maxEvents)
        var explanation = RequestExplanation(
            endpoint: endpoint, checks: provider.checks, bodyBytes: request.body.count, deliveryID: provider.deliveryID(of: request), verification: nil, parsing: nil,
            events: [], actions: [], captureNotes: captureNotes(request), verdict: verdict)
        switch verdict {
        case .refused(let refusal):
            switch refusal.stage {
            case .verification: explanation.verification = Diagnosis.annotated(refusal.failure, request: request, source: endpoint.source)
            case .parsing: explanation.parsing = Diagnosis.annotated(refusal.failure, request: request, source: endpoint.source)
            case .limits: explanation.parsing = refusal.failure
            }
            return explanation
        case .pong(let events), .ignored(let events), .unsupported(let events, _), .unmatched(let events):
            explanation.events = events
        case .work(let work):
            explanation.events = (try? provider.parse(request)) ?? work.events
        }
        let values = Verdict.bodyValues(request, endpoint: endpoint)
        if !values.isEmpty { for index in explanation.events.indices { explanation.events[index].bodyValues = values } }
        let notifiable = explanation.events.filter(\.isNotifiable)
        explanation.actions = endpoint.notify.map { action in
            let every = action.spec.actsOnEveryEvent
            let seen = every ? explanation.events : notifiable
            let chosen = Verdict.chosen(by: action, from: seen)
            return ActionOutcome(
                action: action.spec.summary, rule: every && action.rule == .any ? "every verified request" : action.rule.summary,
                acting: chosen.filter(action.spec.accepts).map(describe),
                skipping: seen.compactMap { event in
                    if !chosen.contains(event), let mismatch = action.rule.mismatch(event) { return "\(describe(event)): \(mismatch)" }
                    return action.spec.accepts(event) ? nil : "\(describe(event)): \(action.spec.kind) cannot act on a \(event.kindName) event"
                })
        }
        return explanation
    }

    /// What the server would answer, as it answers (`200 queued`, `401 invalid signature` …).
    public var answer: String {
        if let answer = verdict.answer { return "\(answer.status.code) \(answer.body)" }
        switch endpoint.delivery {
        case .queued: return "200 queued (or 200 duplicate when the same delivery came within delivery.duplicateWindow)"
        case .sync: return "200 OK once every action succeeded (502 when one fails, 504 when one times out)"
        }
    }

    /// The explanation for a terminal, one fact per line.
    public var report: String {
        var lines = [
            "endpoint  \(endpoint.name) (\(endpoint.source.rawValue), key file\(endpoint.keyPaths.count == 1 ? "" : "s") \(endpoint.keyPaths.joined(separator: ", ")), \(endpoint.path))",
            "checks    \(checks)",
            "body      \(bodyBytes) bytes",
        ]
        if let deliveryID { lines.append("delivery  \(deliveryID)") }
        lines += captureNotes.map { "note      " + $0 }
        if let verification {
            lines.append("result    NOT VERIFIED: \(verification.cause)")
            lines += verification.hints.map { "hint      " + $0 }
        } else {
            lines.append("result    verified")
            if let parsing {
                lines.append("parse     FAILED: \(parsing.cause)")
                lines += parsing.hints.map { "hint      " + $0 }
            } else {
                lines += events.isEmpty ? ["events    none"] : events.map { "event     " + Self.describe($0) }
                for (index, outcome) in actions.enumerated() {
                    lines.append("action    #\(index + 1) \(outcome.action), \(outcome.rule.hasPrefix("when") ? outcome.rule : "for " + outcome.rule)")
                    lines += outcome.acting.map { "  acts on    " + $0 }
                    lines += outcome.skipping.map { "  skips      " + $0 }
                }
            }
        }
        lines.append("answer    \(answer)")
        return lines.joined(separator: "\n")
    }

    /// Problems of the capture itself, which a server never sees.
    static func captureNotes(_ request: WebhookRequest) -> [String] {
        guard let declared = request.headers[.contentLength].flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }),
              declared != request.body.count else { return [] }
        return ["the headers say Content-Length \(declared), but the body file has \(request.body.count) bytes: the body was not saved exactly as sent (an editor adds a final newline, a web page re-indents JSON)"]
    }

    static func describe(_ event: HookEvent) -> String {
        switch event.kind {
        case .gitPush(let push):
            let what = push.branch.map { "branch \($0)" } ?? push.tag.map { "tag \($0)" } ?? push.ref
            if push.isDeletion { return "\(event.name): \(what) deleted in \(push.fullName)" }
            let commits = push.after.map { " at \($0.prefix(12))" } ?? ""
            return "\(event.name): git push of \(what) in \(push.fullName)\(commits) (\(push.sshURL))"
        case .imagePush(let push):
            let name = push.image.domain.isEmpty ? push.image.repository : push.image.domain + "/" + push.image.repository
            return "\(event.name): image push of \(name)\(push.image.tag.map { ":" + $0 } ?? "")\(push.digest.map { " (" + $0 + ")" } ?? "")"
        case .pullRequest(let pullRequest):
            let fork = pullRequest.fromFork ? " from a fork" : ""
            return "\(event.name): pull request #\(pullRequest.number) \(pullRequest.action.rawValue)\(fork), \(pullRequest.headRef) into \(pullRequest.baseRef) of \(pullRequest.fullName) at \(pullRequest.headSHA.prefix(12))"
        case .release(let release):
            return "\(event.name): release \(release.tag)\(release.name.flatMap { $0.isEmpty ? nil : " (\($0))" } ?? "") of \(release.fullName)"
        case .trigger:
            return "\(event.name): a trigger (no git or image facts; reconcile, create and log act on it)"
        case .ping:
            return "\(event.name): ping (answered Pong unless an action forwards it)"
        case .other:
            return "\(event.name): not a push, nothing notified"
        }
    }
}

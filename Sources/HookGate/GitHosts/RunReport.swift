import Foundation

/// `report: {context, url}` of a `create` action: the created run's state is set on the commit
/// it runs for (docs/git-hosts.md#run-status). The created object carries what the report needs
/// (label and annotations below), so a restart, or another replica taking over, finds every run
/// still to report by listing them.
public struct RunReport: Sendable, Equatable {
    /// The status's name at the host (`hookgate/tekton`).
    public var context: String
    /// The link, a template: `$(hook.NAME)` filled at creation, `$(object.name)` and
    /// `$(object.namespace)` with the created object's; nil: no link.
    public var url: String?

    public init(context: String, url: String?) {
        self.context = context
        self.url = url
    }

    /// The label that selects the runs to report on.
    public static let label = "hookgate.io/report"
    static let targetAnnotation = "hookgate.io/report-target"
    static let repositoryAnnotation = "hookgate.io/report-repository"
    static let shaAnnotation = "hookgate.io/report-sha"
    static let urlAnnotation = "hookgate.io/report-url"
    static let sourceAnnotation = "hookgate.io/report-source"
    /// The GitHub App installation the delivery came from: reports become check runs made with its token.
    static let installationAnnotation = "hookgate.io/report-installation"

    /// The commit an event is about: a push's new commit, a pull request's head; nil for events
    /// without one (an image, a trigger, a deleted branch).
    static func commit(of event: HookEvent) -> (repository: String, sha: String)? {
        switch event.kind {
        case .gitPush(let push):
            guard let sha = push.after, !sha.isEmpty, !sha.allSatisfy({ $0 == "0" }), !push.fullName.isEmpty else { return nil }
            return (push.fullName, sha)
        case .pullRequest(let pullRequest):
            guard !pullRequest.headSHA.isEmpty, !pullRequest.fullName.isEmpty else { return nil }
            return (pullRequest.fullName, pullRequest.headSHA)
        default:
            return nil
        }
    }

    /// The annotations a created object carries for its report; nil when the event has no commit.
    func annotations(for event: HookEvent, variables: [String: ObjectTemplate.Variable], statusTarget: String, source: Source) -> [String: String]? {
        guard let commit = Self.commit(of: event) else { return nil }
        var annotations = [
            Self.targetAnnotation: statusTarget, Self.repositoryAnnotation: commit.repository, Self.shaAnnotation: commit.sha,
            Self.sourceAnnotation: source.rawValue,
        ]
        if let installation = event.bodyValues["installation.id"] { annotations[Self.installationAnnotation] = installation }
        if let url {
            annotations[Self.urlAnnotation] = Self.fill(url, prefix: "hook") { name in
                if case .string(let value)? = variables[name] { value } else { nil }
            }
        }
        return annotations
    }

    /// `text` with each `$(PREFIX.NAME)` replaced by `value(NAME)` (left as written when nil).
    static func fill(_ text: String, prefix: String, value: (String) -> String?) -> String {
        var result = ""
        var rest = Substring(text)
        while let start = rest.range(of: "$(" + prefix + ".") {
            guard let end = rest[start.upperBound...].firstIndex(of: ")") else { break }
            let name = String(rest[start.upperBound..<end])
            result += rest[..<start.lowerBound]
            result += value(name) ?? String(rest[start.lowerBound...end])
            rest = rest[rest.index(after: end)...]
        }
        return result + rest
    }
}

/// A created run as its report reads it.
struct ReportedRun: Sendable, Equatable {
    var uid: String
    var namespace: String
    var name: String
    var kind: String
    var endpoint: String
    var deliveryID: String
    var source: String
    var target: String
    var repository: String
    var sha: String
    var url: String?
    var installation: Int?
    var state: CommitStatus.State
    var description: String

    /// Reads an object's JSON; nil when it lacks what a report needs.
    init?(json: Data) {
        guard let object = (try? JSONSerialization.jsonObject(with: json)) as? [String: Any],
              let metadata = object["metadata"] as? [String: Any], let name = metadata["name"] as? String,
              let namespace = metadata["namespace"] as? String else { return nil }
        let labels = metadata["labels"] as? [String: String] ?? [:]
        let annotations = metadata["annotations"] as? [String: String] ?? [:]
        guard let target = annotations[RunReport.targetAnnotation], let repository = annotations[RunReport.repositoryAnnotation],
              let sha = annotations[RunReport.shaAnnotation] else { return nil }
        self.uid = metadata["uid"] as? String ?? namespace + "/" + name
        self.name = name
        self.namespace = namespace
        self.kind = object["kind"] as? String ?? "object"
        self.endpoint = labels[CreateNotifier.endpointLabel] ?? ""
        self.deliveryID = labels[CreateNotifier.deliveryLabel] ?? ""
        self.source = annotations[RunReport.sourceAnnotation] ?? ""
        self.target = target
        self.repository = repository
        self.sha = sha
        self.installation = annotations[RunReport.installationAnnotation].flatMap { Int($0) }
        self.url = annotations[RunReport.urlAnnotation].map { url in
            RunReport.fill(url, prefix: "object") { field in field == "name" ? name : field == "namespace" ? namespace : nil }
        }
        // Tekton's (and Knative's) `Succeeded` condition: Unknown while running.
        let conditions = (object["status"] as? [String: Any])?["conditions"] as? [[String: Any]] ?? []
        let succeeded = conditions.first { $0["type"] as? String == "Succeeded" }
        let reason = succeeded?["reason"] as? String
        let message = succeeded?["message"] as? String
        switch succeeded?["status"] as? String {
        case "True":
            state = .success
        case "False":
            let lowered = (reason ?? "").lowercased()
            state = lowered.contains("cancel") || lowered.contains("timeout") || lowered.contains("timedout") ? .error : .failure
        default:
            state = .pending
        }
        let detail = [reason, message].compactMap { $0?.isEmpty == false ? $0 : nil }.joined(separator: ": ")
        description = "\(kind) \(name)" + (detail.isEmpty ? (state == .pending ? " created" : "") : ": " + detail)
    }

    /// The run as a queued event for its ``StatusNotifier``.
    var event: HookEvent {
        var values = ["object.namespace": namespace, "object.name": name, "object.uid": uid, "repository": repository, "sha": sha,
                      "state": state.rawValue, "description": description]
        values["url"] = url
        values["installation"] = installation.map(String.init)
        return HookEvent(name: "run-status", kind: .trigger, bodyValues: values)
    }
}

import Crypto
import Foundation
import Logging

/// Creates an object (a Tekton PipelineRun or TaskRun, or any namespaced object) from a template
/// for each event, like Tekton Triggers does, but exactly once per delivery: the name comes from
/// the delivery id, so a redelivery, a retry or a second replica finds it already there.
public struct CreateNotifier: Notifier {
    public let kind = "create"
    public let target: String
    let resource: KubeResource
    let namespace: String
    let template: ObjectTemplate
    /// `body.PATH` and `header.NAME` placeholders every event must have a value for.
    let required: [String]
    /// The Secret name of an installation (id, account), when the endpoint receives a GitHub App's webhooks.
    let installationSecret: (@Sendable (Int, String) -> String)?
    let client: KubeClient
    /// With `report:`: what the created object carries for it, and the status notifier's target.
    var report: (RunReport, statusTarget: String)?

    /// The labels every created object carries.
    public static let endpointLabel = "hookgate.io/endpoint"
    public static let eventLabel = "hookgate.io/event"
    public static let deliveryLabel = "hookgate.io/delivery"

    public init(
        target: String, resource: KubeResource, namespace: String, template: ObjectTemplate, required: [String] = [],
        installationSecret: (@Sendable (Int, String) -> String)? = nil, client: KubeClient
    ) {
        self.installationSecret = installationSecret
        self.required = required
        self.target = target
        self.resource = resource
        self.namespace = namespace
        self.template = template
        self.client = client
    }

    public func notify(_ events: [HookEvent], context: NotifyContext) async throws(NotifyFailure) {
        for event in events {
            let missing = required.filter { name in
                name.hasPrefix("body.") ? event.bodyValues[String(name.dropFirst(5))] == nil : event.headerValues[String(name.dropFirst(7))] == nil
            }
            if !missing.isEmpty {
                throw .final("the \(event.name) event has no value for " + missing.map { "$(hook.\($0))" }.joined(separator: ", ")
                    + ", which the action's `required` lists; nothing was created")
            }
        }
        for (index, event) in events.enumerated() {
            let object = render(event, index: index, context: context)
            let name = object["metadata"]?["name"]?.string ?? ""
            do throws(KubeError) {
                try await client.create(resource, namespace: namespace, object: object.json, name: name)
                context.logger.info("created \(resource.kind) \(namespace)/\(name)")
            } catch where error.reason == .alreadyExists {
                context.logger.info("\(resource.kind) \(namespace)/\(name) exists already (a redelivery); nothing to do")
            } catch {
                throw error.notifyFailure
            }
        }
    }

    /// The object for one event: placeholders filled, a name derived from the delivery, labels.
    func render(_ event: HookEvent, index: Int, context: NotifyContext) -> ObjectTemplate.Value {
        let variables = Self.variables(event, context: context, installationSecret: installationSecret)
        var object = template.render(variables)
        var metadata = object["metadata"] ?? .object([])
        let prefix = metadata["generateName"]?.string ?? metadata["name"]?.string.map { $0 + "-" } ?? resource.kind.lowercased() + "-"
        let digest = Self.nameDigest(target: target, deliveryID: context.deliveryID, index: index)
        metadata.set("generateName", nil)
        metadata.set("name", .string(Self.dnsName(prefix, maxLength: 52) + digest))
        metadata.set("namespace", .string(namespace))
        // Label values are at most 63 of [A-Za-z0-9_.-]: a value from the webhook (`feature/x`, a
        // long tag) is made one, or the API server refuses the object (422) and it is never made.
        var labels = metadata["labels"] ?? .object([])
        if case .object(let pairs) = labels {
            labels = .object(pairs.map { key, value in (key, value.string.map { .string(Self.labelValue($0)) } ?? value) })
        }
        labels.set(Self.endpointLabel, .string(Self.labelValue(context.endpoint)))
        labels.set(Self.eventLabel, .string(Self.labelValue(event.name)))
        labels.set(Self.deliveryLabel, .string(Self.labelValue(context.deliveryID)))
        if let (report, statusTarget) = report,
           let annotations = report.annotations(for: event, variables: variables, statusTarget: statusTarget, source: context.source) {
            labels.set(RunReport.label, .string("true"))
            var existing = metadata["annotations"] ?? .object([])
            for (key, value) in annotations.sorted(by: { $0.key < $1.key }) { existing.set(key, .string(value)) }
            metadata.set("annotations", existing)
        }
        metadata.set("labels", labels)
        object.set("metadata", metadata)
        return object
    }

    /// The end of a created object's name: the same for the same action, delivery and event, so
    /// a retry, a restart or a second replica finds the object made before.
    static func nameDigest(target: String, deliveryID: String, index: Int) -> Substring {
        SHA256.hash(data: Data("\(target)\n\(deliveryID)\n\(index)".utf8)).hexString.prefix(10)
    }

    /// The values `$(hook.NAME)` stands for.
    static func variables(
        _ event: HookEvent, context: NotifyContext, installationSecret: (@Sendable (Int, String) -> String)? = nil
    ) -> [String: ObjectTemplate.Variable] {
        var values: [String: ObjectTemplate.Variable] = [
            "event": .string(event.name), "deliveryID": .string(context.deliveryID),
            "endpoint": .string(context.endpoint), "source": .string(context.source.rawValue),
        ]
        // A delivery from a GitHub App's installation: its id, and the Secret hookgate keeps its token in.
        if let installation = event.bodyValues["installation.id"] {
            values["installationID"] = .string(installation)
            if let installationSecret, let id = Int(installation) {
                values["installationSecret"] = .string(installationSecret(id, event.bodyValues["installation.account.login"] ?? ""))
            }
        }
        switch event.kind {
        case .gitPush(let push):
            values["repository"] = .string(push.fullName)
            values["repoURL"] = .string(push.httpsURL ?? push.sshURL)
            values["sshURL"] = .string(push.sshURL)
            values["ref"] = .string(push.ref)
            values["branch"] = .string(push.branch ?? "")
            values["tag"] = .string(push.tag ?? "")
            values["revision"] = .string(push.after ?? "")
            values["before"] = .string(push.before ?? "")
            values["sender"] = .string(push.sender ?? "")
            values["changedFiles"] = .list(push.changedFiles ?? [])
        case .imagePush(let push):
            let name = push.image.domain.isEmpty ? push.image.repository : push.image.domain + "/" + push.image.repository
            values["image"] = .string(name)
            values["registry"] = .string(push.image.domain)
            values["imageRepository"] = .string(push.image.repository)
            values["imageTag"] = .string(push.image.tag ?? "")
            values["tag"] = .string(push.image.tag ?? "")
            values["digest"] = .string(push.digest ?? "")
        case .pullRequest(let pullRequest):
            values["repository"] = .string(pullRequest.fullName)
            values["repoURL"] = .string(pullRequest.repoURL)
            values["pullRequest"] = .string(String(pullRequest.number))
            values["pullRequestURL"] = .string(pullRequest.url ?? "")
            values["action"] = .string(pullRequest.action.rawValue)
            values["headRef"] = .string(pullRequest.headRef)
            values["headRepoURL"] = .string(pullRequest.headRepoURL ?? pullRequest.repoURL)
            values["baseRef"] = .string(pullRequest.baseRef)
            values["revision"] = .string(pullRequest.headSHA)
            values["title"] = .string(pullRequest.title ?? "")
            values["author"] = .string(pullRequest.author ?? "")
            values["sender"] = .string(pullRequest.author ?? "")
            values["fromFork"] = .string(pullRequest.fromFork ? "true" : "false")
        case .release(let release):
            values["repository"] = .string(release.fullName)
            values["repoURL"] = .string(release.repoURL)
            values["tag"] = .string(release.tag)
            values["ref"] = .string("refs/tags/" + release.tag)
            values["releaseName"] = .string(release.name.flatMap { $0.isEmpty ? nil : $0 } ?? release.tag)
            values["releaseURL"] = .string(release.url ?? "")
            values["author"] = .string(release.author ?? "")
            values["sender"] = .string(release.author ?? "")
        case .trigger, .ping, .other:
            break
        }
        for name in ObjectTemplate.variables where values[name] == nil { values[name] = .string("") }
        // A path the body does not have renders empty, as an unknown variable does.
        for (path, value) in event.bodyValues { values["body." + path] = .string(value) }
        for (name, value) in event.headerValues { values["header." + name] = .string(value) }
        return values
    }

    /// Lowercase letters, digits and `-`, at most `maxLength` characters: usable in a name.
    static func dnsName(_ text: String, maxLength: Int) -> String {
        var name = String(text.lowercased().map { $0.isLetter && $0.isASCII || $0.isNumber && $0.isASCII ? $0 : "-" }.prefix(maxLength))
        while name.hasPrefix("-") { name.removeFirst() }
        if name.isEmpty { name = "run-" }
        return name
    }

    /// A valid label value: at most 63 of `[A-Za-z0-9_.-]`, starting and ending alphanumeric.
    static func labelValue(_ text: String) -> String {
        var value = String(text.map { $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) ? $0 : "-" }.prefix(63))
        while let last = value.last, !(last.isLetter || last.isNumber) { value.removeLast() }
        while let first = value.first, !(first.isLetter || first.isNumber) { value.removeFirst() }
        return value
    }
}

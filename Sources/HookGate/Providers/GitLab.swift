import Foundation
import HTTPTypes

/// GitLab: the secret token sent as `X-Gitlab-Token`, compared in constant time.
struct GitLab: Provider {
    let key: EndpointKey

    static let token = HTTPField.Name("X-Gitlab-Token")!
    static let event = HTTPField.Name("X-Gitlab-Event")!
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    static let eventUUID = HTTPField.Name("X-Gitlab-Event-UUID")!

    let checks = "X-Gitlab-Token equals the endpoint's key (compared in constant time; the body is not signed)"

    func verify(_ request: WebhookRequest) throws(HookFailure) {
        guard let token = request.header(Self.token) else {
            throw Diagnosis.missingHeader(
                ["X-Gitlab-Token"], source: "GitLab", request: request, message: "missing token",
                fix: "GitLab sends the token only when the webhook has one: set the webhook's secret token to the key file's content")
        }
        guard TokenCheck.matches(token, key: key) else {
            throw Diagnosis.tokenMismatch(header: "X-Gitlab-Token", token: token, key: key, source: "GitLab", message: "invalid token", setting: "secret token")
        }
    }

    func parse(_ request: WebhookRequest) throws(HookFailure) -> [HookEvent] {
        guard let name = request.header(Self.event), !name.isEmpty else {
            throw .badRequest("missing X-Gitlab-Event header", reason: "no X-Gitlab-Event header; GitLab sends it with every delivery, so a proxy dropped it or the sender is not GitLab")
        }
        switch name {
        case "Push Hook", "Tag Push Hook":
            let push = try Payload.decode(PushPayload.self, from: request.body, event: "GitLab \(name)")
            return [HookEvent(name: name, kind: .gitPush(push.event))]
        case "System Hook":
            let kind = try Payload.decode(ObjectKind.self, from: request.body, event: "GitLab System Hook")
            guard let kindName = kind.object_kind ?? kind.event_name, kindName == "push" || kindName == "tag_push" else {
                return [HookEvent(name: name, kind: .other)]
            }
            let push = try Payload.decode(PushPayload.self, from: request.body, event: "GitLab System Hook")
            return [HookEvent(name: name, kind: .gitPush(push.event))]
        default:
            return [HookEvent(name: name, kind: .other)]
        }
    }

    func deliveryID(of request: WebhookRequest) -> String? {
        request.header(Self.idempotencyKey) ?? request.header(Self.eventUUID)
    }

    /// Project hooks name the kind in `object_kind`, system hooks in `event_name`.
    struct ObjectKind: Decodable {
        var object_kind: String?
        var event_name: String?
    }

    struct PushPayload: Decodable {
        var ref: String
        var before: String?
        var after: String?
        var project: Project
        var user_username: String?
        var commits: [PushedCommit]?

        struct Project: Decodable {
            var path_with_namespace: String
            var git_ssh_url: String
            var git_http_url: String?
        }

        var event: GitPush {
            GitPush(fullName: project.path_with_namespace, sshURL: project.git_ssh_url, httpsURL: project.git_http_url,
                    ref: ref, before: before, after: after, sender: user_username, changedFiles: PushedCommit.changedFiles(commits))
        }
    }
}

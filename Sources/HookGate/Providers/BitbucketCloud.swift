import Foundation
import HTTPTypes

/// Bitbucket Cloud: `X-Hub-Signature: sha256=…` when a secret is set; `repo:push` lists changes.
struct BitbucketCloud: Provider {
    let key: EndpointKey
    /// Refuse unsigned requests (Bitbucket Cloud sends a signature only when a secret is set).
    let requireSignature: Bool

    static let requestUUID = HTTPField.Name("X-Request-UUID")!

    func verify(_ request: WebhookRequest) throws(HookFailure) {
        guard let header = request.header(.xHubSignature) else {
            if requireSignature {
                throw .unauthorized("missing signature", reason: "no X-Hub-Signature header and this endpoint has `requireSignature: true`; set the webhook's secret in Bitbucket")
            }
            return
        }
        try HMACSignature.verify(prefixed: header, named: "X-Hub-Signature", body: request.body, key: key)
    }

    func parse(_ request: WebhookRequest) throws(HookFailure) -> [HookEvent] {
        guard let name = request.header(.xEventKey), !name.isEmpty else {
            throw .badRequest("missing X-Event-Key header")
        }
        guard name == "repo:push" else { return [HookEvent(name: name, kind: .other)] }
        let payload = try Payload.decode(PushPayload.self, from: request.body, event: "Bitbucket Cloud repo:push")
        let fullName = payload.repository.full_name
        return payload.push.changes.compactMap { change in
            guard let ref = change.new ?? change.old else { return nil }
            let prefix = ref.type == "tag" ? "refs/tags/" : "refs/heads/"
            let push = GitPush(
                fullName: fullName, sshURL: "git@bitbucket.org:\(fullName).git", httpsURL: "https://bitbucket.org/\(fullName).git",
                ref: prefix + ref.name, before: change.old?.target?.hash, after: change.new?.target?.hash)
            return HookEvent(name: name, kind: .gitPush(push))
        }
    }

    func deliveryID(of request: WebhookRequest) -> String? {
        request.header(Self.requestUUID)
    }

    struct PushPayload: Decodable {
        var push: Push
        var repository: Repository

        struct Push: Decodable {
            var changes: [Change]
        }

        struct Change: Decodable {
            var new: Ref?
            var old: Ref?
        }

        struct Ref: Decodable {
            var type: String
            var name: String
            var target: Target?
        }

        struct Target: Decodable {
            var hash: String?
        }

        struct Repository: Decodable {
            var full_name: String
        }
    }
}

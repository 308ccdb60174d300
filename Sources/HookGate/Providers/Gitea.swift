import Foundation
import HTTPTypes

/// Gitea, Forgejo and Gogs: a bare hex HMAC-SHA256 over the JSON document. In form mode the
/// signature covers the JSON inside `payload=`, not the form body (unlike GitHub).
struct Gitea: Provider {
    let key: EndpointKey

    static let signatures = ["X-Forgejo-Signature", "X-Gitea-Signature", "X-Gogs-Signature"].map { HTTPField.Name($0)! }
    static let events = ["X-Forgejo-Event", "X-Gitea-Event", "X-Gogs-Event", "X-GitHub-Event"].map { HTTPField.Name($0)! }
    static let deliveries = ["X-Forgejo-Delivery", "X-Gitea-Delivery", "X-Gogs-Delivery", "X-GitHub-Delivery"].map { HTTPField.Name($0)! }

    func verify(_ request: WebhookRequest) throws(HookFailure) {
        guard let name = Self.signatures.first(where: { request.header($0) != nil }), let header = request.header(name) else {
            throw .unauthorized("missing signature", reason: "none of X-Forgejo-Signature, X-Gitea-Signature, X-Gogs-Signature was sent; set the webhook's secret to the key file's content")
        }
        guard let signature = HMACSignature(algorithm: .sha256, hex: header) else {
            throw .unauthorized("malformed signature", reason: "\(name) is not 64 hex digits")
        }
        let json = try GitHub.json(of: request)
        try signature.check(body: json, key: key, header: name.rawName)
    }

    func parse(_ request: WebhookRequest) throws(HookFailure) -> [HookEvent] {
        guard let name = Self.events.lazy.compactMap({ request.header($0) }).first, !name.isEmpty else {
            throw .badRequest("missing X-Gitea-Event header")
        }
        guard name == "push" else { return [HookEvent(name: name, kind: .other)] }
        let push = try Payload.decode(GitHub.PushPayload.self, from: try GitHub.json(of: request), event: "Gitea push")
        return [HookEvent(name: name, kind: .gitPush(push.event))]
    }

    func deliveryID(of request: WebhookRequest) -> String? {
        Self.deliveries.lazy.compactMap { request.header($0) }.first
    }
}

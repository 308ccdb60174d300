import Foundation
import HTTPTypes

/// GitHub and GitHub Enterprise: HMAC signatures over the raw body, JSON or form-encoded.
struct GitHub: Provider {
    let key: EndpointKey
    /// Accept the SHA-1 `X-Hub-Signature` when `X-Hub-Signature-256` is absent.
    let allowLegacySignature: Bool

    static let event = HTTPField.Name("X-GitHub-Event")!
    static let delivery = HTTPField.Name("X-GitHub-Delivery")!

    func verify(_ request: WebhookRequest) throws(HookFailure) {
        if let modern = request.header(.xHubSignature256) {
            guard modern.lowercased().hasPrefix("sha256="), let signature = HMACSignature(prefixed: modern) else {
                throw .unauthorized("malformed signature", reason: "X-Hub-Signature-256 is not `sha256=` followed by 64 hex digits")
            }
            try signature.check(body: request.body, key: key, header: "X-Hub-Signature-256")
            return
        }
        guard let legacy = request.header(.xHubSignature) else {
            throw .unauthorized("missing signature", reason: "neither X-Hub-Signature-256 nor X-Hub-Signature was sent; set the webhook's secret to the key file's content")
        }
        guard allowLegacySignature else {
            throw .unauthorized("SHA-256 signature required",
                reason: "only the legacy X-Hub-Signature (\(legacy.prefix(while: { $0 != "=" }))) arrived and this endpoint requires X-Hub-Signature-256; set `allowLegacySignature: true` to accept it")
        }
        try HMACSignature.verify(prefixed: legacy, named: "X-Hub-Signature", body: request.body, key: key)
    }

    func parse(_ request: WebhookRequest) throws(HookFailure) -> [HookEvent] {
        guard let name = request.header(Self.event), !name.isEmpty else {
            throw .badRequest("missing X-GitHub-Event header")
        }
        switch name {
        case "ping":
            return [HookEvent(name: name, kind: .ping)]
        case "push":
            let json = try Self.json(of: request)
            let push = try Payload.decode(PushPayload.self, from: json, event: "GitHub push")
            return [HookEvent(name: name, kind: .gitPush(push.event))]
        default:
            return [HookEvent(name: name, kind: .other)]
        }
    }

    func deliveryID(of request: WebhookRequest) -> String? {
        request.header(Self.delivery)
    }

    /// The JSON document, from either content type GitHub offers.
    static func json(of request: WebhookRequest) throws(HookFailure) -> Data {
        switch request.mediaType {
        case nil, "application/json":
            return request.body
        case "application/x-www-form-urlencoded":
            return try Payload.formPayload(request.body)
        case let other?:
            throw .badRequest("unsupported content type", reason: "Content-Type \(other) is neither application/json nor application/x-www-form-urlencoded")
        }
    }

    /// The fields of a push event that notifiers use.
    struct PushPayload: Decodable {
        var ref: String
        var before: String?
        var after: String?
        var repository: Repository
        var sender: Sender?
        var commits: [PushedCommit]?

        struct Repository: Decodable {
            var full_name: String
            var ssh_url: String
            var clone_url: String?
        }

        struct Sender: Decodable {
            var login: String?
        }

        var event: GitPush {
            GitPush(fullName: repository.full_name, sshURL: repository.ssh_url, httpsURL: repository.clone_url,
                    ref: ref, before: before, after: after, sender: sender?.login, changedFiles: PushedCommit.changedFiles(commits))
        }
    }
}

import Foundation
import HTTPTypes

/// Bitbucket Cloud: `X-Hub-Signature: sha256=…` when a secret is set; `repo:push` lists changes.
struct BitbucketCloud: Provider {
    let key: EndpointKey
    /// Refuse unsigned requests (Bitbucket Cloud sends a signature only when a secret is set).
    let requireSignature: Bool

    static let requestUUID = HTTPField.Name("X-Request-UUID")!

    var checks: String {
        "X-Hub-Signature: sha256= HMAC of the raw body with the endpoint's key"
            + (requireSignature ? " (required)" : " when present (unsigned requests pass: set requireSignature: true to refuse them)")
    }

    func verify(_ request: WebhookRequest) throws(HookFailure) {
        guard request.header(.xHubSignature) != nil || !requireSignature else {
            throw Diagnosis.missingHeader(
                ["X-Hub-Signature"], source: "BitbucketCloud", request: request, message: "missing signature",
                fix: "Bitbucket Cloud signs only when the webhook has a secret, and this endpoint has `requireSignature: true`: set the webhook's secret to the key file's content")
        }
        guard let header = request.header(.xHubSignature) else { return }
        try HMACSignature.verify(prefixed: header, header: "X-Hub-Signature", request: request, key: key, source: "BitbucketCloud",
                                 fix: "set the webhook's secret to the key file's content")
    }

    func parse(_ request: WebhookRequest) throws(HookFailure) -> [HookEvent] {
        guard let name = request.header(.xEventKey), !name.isEmpty else {
            throw .badRequest("missing X-Event-Key header", reason: "no X-Event-Key header; Bitbucket sends it with every delivery, so a proxy dropped it or the sender is not Bitbucket")
        }
        if name.hasPrefix("pullrequest:") {
            return [HookEvent(name: name, kind: try PullRequestPayloads.bitbucketCloud(request.body, event: name).map { .pullRequest($0) } ?? .other)]
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

    /// Signed requests only: without a secret, Bitbucket Cloud sends none.
    func signsBody(_ request: WebhookRequest) -> Bool { request.header(.xHubSignature) != nil }

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

extension Source {
    public static let bitbucketCloud = Source("BitbucketCloud")
}

/// What a Bitbucket Cloud endpoint reads besides its key.
public struct BitbucketCloudSettings: SourceSettings, Equatable {
    /// Whether a signature is required (`requireSignature`): Bitbucket Cloud signs only when the
    /// webhook has a secret, so only this makes the signature a guard.
    public var requireSignature: Bool

    public init(requireSignature: Bool = false) {
        self.requireSignature = requireSignature
    }
}

extension BitbucketCloud {
    static let kind = SourceKind(
        .bitbucketCloud, keys: ["requireSignature"], defaults: BitbucketCloudSettings(),
        readSettings: { input in BitbucketCloudSettings(requireSignature: input.item.bool("requireSignature") ?? false) },
        verifiesSender: { $0.settings(BitbucketCloudSettings.self)?.requireSignature ?? false },
        fuzzVariants: [BitbucketCloudSettings(requireSignature: true)],
        signer: BitbucketServer.signer,
        sample: BitbucketCloud.sample(_:for:),
        makeProvider: { endpoint, _ in
            BitbucketCloud(key: endpoint.key, requireSignature: endpoint.settings(BitbucketCloudSettings.self)?.requireSignature ?? false)
        })
}

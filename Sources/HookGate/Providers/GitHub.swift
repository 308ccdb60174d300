import Foundation
import HTTPTypes

/// GitHub and GitHub Enterprise: HMAC signatures over the raw body, JSON or form-encoded.
struct GitHub: Provider {
    let key: EndpointKey
    /// Accept the SHA-1 `X-Hub-Signature` when `X-Hub-Signature-256` is absent.
    let allowLegacySignature: Bool

    static let event = HTTPField.Name("X-GitHub-Event")!
    static let delivery = HTTPField.Name("X-GitHub-Delivery")!

    var checks: String {
        "X-Hub-Signature-256: HMAC-SHA256 of the raw body (JSON or form-encoded) with the endpoint's key"
            + (allowLegacySignature ? "; without it, the legacy X-Hub-Signature (sha1=, sha256= or sha512=)" : "")
    }

    static let mediaTypes = ["application/json", "application/x-www-form-urlencoded"]

    func verify(_ request: WebhookRequest) throws(HookFailure) {
        if let modern = request.header(.xHubSignature256) {
            let signature = try HMACSignature.parse(prefixed: modern, header: "X-Hub-Signature-256", accepting: [.sha256])
            try check(signature, header: "X-Hub-Signature-256", request)
            return
        }
        guard let legacy = request.header(.xHubSignature) else {
            throw Diagnosis.missingHeader(
                ["X-Hub-Signature-256"], source: "GitHub", request: request, message: "missing signature",
                fix: "GitHub signs only when the webhook has a secret: set the webhook's secret to the key file's content")
        }
        guard allowLegacySignature else {
            let named = HMACSignature(prefixed: legacy).map { $0.algorithm.rawValue } ?? "a malformed value"
            throw .unauthorized(
                "SHA-256 signature required",
                reason: "only the legacy X-Hub-Signature (\(named)) arrived, and this endpoint requires X-Hub-Signature-256",
                hints: ["GitHub sends X-Hub-Signature-256 with every signed delivery, so something in between (a proxy, an old GitHub Enterprise Server) dropped it",
                        "to accept the legacy header, set `allowLegacySignature: true` on this endpoint"])
        }
        try check(HMACSignature.parse(prefixed: legacy, header: "X-Hub-Signature"), header: "X-Hub-Signature", request)
    }

    /// GitHub signs the raw body in both content types. In form mode, a match over the JSON inside
    /// `payload=` means a Gitea-style sender.
    private func check(_ signature: HMACSignature, header: String, _ request: WebhookRequest) throws(HookFailure) {
        var alternatives: [Diagnosis.Alternative] = []
        var notes: [String] = []
        if request.mediaType == "application/x-www-form-urlencoded" {
            if let json = try? Payload.formPayload(request.body) {
                alternatives.append(Diagnosis.Alternative(
                    bytes: json,
                    hint: "the signature matches the JSON inside `payload=`, which is how Gitea, Forgejo and Gogs sign form deliveries; set `source: Gitea`, or send application/json"))
            }
            notes.append("the webhook sends application/x-www-form-urlencoded: GitHub signs the form exactly as sent, so a proxy that decodes or re-encodes forms breaks the signature; application/json avoids that")
        }
        try signature.check(request.body, header: header, request: request, key: key, source: "GitHub", accepts: Self.mediaTypes,
                            alternatives: alternatives, notes: notes)
    }

    func parse(_ request: WebhookRequest) throws(HookFailure) -> [HookEvent] {
        guard let name = request.header(Self.event), !name.isEmpty else {
            throw .badRequest("missing X-GitHub-Event header", reason: "no X-GitHub-Event header; GitHub sends it with every delivery, so a proxy dropped it or the sender is not GitHub")
        }
        switch name {
        case "ping":
            return [HookEvent(name: name, kind: .ping)]
        case "push":
            return [HookEvent(name: name, kind: .gitPush(try Self.push(from: Self.json(of: request))))]
        case "release":
            let release = try ReleasePayloads.gitHub(Self.json(of: request))
            return [HookEvent(name: name, kind: release.map { .release($0) } ?? .other)]
        case "pull_request":
            let pullRequest = try PullRequestPayloads.gitHub(Self.json(of: request), event: "GitHub pull_request")
            return [HookEvent(name: name, kind: pullRequest.map { .pullRequest($0) } ?? .other)]
        default:
            return [HookEvent(name: name, kind: .other)]
        }
    }

    func deliveryID(of request: WebhookRequest) -> String? {
        request.header(Self.delivery)
    }

    func signsBody(_ request: WebhookRequest) -> Bool { true }

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

    /// The fields of a push event that notifiers use. Gitea, Forgejo and Gogs send the same shape.
    static func push(from json: Data, event: String = "GitHub push") throws(HookFailure) -> GitPush {
        try PushLayout.gitHub.read(json, event: event)
    }
}

extension Source {
    public static let gitHub = Source("GitHub")
}

/// What a GitHub endpoint reads besides its key.
public struct GitHubSettings: SourceSettings, Equatable {
    /// Whether GitHub's SHA-1 `X-Hub-Signature` is accepted when `X-Hub-Signature-256` is absent
    /// (`allowLegacySignature`; flux-recv configs always allow it, as flux-recv did).
    public var allowLegacySignature: Bool

    public init(allowLegacySignature: Bool = false) {
        self.allowLegacySignature = allowLegacySignature
    }
}

extension GitHub {
    static let kind = SourceKind(
        .gitHub, keys: ["allowLegacySignature"], defaults: GitHubSettings(),
        readSettings: { input in GitHubSettings(allowLegacySignature: input.own ? (input.item.bool("allowLegacySignature") ?? false) : true) },
        verifiesSender: { _ in true },
        fuzzVariants: [GitHubSettings(allowLegacySignature: true)],
        signer: RequestSigner { request, key, _ in
            let body = request.bodyData
            RequestSigner.gitHubHeaders(&request, key: key, body: body)
        },
        sample: GitHub.sample(_:for:),
        makeProvider: { endpoint, _ in
            GitHub(key: endpoint.key, allowLegacySignature: endpoint.settings(GitHubSettings.self)?.allowLegacySignature ?? false)
        })
}

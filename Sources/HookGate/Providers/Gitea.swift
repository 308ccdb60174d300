import Foundation
import HTTPTypes

/// Gitea, Forgejo and Gogs: a bare hex HMAC-SHA256 over the JSON document. In form mode the
/// signature covers the JSON inside `payload=`, not the form body (unlike GitHub).
struct Gitea: Provider {
    let key: EndpointKey

    static let signatures = ["X-Forgejo-Signature", "X-Gitea-Signature", "X-Gogs-Signature"].map { HTTPField.Name($0)! }
    static let events = ["X-Forgejo-Event", "X-Gitea-Event", "X-Gogs-Event", "X-GitHub-Event"].map { HTTPField.Name($0)! }
    static let deliveries = ["X-Forgejo-Delivery", "X-Gitea-Delivery", "X-Gogs-Delivery", "X-GitHub-Delivery"].map { HTTPField.Name($0)! }

    let checks = "X-Forgejo-Signature, X-Gitea-Signature or X-Gogs-Signature: hex HMAC-SHA256 of the JSON document (the body, or in form mode the JSON inside payload=) with the endpoint's key"

    func verify(_ request: WebhookRequest) throws(HookFailure) {
        guard let name = Self.signatures.first(where: { request.header($0) != nil }), let header = request.header(name) else {
            throw Diagnosis.missingHeader(
                Self.signatures.map(\.rawName), source: "Gitea", request: request, message: "missing signature",
                fix: "Gitea, Forgejo and Gogs sign only when the webhook has a secret (Gitea before 1.9 never does): set the webhook's secret to the key file's content")
        }
        let signature = try HMACSignature.parse(hex: header, algorithm: .sha256, header: name.rawName)
        let json = try GitHub.json(of: request)
        let form = request.mediaType == "application/x-www-form-urlencoded"
        let alternatives = form ? [Diagnosis.Alternative(
            bytes: request.body,
            hint: "the signature matches the whole form body, which is how GitHub signs form deliveries, not Gitea; set `source: GitHub`, or send application/json")] : []
        try signature.check(json, signedName: form ? "JSON inside `payload=`" : "body", header: name.rawName, request: request, key: key,
                            source: "Gitea", accepts: GitHub.mediaTypes, alternatives: alternatives)
    }

    func parse(_ request: WebhookRequest) throws(HookFailure) -> [HookEvent] {
        guard let name = Self.events.lazy.compactMap({ request.header($0) }).first, !name.isEmpty else {
            throw .badRequest("missing X-Gitea-Event header", reason: "none of X-Forgejo-Event, X-Gitea-Event, X-Gogs-Event, X-GitHub-Event arrived; Gitea sends them with every delivery, so a proxy dropped them or the sender is not Gitea")
        }
        if name == "pull_request" {
            let pullRequest = try PullRequestPayloads.gitHub(GitHub.json(of: request), event: "Gitea pull_request")
            return [HookEvent(name: name, kind: pullRequest.map { .pullRequest($0) } ?? .other)]
        }
        if name == "release" {
            let release = try ReleasePayloads.gitHub(GitHub.json(of: request), event: "Gitea release")
            return [HookEvent(name: name, kind: release.map { .release($0) } ?? .other)]
        }
        guard name == "push" else { return [HookEvent(name: name, kind: .other)] }
        return [HookEvent(name: name, kind: .gitPush(try GitHub.push(from: GitHub.json(of: request), event: "Gitea push")))]
    }

    func deliveryID(of request: WebhookRequest) -> String? {
        Self.deliveries.lazy.compactMap { request.header($0) }.first
    }

    func signsBody(_ request: WebhookRequest) -> Bool { true }
}

extension Source {
    public static let gitea = Source("Gitea")
}

extension Gitea {
    /// The signature headers the request had (one if none), each over the JSON document; GitHub's
    /// headers, which Gitea sends too, over the raw body.
    static let signer = RequestSigner { request, key, _ in
        let body = request.bodyData
        let form = request.header("Content-Type")?.lowercased().hasPrefix("application/x-www-form-urlencoded") ?? false
        let json = form ? ((try? Payload.formPayload(body)) ?? body) : body
        let present = signatures.map(\.rawName).filter { request.header($0) != nil }
        for name in present.isEmpty ? ["X-Gitea-Signature"] : present {
            request.setHeader(name, RequestSigner.mac(.sha256, key: key, json).hexString)
        }
        if request.header("X-Hub-Signature-256") != nil { RequestSigner.gitHubHeaders(&request, key: key, body: body) }
    }

    static let kind = SourceKind(
        .gitea, aliases: ["Forgejo", "Gogs"], verifiesSender: { _ in true }, signer: Gitea.signer, sample: Gitea.sample(_:for:),
        makeProvider: { endpoint, _ in Gitea(key: endpoint.key) })
}

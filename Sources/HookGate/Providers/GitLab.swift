import Foundation
import HTTPTypes

/// GitLab: the secret token sent as `X-Gitlab-Token`, compared in constant time, or, when the
/// hook has a signing token (`whsec_…`, GitLab's Standard Webhooks signature), `webhook-signature`
/// with its timestamp tolerance.
///
/// The endpoint's keys decide: a `whsec_` key verifies signed requests, any other key is a secret
/// token. A signed request is checked against the signing keys when there are any (else its
/// `X-Gitlab-Token` against the tokens, so a hook that gains a signing token keeps working). A
/// request without a signature needs a token, and a `whsec_` key never doubles as one: a token
/// covers no body and can be replayed, and GitLab would send the signing secret in the clear.
struct GitLab: Provider {
    let signature: StandardWebhookSignature
    /// Decoded `whsec_` keys.
    let signingKeys: [[UInt8]]
    /// The other keys, as stored and without a final newline.
    let tokens: [[UInt8]]

    static let token = HTTPField.Name("X-Gitlab-Token")!
    static let event = HTTPField.Name("X-Gitlab-Event")!
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    static let eventUUID = HTTPField.Name("X-Gitlab-Event-UUID")!

    /// Every key, for the hints of a refused token.
    let key: EndpointKey

    init(key: EndpointKey, tolerance: Duration = StandardWebhookSignature.defaultTolerance, now: @escaping @Sendable () -> Date = { Date() }) {
        self.key = key
        signingKeys = StandardWebhookSecret.keys(in: key)
        tokens = key.candidateBytes.filter { !StandardWebhookSecret.isSecret($0) }
        signature = StandardWebhookSignature(keys: signingKeys, tolerance: tolerance, now: now)
    }

    var checks: String {
        signingKeys.isEmpty
            ? "X-Gitlab-Token equals the endpoint's key (compared in constant time; the body is not signed)"
            : "webhook-signature: HMAC-SHA256 over webhook-id.webhook-timestamp.body with the signing token (whsec_…), within the timestamp tolerance"
                + (tokens.isEmpty ? "" : "; or X-Gitlab-Token equals one of the other keys")
    }

    func verify(_ request: WebhookRequest) throws(HookFailure) {
        let signed = request.header(StandardWebhookSignature.signature) != nil
        if signed, !signingKeys.isEmpty {
            try signature.verify(request)
            return
        }
        guard let token = request.header(Self.token) else {
            if signed {
                throw .unauthorized("cannot verify the signature",
                    reason: "the request is signed (webhook-signature) but this endpoint's key is a secret token, not the hook's signing token (whsec_…); put the signing token in the key file")
            }
            if tokens.isEmpty {
                throw .unauthorized("missing signature",
                    reason: "no webhook-signature header, and this endpoint's key is a signing token (whsec_…); set the hook's signing token to the key file's content")
            }
            throw Diagnosis.missingHeader(
                ["X-Gitlab-Token"], source: "GitLab", request: request, message: "missing token",
                fix: "GitLab sends the token only when the webhook has one: set the webhook's secret token to the key file's content")
        }
        guard !tokens.isEmpty else {
            throw .unauthorized("signature required",
                reason: "only X-Gitlab-Token arrived, and this endpoint's key is a signing token (whsec_…), which is never accepted as a plain token; set the hook's signing token to the key file's content so GitLab signs each request")
        }
        guard TokenCheck.matches(token, candidates: tokens) else {
            throw Diagnosis.tokenMismatch(header: "X-Gitlab-Token", token: token, key: key, source: "GitLab", message: "invalid token", setting: "secret token")
        }
    }

    func parse(_ request: WebhookRequest) throws(HookFailure) -> [HookEvent] {
        guard let name = request.header(Self.event), !name.isEmpty else {
            throw .badRequest("missing X-Gitlab-Event header", reason: "no X-Gitlab-Event header; GitLab sends it with every delivery, so a proxy dropped it or the sender is not GitLab")
        }
        switch name {
        case "Push Hook", "Tag Push Hook":
            return [HookEvent(name: name, kind: .gitPush(try Self.push(from: request.body, event: "GitLab \(name)")))]
        case "Merge Request Hook":
            return [HookEvent(name: name, kind: try PullRequestPayloads.gitLab(request.body).map { .pullRequest($0) } ?? .other)]
        case "Release Hook":
            return [HookEvent(name: name, kind: try ReleasePayloads.gitLab(request.body).map { .release($0) } ?? .other)]
        case "System Hook":
            let kind = try Payload.decode(ObjectKind.self, from: request.body, event: "GitLab System Hook")
            guard let kindName = kind.object_kind ?? kind.event_name, kindName == "push" || kindName == "tag_push" else {
                return [HookEvent(name: name, kind: .other)]
            }
            return [HookEvent(name: name, kind: .gitPush(try Self.push(from: request.body, event: "GitLab System Hook")))]
        default:
            return [HookEvent(name: name, kind: .other)]
        }
    }

    /// `Idempotency-Key` (the same across retries; signed requests carry it as `webhook-id` too).
    func deliveryID(of request: WebhookRequest) -> String? {
        request.header(Self.idempotencyKey) ?? request.header(StandardWebhookSignature.id) ?? request.header(Self.eventUUID)
    }

    /// Project hooks name the kind in `object_kind`, system hooks in `event_name`.
    struct ObjectKind: Decodable {
        var object_kind: String?
        var event_name: String?
    }

    /// The fields of a push (project hooks and system hooks alike) that notifiers use.
    static func push(from json: Data, event: String) throws(HookFailure) -> GitPush {
        try PushLayout.gitLab.read(json, event: event)
    }
}

extension Source {
    public static let gitLab = Source("GitLab")
}

extension GitLab {
    static let kind = SourceKind(
        .gitLab, keys: ["timestampTolerance"], defaults: SigningTimestampSettings(checked: false),
        readSettings: { input in
            // A key written as a signing token (`whsec_…`) makes GitLab's requests signed with timestamps.
            let signed = input.key.files.contains { StandardWebhookSecret.isSecret($0) }
            input.checkSigningSecrets(required: false)
            return input.readTimestampTolerance(checked: signed)
        },
        verifiesSender: { _ in true },
        fuzzVariants: [SigningTimestampSettings(tolerance: .seconds(60), checked: true)],
        // A signing token (`whsec_…`) signs the request; any other key is the backend's secret
        // token. The endpoint's own token is never passed on in place of the backend's.
        signer: RequestSigner { request, key, _ in
            if StandardWebhookSecret.isSecret(key) {
                request.removeHeader("X-Gitlab-Token")
                RequestSigner.standardWebhook(&request, key: key)
            } else {
                request.removeHeader("webhook-signature")
                request.setHeader("X-Gitlab-Token", String(decoding: key, as: UTF8.self))
            }
        },
        sample: GitLab.sample(_:for:),
        makeProvider: { endpoint, context in
            GitLab(key: endpoint.key, tolerance: endpoint.settings(SigningTimestampSettings.self)?.tolerance ?? StandardWebhookSignature.defaultTolerance,
                   now: context.now)
        })
}

import Foundation

/// Any sender that follows the Standard Webhooks spec (standardwebhooks.com; Svix-based senders):
/// verified by ``StandardWebhookSignature`` with the endpoint's `whsec_` secret and timestamp
/// tolerance. The payload names no git or image change, so each delivery is one trigger, named by
/// the payload's `type` when it has one (the spec's recommended `{"type", "timestamp", "data"}`).
struct StandardWebhooks: Provider {
    let signature: StandardWebhookSignature

    /// The event name when the payload gives none (or is not JSON).
    static let defaultName = "webhook"

    let checks = "webhook-signature: a v1 HMAC-SHA256 over webhook-id.webhook-timestamp.body with the endpoint's whsec_ secret, and webhook-timestamp within the tolerance"

    func verify(_ request: WebhookRequest) throws(HookFailure) {
        try signature.verify(request)
    }

    func parse(_ request: WebhookRequest) -> [HookEvent] {
        [HookEvent(name: Self.eventName(of: request.body), kind: .trigger)]
    }

    /// `webhook-id`: the same across the sender's retries, so a replay inside the timestamp
    /// tolerance is answered `duplicate`.
    func deliveryID(of request: WebhookRequest) -> String? {
        request.header(StandardWebhookSignature.id)
    }

    /// The payload's `type`, at most 200 characters; ``defaultName`` without one.
    static func eventName(of body: Data) -> String {
        struct Envelope: Decodable {
            var type: String?
        }
        guard let type = (try? JSONDecoder().decode(Envelope.self, from: body))?.type, !type.isEmpty else { return defaultName }
        return String(type.prefix(200))
    }
}

extension Source {
    public static let standardWebhooks = Source("StandardWebhooks")
}

extension StandardWebhooks {
    static let kind = SourceKind(
        .standardWebhooks, keys: ["timestampTolerance"], defaults: SigningTimestampSettings(checked: true),
        readSettings: { input in
            input.checkSigningSecrets(required: true)
            input.warnIfOnlyFluxAPI()
            return input.readTimestampTolerance(checked: true)
        },
        verifiesSender: { _ in true },
        signer: RequestSigner { request, key, _ in RequestSigner.standardWebhook(&request, key: key) },
        sample: StandardWebhooks.sample(_:for:),
        makeProvider: { endpoint, context in
            StandardWebhooks(signature: StandardWebhookSignature(
                keys: StandardWebhookSecret.keys(in: endpoint.key),
                tolerance: endpoint.settings(SigningTimestampSettings.self)?.tolerance ?? StandardWebhookSignature.defaultTolerance, now: context.now))
        })
}

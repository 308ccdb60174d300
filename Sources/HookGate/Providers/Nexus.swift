import Foundation
import HTTPTypes

/// Sonatype Nexus Repository 3: a bare hex HMAC-SHA1 in `X-Nexus-Webhook-Signature`.
/// Nexus does not name its registry host, so the endpoint configures it.
struct Nexus: Provider {
    let key: EndpointKey
    let registryHost: String?

    static let signature = HTTPField.Name("X-Nexus-Webhook-Signature")!
    static let webhookID = HTTPField.Name("X-Nexus-Webhook-Id")!
    static let delivery = HTTPField.Name("X-Nexus-Webhook-Delivery")!
    static let component = "rm:repository:component"

    let checks = "X-Nexus-Webhook-Signature: hex HMAC-SHA1 of the raw body with the endpoint's key"

    func verify(_ request: WebhookRequest) throws(HookFailure) {
        guard let header = request.header(Self.signature), !header.isEmpty else {
            throw Diagnosis.missingHeader(
                ["X-Nexus-Webhook-Signature"], source: "Nexus", request: request, message: "missing signature",
                fix: "Nexus signs only when the webhook capability has a secret key: set it to the key file's content")
        }
        let signature = try HMACSignature.parse(hex: header, algorithm: .sha1, header: "X-Nexus-Webhook-Signature")
        try signature.check(request.body, header: "X-Nexus-Webhook-Signature", request: request, key: key, source: "Nexus")
    }

    func parse(_ request: WebhookRequest) throws(HookFailure) -> [HookEvent] {
        guard let name = request.header(Self.webhookID), !name.isEmpty else {
            throw .badRequest("missing X-Nexus-Webhook-Id header", reason: "no X-Nexus-Webhook-Id header; Nexus sends it with every delivery, so a proxy dropped it or the sender is not Nexus")
        }
        guard name == Self.component else { return [HookEvent(name: name, kind: .other)] }
        let payload = try Payload.decode(ComponentPayload.self, from: request.body, event: "Nexus \(name)")
        guard payload.action == "CREATED", payload.component.format == "docker" else {
            return [HookEvent(name: "\(name) \(payload.action) \(payload.component.format)", kind: .other)]
        }
        var reference = payload.component.name
        if let registryHost, !registryHost.isEmpty {
            reference = String(registryHost.reversed().drop(while: { $0 == "/" }).reversed()) + "/" + reference
        }
        guard var image = ImageReference.parse(reference) else {
            throw .badRequest("cannot parse the image name", reason: "component.name is not an image name")
        }
        image.tag = image.tag ?? payload.component.version
        return [HookEvent(name: name, kind: .imagePush(ImagePush(image: image)))]
    }

    func deliveryID(of request: WebhookRequest) -> String? {
        request.header(Self.delivery)
    }

    func signsBody(_ request: WebhookRequest) -> Bool { true }

    struct ComponentPayload: Decodable {
        var action: String
        var component: Component

        struct Component: Decodable {
            var format: String
            var name: String
            var version: String?
        }
    }
}

extension Source {
    public static let nexus = Source("Nexus")
}

extension Nexus {
    static let kind = SourceKind(
        .nexus, usesRegistryHost: true,
        readSettings: { input in
            input.warnWithoutRegistryHost()
            return input.defaults
        },
        verifiesSender: { _ in true }, sample: Nexus.sample(_:for:),
        makeProvider: { endpoint, _ in Nexus(key: endpoint.key, registryHost: endpoint.registryHost) })
}

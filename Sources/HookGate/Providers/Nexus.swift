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

    func verify(_ request: WebhookRequest) throws(HookFailure) {
        guard let header = request.header(Self.signature), !header.isEmpty else {
            throw .unauthorized("missing signature", reason: "no X-Nexus-Webhook-Signature header; set the webhook capability's secret key")
        }
        guard let signature = HMACSignature(algorithm: .sha1, hex: header) else {
            throw .unauthorized("malformed signature", reason: "X-Nexus-Webhook-Signature is not 40 hex digits (HMAC-SHA1)")
        }
        try signature.check(body: request.body, key: key, header: "X-Nexus-Webhook-Signature")
    }

    func parse(_ request: WebhookRequest) throws(HookFailure) -> [HookEvent] {
        guard let name = request.header(Self.webhookID), !name.isEmpty else {
            throw .badRequest("missing X-Nexus-Webhook-Id header")
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

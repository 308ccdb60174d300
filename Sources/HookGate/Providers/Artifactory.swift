import Foundation
import HTTPTypes

/// JFrog Artifactory's predefined webhooks: `X-JFrog-Event-Auth` carries the secret as typed, or,
/// when the webhook signs (`use_secret_for_signing`), the hex HMAC-SHA256 of the raw body made with
/// it. Either is accepted, both checked in constant time. The payload does not name the registry's
/// host, so the endpoint configures it (`registryHost`), as for Nexus.
struct Artifactory: Provider {
    let key: EndpointKey
    let registryHost: String?

    static let auth = HTTPField.Name("X-JFrog-Event-Auth")!

    let checks = "X-JFrog-Event-Auth equals the endpoint's key, or is the hex HMAC-SHA256 of the body made with it (signing mode); constant time"

    func verify(_ request: WebhookRequest) throws(HookFailure) {
        guard let value = request.header(Self.auth), !value.isEmpty else {
            throw .unauthorized("missing X-JFrog-Event-Auth header", reason: "no X-JFrog-Event-Auth header; set the webhook's secret to the key file's content")
        }
        let plain = TokenCheck.matches(value, key: key)
        let signed = HMACSignature(algorithm: .sha256, hex: value)?.isValid(for: request.body, key: key) ?? false
        guard plain || signed else {
            throw .unauthorized("invalid X-JFrog-Event-Auth",
                reason: "X-JFrog-Event-Auth is neither the configured key nor the hex HMAC-SHA256 of the \(request.body.count)-byte body made with it")
        }
    }

    /// In signing mode the header is an HMAC of the body; a plain secret signs nothing.
    func signsBody(_ request: WebhookRequest) -> Bool {
        guard let value = request.header(Self.auth) else { return false }
        return !TokenCheck.matches(value, key: key)
    }

    func parse(_ request: WebhookRequest) throws(HookFailure) -> [HookEvent] {
        let envelope = try Payload.decode(Envelope.self, from: request.body, event: "Artifactory")
        let name = "\(envelope.domain) \(envelope.event_type)"
        guard envelope.domain == "docker", envelope.event_type == "pushed" else { return [HookEvent(name: name, kind: .other)] }
        let pushed = try Payload.decode(DockerPushed.self, from: request.body, event: "Artifactory \(name)").data
        var reference = pushed.image_name
        if let registryHost, !registryHost.isEmpty {
            reference = String(registryHost.reversed().drop(while: { $0 == "/" }).reversed()) + "/" + reference
        }
        guard var image = ImageReference.parse(reference) else {
            throw .badRequest("cannot parse the image name", reason: "data.image_name is not an image name")
        }
        image.tag = image.tag ?? pushed.tag
        let digest = pushed.sha256.flatMap { [UInt8](hex: $0)?.count == 32 ? "sha256:" + $0.lowercased() : nil }
        return [HookEvent(name: name, kind: .imagePush(ImagePush(image: image, digest: digest)))]
    }

    /// Every predefined webhook's body: `{"domain", "event_type", "data", …}`.
    struct Envelope: Decodable {
        var domain: String
        var event_type: String
    }

    struct DockerPushed: Decodable {
        var data: Pushed

        struct Pushed: Decodable {
            /// `library/ubuntu`: the path inside the registry (or inside the repository, with the
            /// repository path access method; `registryHost` then ends with the repository key).
            var image_name: String
            var tag: String?
            /// The manifest's SHA-256, which is its digest.
            var sha256: String?
        }
    }
}

extension Source {
    public static let artifactory = Source("Artifactory")
}

extension Artifactory {
    static let kind = SourceKind(
        .artifactory, aliases: ["JFrog"], usesRegistryHost: true,
        readSettings: { input in
            input.warnWithoutRegistryHost()
            return input.defaults
        },
        verifiesSender: { _ in true }, sample: Artifactory.sample(_:for:),
        makeProvider: { endpoint, _ in Artifactory(key: endpoint.key, registryHost: endpoint.registryHost) })
}

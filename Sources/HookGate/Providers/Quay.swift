import Foundation

/// Quay: no signature exists; the secret URL is the only guard. One event per updated tag.
struct Quay: Provider {
    let checks = "nothing: Quay signs nothing, so the unguessable URL is the only guard"

    func verify(_ request: WebhookRequest) {}

    func parse(_ request: WebhookRequest) throws(HookFailure) -> [HookEvent] {
        let payload = try Payload.decode(PushPayload.self, from: request.body, event: "Quay repo_push")
        guard let image = ImageReference.parse(payload.docker_url) else {
            throw .badRequest("cannot parse the image name", reason: "docker_url is not an image name")
        }
        let tags = payload.updated_tags ?? []
        if tags.isEmpty { return [HookEvent(name: "repo_push", kind: .imagePush(ImagePush(image: image)))] }
        return tags.map { tag in
            var tagged = image
            tagged.tag = tag
            return HookEvent(name: "repo_push", kind: .imagePush(ImagePush(image: tagged)))
        }
    }

    struct PushPayload: Decodable {
        var docker_url: String
        var updated_tags: [String]?
    }
}

extension Source {
    public static let quay = Source("Quay")
}

extension Quay {
    static let kind = SourceKind(.quay, verifiesSender: { _ in false }, sample: Quay.sample(_:for:), makeProvider: { _, _ in Quay() })
}

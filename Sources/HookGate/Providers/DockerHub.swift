import Foundation

/// Docker Hub: no signature exists; the secret URL is the only guard.
struct DockerHub: Provider {
    let checks = "nothing: Docker Hub signs nothing, so the unguessable URL is the only guard"

    func verify(_ request: WebhookRequest) {}

    func parse(_ request: WebhookRequest) throws(HookFailure) -> [HookEvent] {
        let payload = try Payload.decode(PushPayload.self, from: request.body, event: "Docker Hub push")
        guard var image = ImageReference.parse(payload.repository.repo_name) else {
            throw .badRequest("cannot parse the image name", reason: "repository.repo_name is not an image name")
        }
        image.tag = image.tag ?? payload.push_data?.tag
        return [HookEvent(name: "push", kind: .imagePush(ImagePush(image: image)))]
    }

    struct PushPayload: Decodable {
        var repository: Repository
        var push_data: PushData?

        struct Repository: Decodable {
            var repo_name: String
        }

        struct PushData: Decodable {
            var tag: String?
        }
    }
}

extension Source {
    public static let dockerHub = Source("DockerHub")
}

extension DockerHub {
    static let kind = SourceKind(.dockerHub, verifiesSender: { _ in false }, sample: DockerHub.sample(_:for:), makeProvider: { _, _ in DockerHub() })
}

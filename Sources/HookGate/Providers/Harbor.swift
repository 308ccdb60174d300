import Foundation
import HTTPTypes

/// Harbor: the policy's auth header arrives verbatim as `Authorization` and must equal the key.
struct Harbor: Provider {
    let key: EndpointKey

    static let pushTypes: Set<String> = ["pushImage", "PUSH_ARTIFACT"]

    func verify(_ request: WebhookRequest) throws(HookFailure) {
        guard let token = request.header(.authorization) else {
            throw .unauthorized("missing Authorization header", reason: "no Authorization header; set the policy's Auth Header to the key file's content")
        }
        guard TokenCheck.matches(token, key: key) else {
            throw .unauthorized("invalid Authorization header", reason: "Authorization does not match the configured key")
        }
    }

    func parse(_ request: WebhookRequest) throws(HookFailure) -> [HookEvent] {
        let kind = try Payload.decode(EventType.self, from: request.body, event: "Harbor")
        guard Self.pushTypes.contains(kind.type) else { return [HookEvent(name: kind.type, kind: .other)] }
        let payload = try Payload.decode(PushPayload.self, from: request.body, event: "Harbor \(kind.type)")
        let resources = payload.event_data.resources ?? []
        guard !resources.isEmpty else {
            throw .badRequest("no resources in the event", reason: "event_data.resources is empty")
        }
        return try resources.map { resource throws(HookFailure) in
            guard let image = ImageReference.parse(resource.resource_url) else {
                throw .badRequest("cannot parse the image name", reason: "event_data.resources[].resource_url is not an image name")
            }
            return HookEvent(name: kind.type, kind: .imagePush(ImagePush(image: image, digest: resource.digest)))
        }
    }

    struct EventType: Decodable {
        var type: String
    }

    struct PushPayload: Decodable {
        var event_data: EventData

        struct EventData: Decodable {
            var resources: [Resource]?
        }

        struct Resource: Decodable {
            var resource_url: String
            var digest: String?
        }
    }
}

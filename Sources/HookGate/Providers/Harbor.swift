import Foundation
import HTTPTypes

/// Harbor: the policy's auth header arrives verbatim as `Authorization` and must equal the key.
struct Harbor: Provider {
    let key: EndpointKey

    static let pushTypes: Set<String> = ["pushImage", "PUSH_ARTIFACT"]

    let checks = "Authorization equals the endpoint's key (the policy's Auth Header, compared in constant time; the body is not signed)"

    func verify(_ request: WebhookRequest) throws(HookFailure) {
        guard let token = request.header(.authorization) else {
            throw Diagnosis.missingHeader(
                ["Authorization"], source: "Harbor", request: request, message: "missing Authorization header",
                fix: "Harbor sends the policy's Auth Header as Authorization only when it is set: set it to the key file's content")
        }
        guard TokenCheck.matches(token, key: key) else {
            var readings: [(token: String, hint: String)] = []
            // `Secret <key>`, `Bearer <key>`: a scheme word before the key (only a short word is shown).
            if let space = token.firstIndex(of: " "), case let scheme = token[..<space], (1...10).contains(scheme.count),
               scheme.allSatisfy({ $0.isASCII && $0.isLetter }) {
                readings.append((String(token[token.index(after: space)...]).trimmingCharacters(in: .whitespaces),
                                 "Authorization matches once its `\(scheme) ` scheme is removed (Harbor 1.9 and 1.10 send `Secret <Auth Header>`); hookgate compares the whole header, so put the whole value, scheme included, in the key file (the URL changes with it)"))
            }
            throw Diagnosis.tokenMismatch(header: "Authorization", token: token, key: key, source: "Harbor",
                                          message: "invalid Authorization header", setting: "policy's Auth Header", alternatives: readings)
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

extension Source {
    public static let harbor = Source("Harbor")
}

extension Harbor {
    static let kind = SourceKind(
        .harbor, verifiesSender: { _ in true }, sample: Harbor.sample(_:for:), makeProvider: { endpoint, _ in Harbor(key: endpoint.key) })
}

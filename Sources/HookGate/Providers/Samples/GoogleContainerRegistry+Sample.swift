import Foundation
import HTTPTypes

extension GoogleContainerRegistry {
    /// A Pub/Sub push of a registry `INSERT`, for endpoints without `gcr.audience`; with it, the
    /// token must be signed by Google's private key, which no one else can do.
    static func sample(_ options: SampleWebhook.Options, for endpoint: Endpoint) throws(SampleWebhook.Problem) -> SampleWebhook {
        guard endpoint.settings(GoogleContainerRegistrySettings.self)?.auth == nil else {
            throw SampleWebhook.Problem(description: """
                \(endpoint.name) requires a Pub/Sub token signed by Google's private key (gcr.audience), which hookgate cannot make; \
                push an image to the registry, or publish to the `gcr` topic with `gcloud pubsub topics publish gcr --message '{"action":"INSERT","tag":"HOST/PROJECT/IMAGE:TAG"}'`
                """)
        }
        _ = try options.event(among: ["push"], source: endpoint.source)
        let tag = try options.imageTag(source: endpoint.source)
        let image = options.image(defaultHost: "gcr.io")
        let digest = "sha256:" + options.hex("digest", digits: 64)
        let notification: SampleJSON = [
            "action": "INSERT", "digest": .string("\(image.host)/\(image.path)@\(digest)"), "tag": .string("\(image.host)/\(image.path):\(tag)"),
        ]
        let messageID = String(options.hex("message", digits: 15).compactMap(\.hexDigitValue).map(String.init).joined().prefix(15))
        let body: SampleJSON = [
            "message": [
                "attributes": [:], "data": .string(notification.data().base64EncodedString()),
                "messageId": .string(messageID), "message_id": .string(messageID),
                "publishTime": .string(options.iso8601), "publish_time": .string(options.iso8601),
            ],
            "subscription": "projects/hookgate/subscriptions/hookgate-gcr",
        ]
        let headers: HTTPFields = [.contentType: "application/json", .userAgent: SampleWebhook.userAgent]
        return SampleWebhook(headers: headers, body: body.data(), summary: "Pub/Sub push of an INSERT of \(image.host)/\(image.path):\(tag) (unauthenticated: no gcr.audience)")
    }
}

import Foundation
import HTTPTypes

extension ACR {
    /// A `push` as Azure Container Registry sends it (the docs' example), with the key in the
    /// endpoint's token header (`Authorization: Bearer <key>` unless configured otherwise).
    static func sample(_ options: SampleWebhook.Options, for endpoint: Endpoint) throws(SampleWebhook.Problem) -> SampleWebhook {
        _ = try options.event(among: ["push", "ping"], source: endpoint.source)
        let tag = try options.imageTag(source: endpoint.source)
        let image = options.image(defaultHost: "myregistry.azurecr.io")
        let body: SampleJSON = [
            "id": .string(options.deliveryID), "timestamp": .string(options.iso8601), "action": .string(options.event),
            "target": [
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 524,
                "digest": .string("sha256:" + options.hex("digest", digits: 64)), "length": 524,
                "repository": .string(image.path), "tag": .string(tag),
            ],
            "request": ["id": .string(options.hex("request", digits: 32)), "host": .string(image.host), "method": "PUT", "useragent": .string(SampleWebhook.userAgent)],
        ]
        var headers: HTTPFields = [.contentType: "application/json", .userAgent: SampleWebhook.userAgent]
        if let token = endpoint.settings(ACRSettings.self)?.token { headers[token.header] = token.prefix + SampleWebhook.token(endpoint.key) }
        let what = options.event == "ping" ? "ping" : "push of \(image.host)/\(image.path):\(tag)"
        return SampleWebhook(headers: headers, body: body.data(), summary: "ACR \(what)")
    }
}

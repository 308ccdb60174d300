import Foundation
import HTTPTypes

extension Harbor {
    /// A `PUSH_ARTIFACT` (Harbor 2) with the key as the policy's Auth Header in `Authorization`.
    static func sample(_ options: SampleWebhook.Options, for endpoint: Endpoint) throws(SampleWebhook.Problem) -> SampleWebhook {
        _ = try options.event(among: ["push"], source: endpoint.source)
        let tag = try options.imageTag(source: endpoint.source)
        let image = options.image(defaultHost: "harbor.example.com")
        let parts = image.path.split(separator: "/", maxSplits: 1).map(String.init)
        let body: SampleJSON = [
            "type": "PUSH_ARTIFACT", "occur_at": .number(options.unixTime), "operator": "hookgate",
            "event_data": [
                "resources": [[
                    "digest": .string("sha256:" + options.hex("digest", digits: 64)), "tag": .string(tag),
                    "resource_url": .string("\(image.host)/\(image.path):\(tag)"),
                ]],
                "repository": [
                    "date_created": .number(options.unixTime), "name": .string(parts.last ?? image.path),
                    "namespace": .string(parts.first ?? image.path), "repo_full_name": .string(image.path), "repo_type": "private",
                ],
            ],
        ]
        let headers: HTTPFields = [
            .contentType: "application/json",
            .userAgent: SampleWebhook.userAgent,
            .authorization: SampleWebhook.token(endpoint.key),
        ]
        return SampleWebhook(headers: headers, body: body.data(), summary: "Harbor PUSH_ARTIFACT of \(image.host)/\(image.path):\(tag)")
    }
}

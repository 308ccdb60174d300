import Foundation
import HTTPTypes

extension Artifactory {
    /// A docker `pushed` event as JFrog's predefined webhooks send it, signed (`use_secret_for_signing`):
    /// the hex HMAC-SHA256 of the body in `X-JFrog-Event-Auth`. The host is the endpoint's `registryHost`.
    static func sample(_ options: SampleWebhook.Options, for endpoint: Endpoint) throws(SampleWebhook.Problem) -> SampleWebhook {
        _ = try options.event(among: ["push"], source: endpoint.source)
        let tag = try options.imageTag(source: endpoint.source)
        let name = options.repository ?? SampleWebhook.defaultRepository
        let body: SampleJSON = [
            "domain": "docker", "event_type": "pushed",
            "data": [
                "repo_key": "docker-local", "event_type": "pushed", "path": .string("\(name)/\(tag)/manifest.json"), "name": "manifest.json",
                "sha256": .string(options.hex("digest", digits: 64)), "size": 1206, "image_name": .string(name), "tag": .string(tag),
            ],
            "subscription_key": "hookgate", "jpd_origin": "https://jfrog.example.com", "source": "jfrog/hookgate-send",
        ]
        let data = body.data()
        let headers: HTTPFields = [
            .contentType: "application/json", .userAgent: SampleWebhook.userAgent,
            Self.auth: SampleWebhook.hmacHex(data, key: endpoint.key, algorithm: .sha256),
        ]
        let host = endpoint.registryHost.map { $0 + "/" } ?? ""
        return SampleWebhook(headers: headers, body: data, summary: "Artifactory docker pushed \(host)\(name):\(tag)")
    }
}

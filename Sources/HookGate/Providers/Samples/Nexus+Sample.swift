import Foundation
import HTTPTypes

extension Nexus {
    /// An `rm:repository:component` CREATED docker component as Nexus sends it: compact JSON, hex
    /// HMAC-SHA1 in `X-Nexus-Webhook-Signature`. The registry host is the endpoint's `registryHost`.
    static func sample(_ options: SampleWebhook.Options, for endpoint: Endpoint) throws(SampleWebhook.Problem) -> SampleWebhook {
        _ = try options.event(among: ["push"], source: endpoint.source)
        let tag = try options.imageTag(source: endpoint.source)
        let name = options.repository ?? SampleWebhook.defaultRepository
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss.SSSZ"
        let body: SampleJSON = [
            "timestamp": .string(formatter.string(from: options.date)),
            "nodeId": .string(options.hex("node", digits: 32).uppercased()),
            "initiator": "hookgate/127.0.0.1", "repositoryName": "docker-hosted", "action": "CREATED",
            "component": [
                "id": .string(options.hex("component", digits: 32)), "componentId": .string(options.hex("componentId", digits: 48)),
                "format": "docker", "name": .string(name), "version": .string(tag),
            ],
        ]
        let data = body.data()
        let headers: HTTPFields = [
            .contentType: "application/json; charset=UTF-8",
            .userAgent: SampleWebhook.userAgent,
            Self.webhookID: Self.component,
            Self.delivery: options.deliveryID,
            Self.signature: SampleWebhook.hmacHex(data, key: endpoint.key, algorithm: .sha1),
        ]
        let host = endpoint.registryHost.map { $0 + "/" } ?? ""
        return SampleWebhook(headers: headers, body: data, summary: "Nexus component CREATED \(host)\(name):\(tag)")
    }
}

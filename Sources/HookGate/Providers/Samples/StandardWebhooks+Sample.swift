import Foundation
import HTTPTypes

extension StandardWebhooks {
    /// An event in the spec's recommended shape (`type`, `timestamp`, `data`), signed with the
    /// endpoint's `whsec_` secret and stamped now.
    static func sample(_ options: SampleWebhook.Options, for endpoint: Endpoint) throws(SampleWebhook.Problem) -> SampleWebhook {
        let event = try options.event(among: ["push"], source: endpoint.source)
        let repo = options.gitRepository()
        let body: SampleJSON = [
            "type": .string(event), "timestamp": .string(options.iso8601),
            "data": ["repository": .string(repo.full), "ref": .string(options.ref ?? "refs/heads/main")],
        ]
        let data = body.data()
        guard let signed = SampleWebhook.standardWebhookHeaders(data, key: endpoint.key, options: options) else {
            throw SampleWebhook.Problem(description: "the endpoint's key is not a whsec_ secret, so no Standard Webhooks signature can be made")
        }
        var headers: HTTPFields = [.contentType: "application/json", .userAgent: SampleWebhook.userAgent]
        headers.append(contentsOf: signed)
        return SampleWebhook(headers: headers, body: data, summary: "Standard Webhooks \(event) event (a trigger)")
    }
}

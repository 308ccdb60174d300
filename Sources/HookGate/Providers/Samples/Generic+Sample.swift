import Foundation
import HTTPTypes

extension Generic {
    /// Any request will do: a small JSON body, unsigned (the URL is the only guard), with an
    /// `X-Request-Id` so that it is not taken for a repeat.
    static func sample(_ options: SampleWebhook.Options, for endpoint: Endpoint) throws(SampleWebhook.Problem) -> SampleWebhook {
        let event = try options.event(among: ["push"], source: endpoint.source)
        let body: SampleJSON = ["event": .string(event), "id": .string(options.deliveryID)]
        let headers: HTTPFields = [.contentType: "application/json", .userAgent: SampleWebhook.userAgent, .xRequestID: options.deliveryID]
        return SampleWebhook(headers: headers, body: body.data(), summary: "Generic \(event) (a trigger, unsigned)")
    }
}

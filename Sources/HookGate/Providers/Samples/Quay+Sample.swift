import Foundation
import HTTPTypes

extension Quay {
    /// A `repo_push` as Quay sends it: unsigned JSON with `docker_url` and the updated tag.
    static func sample(_ options: SampleWebhook.Options, for endpoint: Endpoint) throws(SampleWebhook.Problem) -> SampleWebhook {
        _ = try options.event(among: ["push"], source: endpoint.source)
        let tag = try options.imageTag(source: endpoint.source)
        let image = options.image(defaultHost: "quay.io")
        let parts = image.path.split(separator: "/", maxSplits: 1).map(String.init)
        let body: SampleJSON = [
            "name": .string(parts.last ?? image.path), "repository": .string(image.path), "namespace": .string(parts.first ?? image.path),
            "docker_url": .string("\(image.host)/\(image.path)"),
            "homepage": .string("https://\(image.host)/repository/\(image.path)"),
            "updated_tags": [.string(tag)],
        ]
        let headers: HTTPFields = [.contentType: "application/json", .userAgent: SampleWebhook.userAgent]
        return SampleWebhook(headers: headers, body: body.data(), summary: "Quay repo_push of \(image.host)/\(image.path):\(tag) (unsigned: Quay signs nothing)")
    }
}

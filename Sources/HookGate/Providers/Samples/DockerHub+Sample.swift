import Foundation
import HTTPTypes

extension DockerHub {
    /// A push as Docker Hub sends it: unsigned JSON naming `namespace/name` and the tag.
    static func sample(_ options: SampleWebhook.Options, for endpoint: Endpoint) throws(SampleWebhook.Problem) -> SampleWebhook {
        _ = try options.event(among: ["push"], source: endpoint.source)
        let tag = try options.imageTag(source: endpoint.source)
        let repo = options.gitRepository()
        guard !repo.full.contains("."), repo.full.contains("/") else {
            throw SampleWebhook.Problem(description: "Docker Hub images are named namespace/name (no registry host), not \(repo.full)")
        }
        let body: SampleJSON = [
            // Docker Hub's callback URLs end in a per-delivery token; it also keeps samples from being duplicates.
            "callback_url": .string("https://registry.hub.docker.com/u/\(repo.full)/hook/\(options.hex("callback", digits: 38))/"),
            "push_data": ["pushed_at": .number(options.unixTime), "pusher": "hookgate", "tag": .string(tag)],
            "repository": [
                "is_private": false, "name": .string(repo.name), "namespace": .string(repo.owner), "owner": .string(repo.owner),
                "repo_name": .string(repo.full), "repo_url": .string("https://hub.docker.com/r/\(repo.full)"), "status": "Active",
            ],
        ]
        let headers: HTTPFields = [.contentType: "application/json", .userAgent: SampleWebhook.userAgent]
        return SampleWebhook(headers: headers, body: body.data(), summary: "Docker Hub push of \(repo.full):\(tag) (unsigned: Docker Hub signs nothing)")
    }
}

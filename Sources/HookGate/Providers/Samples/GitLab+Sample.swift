import Foundation
import HTTPTypes

extension GitLab {
    /// A `Push Hook` (or `Tag Push Hook` for a tag) as GitLab sends it, with the key as `X-Gitlab-Token`.
    static func sample(_ options: SampleWebhook.Options, for endpoint: Endpoint) throws(SampleWebhook.Problem) -> SampleWebhook {
        _ = try options.event(among: ["push"], source: endpoint.source)
        let ref = try options.gitRef(source: endpoint.source)
        let repo = options.gitRepository()
        let isTag = ref.hasPrefix("refs/tags/")
        let after = options.hex("after")
        let project: SampleJSON = [
            "id": 1, "name": .string(repo.name), "path_with_namespace": .string(repo.full),
            "web_url": .string("https://gitlab.com/\(repo.full)"),
            "git_ssh_url": .string("git@gitlab.com:\(repo.full).git"),
            "git_http_url": .string("https://gitlab.com/\(repo.full).git"),
            "namespace": .string(repo.owner), "default_branch": "main",
        ]
        let body: SampleJSON = [
            "object_kind": isTag ? "tag_push" : "push", "event_name": isTag ? "tag_push" : "push",
            "before": .string(options.hex("before")), "after": .string(after), "ref": .string(ref),
            "checkout_sha": .string(after),
            "user_id": 1, "user_name": "hookgate", "user_username": "hookgate",
            "project_id": 1, "project": project,
            "total_commits_count": 0,
            "repository": [
                "name": .string(repo.name), "url": .string("git@gitlab.com:\(repo.full).git"),
                "homepage": .string("https://gitlab.com/\(repo.full)"),
                "git_http_url": .string("https://gitlab.com/\(repo.full).git"),
                "git_ssh_url": .string("git@gitlab.com:\(repo.full).git"),
            ],
        ]
        let event = isTag ? "Tag Push Hook" : "Push Hook"
        var headers: HTTPFields = [
            .contentType: "application/json",
            .userAgent: SampleWebhook.userAgent,
            Self.event: event,
            Self.idempotencyKey: options.deliveryID,
            Self.eventUUID: options.deliveryID,
            HTTPField.Name("X-Gitlab-Instance")!: "https://gitlab.com",
        ]
        let data = body.data()
        // With a signing token (whsec_…) GitLab signs, Standard Webhooks style; else it sends the token.
        if let signed = SampleWebhook.standardWebhookHeaders(data, key: endpoint.key, options: options) {
            headers.append(contentsOf: signed)
        } else {
            headers[Self.token] = SampleWebhook.token(endpoint.key)
        }
        return SampleWebhook(headers: headers, body: data, summary: "GitLab \(event) of \(ref) in \(repo.full)")
    }
}

import Foundation
import HTTPTypes

extension Gitea {
    /// A push as Gitea sends it: indented JSON, its own event, delivery and signature headers next
    /// to the Gogs and GitHub-compatible ones, the bare hex HMAC-SHA256 of the JSON.
    static func sample(_ options: SampleWebhook.Options, for endpoint: Endpoint) throws(SampleWebhook.Problem) -> SampleWebhook {
        _ = try options.event(among: ["push"], source: endpoint.source)
        let ref = try options.gitRef(source: endpoint.source)
        let repo = options.gitRepository()
        let host = "gitea.example.com"
        let user: SampleJSON = ["id": 1, "login": "hookgate", "username": "hookgate"]
        let before = options.hex("before"), after = options.hex("after")
        let body: SampleJSON = [
            "ref": .string(ref), "before": .string(before), "after": .string(after),
            "compare_url": .string("https://\(host)/\(repo.full)/compare/\(before)...\(after)"),
            "total_commits": 0, "head_commit": nil,
            "repository": [
                "id": 1, "owner": ["id": 1, "login": .string(repo.owner), "username": .string(repo.owner)],
                "name": .string(repo.name), "full_name": .string(repo.full), "private": false,
                "html_url": .string("https://\(host)/\(repo.full)"),
                "ssh_url": .string("git@\(host):\(repo.full).git"),
                "clone_url": .string("https://\(host)/\(repo.full).git"),
                "default_branch": "main",
            ],
            "pusher": user, "sender": user,
        ]
        let data = body.data(indent: "  ")
        let signature = SampleWebhook.hmacHex(data, key: endpoint.key, algorithm: .sha256)
        let headers: HTTPFields = [
            .contentType: "application/json",
            .userAgent: SampleWebhook.userAgent,
            HTTPField.Name("X-Gitea-Event")!: "push",
            HTTPField.Name("X-Gitea-Event-Type")!: "push",
            HTTPField.Name("X-Gitea-Delivery")!: options.deliveryID,
            HTTPField.Name("X-Gitea-Signature")!: signature,
            HTTPField.Name("X-Gogs-Event")!: "push",
            HTTPField.Name("X-Gogs-Delivery")!: options.deliveryID,
            HTTPField.Name("X-Gogs-Signature")!: signature,
            HTTPField.Name("X-GitHub-Event")!: "push",
            HTTPField.Name("X-GitHub-Delivery")!: options.deliveryID,
            .xHubSignature256: "sha256=" + signature,
        ]
        return SampleWebhook(headers: headers, body: data, summary: "Gitea push of \(ref) in \(repo.full)")
    }
}

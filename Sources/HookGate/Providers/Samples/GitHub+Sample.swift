import Foundation
import HTTPTypes

extension GitHub {
    /// A push or ping as GitHub sends it: compact JSON, `X-GitHub-Event`, `X-GitHub-Delivery`, and
    /// both `X-Hub-Signature-256` and the legacy `X-Hub-Signature` over the body.
    static func sample(_ options: SampleWebhook.Options, for endpoint: Endpoint) throws(SampleWebhook.Problem) -> SampleWebhook {
        let event = try options.event(among: ["push", "ping", "pullRequest"], source: endpoint.source)
        let repo = options.gitRepository()
        let repository: SampleJSON = [
            "id": 1, "name": .string(repo.name), "full_name": .string(repo.full), "private": false,
            "owner": ["login": .string(repo.owner), "type": "Organization"],
            "html_url": .string("https://github.com/\(repo.full)"),
            "git_url": .string("git://github.com/\(repo.full).git"),
            "ssh_url": .string("git@github.com:\(repo.full).git"),
            "clone_url": .string("https://github.com/\(repo.full).git"),
            "default_branch": "main",
        ]
        let sender: SampleJSON = ["login": "hookgate", "id": 1, "type": "User"]
        let body: SampleJSON
        let summary: String
        if event == "ping" {
            body = [
                "zen": "Design for failure.", "hook_id": 1,
                "hook": ["type": "Repository", "id": 1, "name": "web", "active": true, "events": ["push"],
                         "config": ["content_type": "json", "insecure_ssl": "0"]],
                "repository": repository, "sender": sender,
            ]
            summary = "GitHub ping for \(repo.full)"
        } else if event == "pullRequest" {
            // An opened pull request from a branch of the same repository (`--ref`, default
            // `feature`) into main.
            let ref = try options.gitRef(source: endpoint.source)
            let head = options.ref == nil ? "feature" : ref.dropPrefix("refs/heads/") ?? ref
            let ends: (String, String) -> SampleJSON = { ref, sha in
                ["ref": .string(ref), "sha": .string(sha), "repo": repository, "label": .string("\(repo.owner):\(ref)")]
            }
            body = [
                "action": "opened", "number": 1,
                "pull_request": [
                    "number": 1, "state": "open", "title": "A sample from hookgate send", "merged": false,
                    "html_url": .string("https://github.com/\(repo.full)/pull/1"), "user": sender,
                    "head": ends(head, options.hex("head")), "base": ends("main", options.hex("base")),
                ],
                "repository": repository, "sender": sender,
            ]
            summary = "GitHub pull request #1 opened in \(repo.full)"
        } else {
            let ref = try options.gitRef(source: endpoint.source)
            let before = options.hex("before"), after = options.hex("after")
            body = [
                "ref": .string(ref), "before": .string(before), "after": .string(after),
                "repository": repository,
                "pusher": ["name": "hookgate", "email": "hookgate@example.com"],
                "sender": sender,
                "created": false, "deleted": false, "forced": false, "base_ref": nil,
                "compare": .string("https://github.com/\(repo.full)/compare/\(before.prefix(12))...\(after.prefix(12))"),
            ]
            summary = "GitHub push of \(ref) in \(repo.full)"
        }
        let data = body.data()
        let headers: HTTPFields = [
            .contentType: "application/json",
            .userAgent: SampleWebhook.userAgent,
            Self.event: event == "pullRequest" ? "pull_request" : event,
            Self.delivery: options.deliveryID,
            .xHubSignature256: "sha256=" + SampleWebhook.hmacHex(data, key: endpoint.key, algorithm: .sha256),
            .xHubSignature: "sha1=" + SampleWebhook.hmacHex(data, key: endpoint.key, algorithm: .sha1),
        ]
        return SampleWebhook(headers: headers, body: data, summary: summary)
    }
}

import Foundation
import HTTPTypes

extension BitbucketServer {
    /// A `repo:refs_changed` (or `diagnostics:ping`) as Bitbucket Server sends it, signed
    /// `X-Hub-Signature: sha256=…`. `--repo` is `PROJECT/slug`.
    static func sample(_ options: SampleWebhook.Options, for endpoint: Endpoint) throws(SampleWebhook.Problem) -> SampleWebhook {
        let event = try options.event(among: ["push", "ping"], source: endpoint.source)
        let repo = options.gitRepository()
        let body: SampleJSON
        let eventKey: String
        let summary: String
        if event == "ping" {
            eventKey = Self.ping
            body = ["test": true]
            summary = "Bitbucket Server diagnostics:ping"
        } else {
            let ref = try options.gitRef(source: endpoint.source)
            let isTag = ref.hasPrefix("refs/tags/")
            let host = "bitbucket.example.com"
            eventKey = "repo:refs_changed"
            body = [
                "eventKey": "repo:refs_changed", "date": .string(options.iso8601),
                "actor": ["name": "hookgate", "displayName": "hookgate", "type": "NORMAL"],
                "repository": [
                    "slug": .string(repo.name), "name": .string(repo.name), "scmId": "git", "state": "AVAILABLE",
                    "project": ["key": .string(repo.owner), "name": .string(repo.owner), "type": "NORMAL"],
                    "links": ["clone": [
                        ["href": .string("ssh://git@\(host):7999/\(repo.owner.lowercased())/\(repo.name).git"), "name": "ssh"],
                        ["href": .string("https://\(host)/scm/\(repo.owner.lowercased())/\(repo.name).git"), "name": "http"],
                    ]],
                ],
                "changes": [[
                    "ref": ["id": .string(ref), "displayId": .string(String(ref.split(separator: "/", maxSplits: 2).last ?? "")),
                            "type": isTag ? "TAG" : "BRANCH"],
                    "refId": .string(ref), "fromHash": .string(options.hex("before")), "toHash": .string(options.hex("after")),
                    "type": "UPDATE",
                ]],
            ]
            summary = "Bitbucket Server repo:refs_changed of \(ref) in \(repo.full)"
        }
        let data = body.data()
        let headers: HTTPFields = [
            .contentType: "application/json; charset=UTF-8",
            .userAgent: SampleWebhook.userAgent,
            .xEventKey: eventKey,
            .xRequestID: options.deliveryID,
            .xHubSignature: "sha256=" + SampleWebhook.hmacHex(data, key: endpoint.key, algorithm: .sha256),
        ]
        return SampleWebhook(headers: headers, body: data, summary: summary)
    }
}

import Foundation
import HTTPTypes

extension BitbucketCloud {
    /// A `repo:push` with one change as Bitbucket Cloud sends it, signed `X-Hub-Signature: sha256=…`.
    static func sample(_ options: SampleWebhook.Options, for endpoint: Endpoint) throws(SampleWebhook.Problem) -> SampleWebhook {
        _ = try options.event(among: ["push"], source: endpoint.source)
        let ref = try options.gitRef(source: endpoint.source)
        let repo = options.gitRepository()
        let isTag = ref.hasPrefix("refs/tags/")
        let name = ref.split(separator: "/", maxSplits: 2).dropFirst(2).first.map(String.init) ?? ref
        func state(_ salt: String) -> SampleJSON {
            ["type": isTag ? "tag" : "branch", "name": .string(name),
             "target": ["type": "commit", "hash": .string(options.hex(salt))]]
        }
        let body: SampleJSON = [
            "push": ["changes": [["new": state("after"), "old": state("before"), "created": false, "closed": false, "forced": false]]],
            "repository": [
                "type": "repository", "full_name": .string(repo.full), "name": .string(repo.name),
                "uuid": .string("{\(options.hex("repository", digits: 32))}"), "is_private": true,
                "links": ["html": ["href": .string("https://bitbucket.org/\(repo.full)")]],
            ],
            "actor": ["type": "user", "display_name": "hookgate", "nickname": "hookgate"],
        ]
        let data = body.data()
        let headers: HTTPFields = [
            .contentType: "application/json",
            .userAgent: SampleWebhook.userAgent,
            .xEventKey: "repo:push",
            Self.requestUUID: options.deliveryID,
            HTTPField.Name("X-Attempt-Number")!: "1",
            .xHubSignature: "sha256=" + SampleWebhook.hmacHex(data, key: endpoint.key, algorithm: .sha256),
        ]
        return SampleWebhook(headers: headers, body: data, summary: "Bitbucket Cloud repo:push of \(ref) in \(repo.full)")
    }
}

import Foundation
import HTTPTypes

/// Bitbucket Server and Data Center: `X-Hub-Signature` (algorithm by prefix); `repo:refs_changed`.
struct BitbucketServer: Provider {
    let key: EndpointKey

    static let ping = "diagnostics:ping"

    let checks = "X-Hub-Signature: HMAC of the raw body with the endpoint's key, the algorithm named by its prefix (sha256= by default); an unsigned diagnostics:ping passes"

    func verify(_ request: WebhookRequest) throws(HookFailure) {
        let signature = request.header(.xHubSignature)
        // "Test connection" may arrive unsigned; it is answered and notifies nothing.
        if signature == nil, request.header(.xEventKey) == Self.ping { return }
        try HMACSignature.verify(prefixed: signature, header: "X-Hub-Signature", request: request, key: key, source: "BitbucketServer",
                                 fix: "Bitbucket Server signs only when the webhook has a secret: set the webhook's secret to the key file's content")
    }

    /// Unsigned requests are pings only (see ``verify(_:)``).
    func signsBody(_ request: WebhookRequest) -> Bool { request.header(.xHubSignature) != nil }

    func parse(_ request: WebhookRequest) throws(HookFailure) -> [HookEvent] {
        guard let name = request.header(.xEventKey), !name.isEmpty else {
            throw .badRequest("missing X-Event-Key header", reason: "no X-Event-Key header; Bitbucket Server sends it with every delivery, so a proxy dropped it or the sender is not Bitbucket Server")
        }
        switch name {
        case Self.ping:
            return [HookEvent(name: name, kind: .ping)]
        case "repo:refs_changed":
            let payload = try Payload.decode(RefsChanged.self, from: request.body, event: "Bitbucket Server repo:refs_changed")
            let links = payload.repository.links?.clone ?? []
            guard let ssh = links.first(where: { $0.name == "ssh" })?.href else {
                throw .badRequest("missing repository SSH clone link", reason: "repository.links.clone has no link named ssh")
            }
            let https = links.first(where: { $0.name == "http" })?.href
            let fullName = [payload.repository.project?.key, payload.repository.slug].compactMap { $0 }.joined(separator: "/")
            return payload.changes.map { change in
                HookEvent(name: name, kind: .gitPush(GitPush(
                    fullName: fullName, sshURL: ssh, httpsURL: https, ref: change.ref.id,
                    before: change.fromHash, after: change.toHash)))
            }
        case _ where name.hasPrefix("pr:"):
            return [HookEvent(name: name, kind: try PullRequestPayloads.bitbucketServer(request.body, event: name).map { .pullRequest($0) } ?? .other)]
        default:
            return [HookEvent(name: name, kind: .other)]
        }
    }

    struct RefsChanged: Decodable {
        var repository: Repository
        var changes: [Change]

        struct Repository: Decodable {
            var slug: String?
            var project: Project?
            var links: Links?
        }

        struct Project: Decodable {
            var key: String?
        }

        struct Links: Decodable {
            var clone: [Link]?
        }

        struct Link: Decodable {
            var href: String
            var name: String
        }

        struct Change: Decodable {
            var ref: Ref
            var fromHash: String?
            var toHash: String?
        }

        struct Ref: Decodable {
            var id: String
            var type: String?
        }
    }
}

extension Source {
    public static let bitbucketServer = Source("BitbucketServer")
}

extension BitbucketServer {
    /// `X-Hub-Signature: sha256=<hex>` over the body, with the algorithm the request's named (Bitbucket
    /// Cloud signs the same way).
    static let signer = RequestSigner { request, key, _ in
        let body = request.bodyData
        let algorithm = RequestSigner.algorithm(of: request.header("X-Hub-Signature"), fallback: .sha256)
        request.setHeader("X-Hub-Signature", RequestSigner.prefixed(algorithm, key: key, body))
    }

    static let kind = SourceKind(
        .bitbucketServer, verifiesSender: { _ in true }, signer: BitbucketServer.signer, sample: BitbucketServer.sample(_:for:),
        makeProvider: { endpoint, _ in BitbucketServer(key: endpoint.key) })
}

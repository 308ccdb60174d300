import Foundation
import HTTPTypes

extension Source {
    public static let azureDevOps = Source("AzureDevOps")
}

/// Azure DevOps (Azure Repos) through a Service Hooks "Web Hooks" subscription. It signs nothing;
/// the subscription's basic authentication password must equal the endpoint's key (the user
/// name is not checked), compared in constant time. The event is the body's `eventType`; a
/// `git.push` becomes one git push per updated ref.
struct AzureDevOps: Provider {
    let key: EndpointKey

    let checks = "Authorization: Basic, whose password equals the endpoint's key (constant time; the body is not signed)"

    func verify(_ request: WebhookRequest) throws(HookFailure) {
        guard let header = request.header(.authorization) else {
            throw Diagnosis.missingHeader(
                ["Authorization"], source: "AzureDevOps", request: request, message: "missing Authorization header",
                fix: "in the Web Hooks subscription, set basic authentication: any user name, the key file's content as the password")
        }
        guard header.lowercased().hasPrefix("basic "),
              let decoded = Data(base64Encoded: String(header.dropFirst("basic ".count)).trimmingCharacters(in: .whitespaces)),
              let colon = decoded.firstIndex(of: UInt8(ascii: ":"))
        else {
            throw HookFailure(status: .unauthorized, message: "invalid Authorization header",
                              reason: "Authorization is not `Basic base64(user:password)`; set basic authentication in the Web Hooks subscription")
        }
        let password = String(decoding: decoded[decoded.index(after: colon)...], as: UTF8.self)
        guard TokenCheck.matches(password, key: key) else {
            throw HookFailure(status: .unauthorized, message: "invalid Authorization header",
                              reason: "the basic authentication password matches none of the endpoint's \(key.files.count == 1 ? "key" : "\(key.files.count) keys"); set it to the key file's content")
        }
    }

    func parse(_ request: WebhookRequest) throws(HookFailure) -> [HookEvent] {
        let kind = try Payload.decode(Envelope.self, from: request.body, event: "Azure DevOps")
        guard kind.eventType == "git.push" else { return [HookEvent(name: kind.eventType, kind: .other)] }
        let push = try Payload.decode(Push.self, from: request.body, event: "Azure DevOps git.push").resource
        let repository = push.repository
        let fullName = [repository.project?.name, repository.name].compactMap { $0 }.joined(separator: "/")
        return push.refUpdates.map { update in
            HookEvent(name: "push", kind: .gitPush(GitPush(
                fullName: fullName, sshURL: repository.remoteUrl, httpsURL: repository.remoteUrl, ref: update.name,
                before: update.oldObjectId, after: update.newObjectId, sender: push.pushedBy?.uniqueName)))
        }
    }

    /// The notification's `id`, once verified (Azure DevOps sends no delivery header).
    func acceptedDeliveryID(of request: WebhookRequest) -> String? {
        try? Payload.decode(Envelope.self, from: request.body, event: "Azure DevOps").id
    }

    struct Envelope: Decodable {
        var id: String?
        var eventType: String
    }

    struct Push: Decodable {
        var resource: Resource

        struct Resource: Decodable {
            var refUpdates: [RefUpdate]
            var repository: Repository
            var pushedBy: Person?
        }

        struct RefUpdate: Decodable {
            var name: String
            var oldObjectId: String?
            var newObjectId: String?
        }

        struct Repository: Decodable {
            var name: String
            var remoteUrl: String
            var project: Project?
        }

        struct Project: Decodable {
            var name: String
        }

        struct Person: Decodable {
            var uniqueName: String?
        }
    }

    /// A `git.push` as the Web Hooks consumer sends it, with the key as the basic-auth password.
    static func sample(_ options: SampleWebhook.Options, for endpoint: Endpoint) throws(SampleWebhook.Problem) -> SampleWebhook {
        _ = try options.event(among: ["push"], source: endpoint.source)
        let ref = try options.gitRef(source: endpoint.source)
        let repo = options.gitRepository()
        let remote = "https://dev.azure.com/\(repo.owner)/_git/\(repo.name)"
        let body: SampleJSON = [
            "id": .string(options.deliveryID), "eventType": "git.push", "publisherId": "tfs",
            "resource": [
                "refUpdates": [["name": .string(ref), "oldObjectId": .string(options.hex("before")), "newObjectId": .string(options.hex("after"))]],
                "repository": ["name": .string(repo.name), "remoteUrl": .string(remote), "project": ["name": .string(repo.owner)]],
                "pushedBy": ["uniqueName": "hookgate@example.com"],
            ],
            "createdDate": .string(options.iso8601),
        ]
        let credentials = Data(("hookgate:" + SampleWebhook.token(endpoint.key)).utf8).base64EncodedString()
        let headers: HTTPFields = [.contentType: "application/json; charset=utf-8", .userAgent: SampleWebhook.userAgent, .authorization: "Basic " + credentials]
        return SampleWebhook(headers: headers, body: body.data(), summary: "Azure DevOps git.push of \(ref) in \(repo.owner)/\(repo.name)")
    }

    static let kind = SourceKind(
        .azureDevOps, aliases: ["AzureRepos"], verifiesSender: { _ in true }, sample: AzureDevOps.sample(_:for:),
        makeProvider: { endpoint, _ in AzureDevOps(key: endpoint.key) })
}

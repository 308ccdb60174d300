import Foundation
import Yams
import HTTPTypes

/// Azure Container Registry: it signs nothing and adds no header of its own, only the custom
/// headers the webhook is given. By default the endpoint requires `Authorization: Bearer <key>`
/// (``TokenHeader``), compared in constant time; with `token: false` the URL is the only guard.
struct ACR: Provider {
    let key: EndpointKey
    /// Nil: no token required.
    let token: TokenHeader?

    var checks: String {
        guard let token else { return "nothing (`token: false`): ACR signs nothing, so the unguessable URL is the only guard" }
        return "\(token.header.rawName) equals `\(token.prefix)<key>` (a custom header of the webhook, compared in constant time; the body is not signed)"
    }

    func verify(_ request: WebhookRequest) throws(HookFailure) {
        guard let token else { return }
        let name = token.header.rawName
        guard let value = request.header(token.header), !value.isEmpty else {
            throw .unauthorized("missing token",
                reason: "no \(name) header; give the ACR webhook the custom header `\(name): \(token.prefix)<key file content>` (az acr webhook update --headers), or set `token: false` to rely on the URL alone")
        }
        guard value.prefix(token.prefix.count).lowercased() == token.prefix.lowercased(),
              TokenCheck.matches(String(value.dropFirst(token.prefix.count)), key: key)
        else {
            throw .unauthorized("invalid token", reason: "\(name) is not `\(token.prefix)` followed by the configured key")
        }
    }

    func parse(_ request: WebhookRequest) throws(HookFailure) -> [HookEvent] {
        let payload = try Payload.decode(EventPayload.self, from: request.body, event: "ACR")
        switch payload.action {
        case "push":
            guard let repository = payload.target?.repository, !repository.isEmpty else {
                throw .badRequest("no repository in the push", reason: "the ACR push has no target.repository")
            }
            let host = payload.request?.host ?? ""
            guard var image = ImageReference.parse(host.isEmpty ? repository : host + "/" + repository) else {
                throw .badRequest("cannot parse the image name", reason: "request.host and target.repository do not make an image name")
            }
            image.tag = image.tag ?? payload.target?.tag
            return [HookEvent(name: payload.action, kind: .imagePush(ImagePush(image: image, digest: payload.target?.digest)))]
        case "ping":
            return [HookEvent(name: payload.action, kind: .ping)]
        default:
            return [HookEvent(name: payload.action, kind: .other)]
        }
    }

    /// The fields of ACR's event payload that notifiers use.
    struct EventPayload: Decodable {
        var action: String
        var target: Target?
        var request: Request?

        struct Target: Decodable {
            var repository: String?
            var tag: String?
            var digest: String?
        }

        struct Request: Decodable {
            /// The registry's host, `myregistry.azurecr.io`.
            var host: String?
        }
    }
}

extension Source {
    public static let acr = Source("ACR")
}

/// What an ACR endpoint reads besides its key.
public struct ACRSettings: SourceSettings, Equatable {
    /// The header that must carry the key (`token`); nil when the URL is the only guard.
    public var token: TokenHeader?

    public init(token: TokenHeader? = .bearer) {
        self.token = token
    }
}

extension ACR {
    static let kind = SourceKind(
        .acr, aliases: ["AzureContainerRegistry"], keys: ["token"], defaults: ACRSettings(),
        readSettings: readSettings,
        verifiesSender: { $0.settings(ACRSettings.self)?.token != nil },
        fuzzVariants: [ACRSettings(token: nil), ACRSettings(token: TokenHeader(header: HTTPField.Name("X-Hook-Token")!, prefix: ""))],
        sample: ACR.sample(_:for:),
        makeProvider: { endpoint, _ in ACR(key: endpoint.key, token: (endpoint.settings(ACRSettings.self) ?? ACRSettings()).token) })

    private static func readSettings(_ input: SourceSettingsInput) -> (any SourceSettings)? {
        var settings = ACRSettings()
        if let node = input.item["token"] {
            if let enabled = node.bool {
                settings.token = enabled ? .bearer : nil
            } else if let object = input.reader.object(node, path: input.item.qualified("token")) {
                guard let token = readTokenHeader(object) else { return nil }
                settings.token = token
            }
        }
        if settings.token == nil {
            input.warn("ACR endpoint with `token: false`: ACR signs nothing, so the URL is the only guard",
                       fix: "give the webhook a custom header `Authorization: Bearer <key>` and remove `token: false`")
        }
        return settings
    }

    private static func readTokenHeader(_ object: YAMLObject) -> TokenHeader? {
        let reader = object.reader
        object.rejectUnknownKeys(["header", "prefix"])
        var token = TokenHeader.bearer
        if let header = object.string("header") {
            guard let name = HTTPField.Name(header) else {
                reader.problem("`\(object.qualified("header"))`: \"\(header)\" is not a header name", at: object["header"])
                return nil
            }
            token.header = name
            token.prefix = name == .authorization ? "Bearer " : ""
        }
        if let prefix = object.string("prefix") {
            guard prefix.allSatisfy(\.isASCII) else {
                reader.problem("`\(object.qualified("prefix"))` must be ASCII text, as header values are", at: object["prefix"])
                return nil
            }
            token.prefix = prefix
        }
        return token
    }
}

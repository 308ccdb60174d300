import Foundation
import HTTPTypes

/// Google Container Registry and Artifact Registry, through a Pub/Sub push subscription.
/// With `gcr.audience` set, the `Authorization: Bearer` OIDC token is verified (RS256 against
/// Google's published keys, `iss`, `aud`, `exp`, and the service account's `email` when set).
struct GoogleContainerRegistry: Provider {
    let auth: GoogleAuthSettings?
    let keys: GoogleKeyStore

    var checks: String {
        guard let auth else { return "nothing: without gcr.audience, Pub/Sub pushes are not authenticated and the unguessable URL is the only guard" }
        return "the Authorization: Bearer token: RS256 signature by Google's keys (fetched from \(auth.keysURL)), issuer, audience \(auth.audience), expiry"
            + (auth.email.map { ", service account \($0)" } ?? "")
    }

    func verify(_ request: WebhookRequest) async throws(HookFailure) {
        guard let auth else { return }
        guard let header = request.header(.authorization), header.lowercased().hasPrefix("bearer ") else {
            if request.header(.authorization) != nil {
                throw .unauthorized("missing bearer token", reason: "Authorization arrived without the `Bearer ` scheme",
                                    hints: ["Pub/Sub sends `Authorization: Bearer <token>`; something in between replaced the header"])
            }
            throw Diagnosis.missingHeader(
                ["Authorization"], source: "GoogleContainerRegistry", request: request, message: "missing bearer token",
                fix: "enable authentication on the Pub/Sub push subscription (a service account, and the audience set in gcr.audience)")
        }
        let token = String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
        do throws(JWTError) {
            let jwt = try JWT(token)
            guard jwt.algorithm == "RS256" else { throw JWTError("the token's algorithm is \(Diagnosis.printable(jwt.algorithm)), not RS256") }
            let key = try await keys.key(id: jwt.keyID, from: auth.keysURL)
            guard jwt.isSigned(by: key) else { throw JWTError("the token's signature does not match Google's key \(Diagnosis.printable(jwt.keyID ?? "?"))") }
            try jwt.claims.check(audience: auth.audience, email: auth.email, now: Date())
        } catch where error.isTransient {
            throw HookFailure(status: .serviceUnavailable, message: "cannot verify the token right now", reason: error.description, hints: error.hints)
        } catch {
            throw .unauthorized("invalid bearer token", reason: error.description, hints: error.hints)
        }
    }

    func parse(_ request: WebhookRequest) throws(HookFailure) -> [HookEvent] {
        let push = try Payload.decode(PushPayload.self, from: request.body, event: "Pub/Sub push")
        guard let raw = Data(base64Encoded: push.message.data) else {
            throw .badRequest("cannot decode message.data", reason: "message.data is not base64")
        }
        let data = try Payload.decode(Notification.self, from: raw, event: "container registry notification")
        guard data.action.lowercased() == "insert" else {
            return [HookEvent(name: data.action, kind: .other)]
        }
        guard let reference = data.tag ?? data.digest, let image = ImageReference.parse(reference) else {
            throw .badRequest("cannot parse the image name", reason: "the notification has neither a usable `tag` nor `digest`")
        }
        let digest = data.digest.flatMap { $0.split(separator: "@", maxSplits: 1).dropFirst().first.map(String.init) }
        return [HookEvent(name: data.action, kind: .imagePush(ImagePush(image: image, digest: digest)))]
    }

    /// Pub/Sub names the message only in the body, which is not read before verification.
    func deliveryID(of request: WebhookRequest) -> String? { nil }

    /// The message's `messageId` (Pub/Sub redelivers a message it thinks was not taken with the
    /// same id).
    func acceptedDeliveryID(of request: WebhookRequest) -> String? {
        guard let message = (try? JSONDecoder().decode(PushPayload.self, from: request.body))?.message else { return nil }
        return message.messageId ?? message.message_id
    }

    struct PushPayload: Decodable {
        var message: Message

        struct Message: Decodable {
            var data: String
            var messageId: String?
            var message_id: String?
        }
    }

    struct Notification: Decodable {
        var action: String
        var digest: String?
        var tag: String?
    }
}

extension Source {
    public static let googleContainerRegistry = Source("GoogleContainerRegistry")
}

/// What a GoogleContainerRegistry endpoint reads besides its key.
public struct GoogleContainerRegistrySettings: SourceSettings, Equatable {
    /// Pub/Sub push authentication (`gcr`); nil: the URL is the only guard.
    public var auth: GoogleAuthSettings?

    public init(auth: GoogleAuthSettings? = nil) {
        self.auth = auth
    }
}

extension GoogleContainerRegistry {
    static let kind = SourceKind(
        .googleContainerRegistry, keys: ["gcr"], fluxRecvKeys: ["gcr"], defaults: GoogleContainerRegistrySettings(),
        readSettings: readSettings,
        verifiesSender: { $0.settings(GoogleContainerRegistrySettings.self)?.auth != nil },
        // A keys URL whose scheme no client takes: a well-formed token reaches the key store and
        // fails there, offline, when fuzzed.
        fuzzVariants: [GoogleContainerRegistrySettings(auth: GoogleAuthSettings(audience: "hookgate-fuzz", keysURL: "offline://hookgate-fuzz/certs"))],
        sample: GoogleContainerRegistry.sample(_:for:),
        makeProvider: { endpoint, context in
            GoogleContainerRegistry(auth: endpoint.settings(GoogleContainerRegistrySettings.self)?.auth, keys: context.googleKeys)
        })

    private static func readSettings(_ input: SourceSettingsInput) -> (any SourceSettings)? {
        let reader = input.reader
        guard let object = reader.object(input.item["gcr"], path: input.item.qualified("gcr")) else {
            input.warn("GoogleContainerRegistry endpoint without `gcr.audience`: Pub/Sub pushes are not authenticated, the URL is the only guard",
                       fix: "enable push authentication on the subscription and set `gcr.audience`")
            return GoogleContainerRegistrySettings()
        }
        object.rejectUnknownKeys(input.own ? ["audience", "email", "keysURL"] : ["audience"])
        guard let audience = object.string("audience", required: true) else { return nil }
        return GoogleContainerRegistrySettings(auth: GoogleAuthSettings(
            audience: audience, email: object.string("email"), keysURL: object.string("keysURL") ?? GoogleAuthSettings.defaultKeysURL))
    }
}

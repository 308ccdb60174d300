import Foundation

/// A sender that signs nothing (a CI job, a script, a chat bot): the secret URL is the only guard,
/// as for Docker Hub. The body is not read, so any content type is accepted; each request is one
/// trigger named `trigger`.
struct Generic: Provider {
    static let eventName = "trigger"

    let checks = "nothing: the unguessable URL is the only guard"

    func verify(_ request: WebhookRequest) {}

    func parse(_ request: WebhookRequest) -> [HookEvent] {
        [HookEvent(name: Self.eventName, kind: .trigger)]
    }
}

extension Source {
    public static let generic = Source("Generic")
}

extension Generic {
    static let kind = SourceKind(
        .generic,
        readSettings: { input in
            input.warnIfOnlyFluxAPI()
            return input.defaults
        },
        verifiesSender: { _ in false }, sample: Generic.sample(_:for:), makeProvider: { _, _ in Generic() })
}

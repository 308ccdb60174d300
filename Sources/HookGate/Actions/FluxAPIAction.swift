/// `fluxAPI` (or `fluxAPI: {url}`): `POST {url}/v11/notify` to a Flux v1 daemon, as flux-recv did.
/// An endpoint without `notify:` has this one action with the config's `api`.
public struct FluxAPIAction: ActionSpec {
    public var url: String

    public init(url: String) {
        self.url = url
    }

    public var kind: String { "flux-api" }
    public var definition: String { "fluxAPI \(url)" }
    public var summary: String { "fluxAPI \(CredentialedURL(url + "/v11/notify").redacted)" }

    /// Only git and image pushes: fluxd's notify call needs the repository or image that changed.
    public func accepts(_ event: HookEvent) -> Bool {
        FluxChange.json(for: event) != nil
    }

    /// One queue per Flux API, whichever endpoints feed it.
    public func target(endpoint: String, id: String) -> String {
        "flux-api " + CredentialedURL(url + "/v11/notify").redacted
    }

    public func makeNotifiers(target: String, resources: ActionResources) -> [any Notifier] {
        [FluxAPINotifier(baseURL: url, client: resources.client, timeout: resources.notifyTimeout)]
    }

    static let kind = ActionKind(names: ["fluxAPI"]) { input in
        input.options?.rejectUnknownKeys(["url"])
        return FluxAPIAction(url: input.options?.string("url") ?? input.api)
    }
}

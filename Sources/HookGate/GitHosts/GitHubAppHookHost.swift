import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A GitHub App's own webhook, reached with the App's JWT: its deliveries are listed at
/// `/app/hook/deliveries` and sent again there. The hook itself is set in the App's settings, so
/// it is not created, changed or deleted through here, and statuses need an installation.
struct GitHubAppHookHost: GitHost {
    let github: GitHubHost

    /// The App's hook through its JWT (made now; it is valid for ten minutes, longer than a run).
    init(app: GitHubApp, client: HTTPClient, pacer: RateLimitPacer, timeout: TimeAmount = .seconds(30)) throws(GitHostError) {
        let token: String
        do {
            token = try AppJWT(app: app).token()
        } catch {
            throw GitHostError(cause: .unauthorized, description: "cannot sign the App's JWT with \(app.privateKeyPath): \(error)")
        }
        var caller = GitHostCaller(baseURL: app.apiURL, authorization: ("Authorization", "Bearer " + token), client: client, pacer: pacer, timeout: timeout)
        caller.extraHeaders = [("Accept", "application/vnd.github+json"), ("X-GitHub-Api-Version", "2022-11-28")]
        github = GitHubHost(caller: caller)
    }

    /// The App's one hook, with the URL its settings give it.
    func hooks(in scope: HookScope) async throws(GitHostError) -> [HostHook] {
        let reply = try await github.caller.call(.GET, "/app/hook/config", expecting: [200])
        let url = (reply.json as? [String: Any])?["url"] as? String ?? ""
        return [HostHook(id: "app", url: url, events: [], active: true, lastResult: nil)]
    }

    func deliveries(of hook: HostHook, in scope: HookScope, since: Date) async throws(GitHostError) -> [HostDelivery] {
        try await github.deliveries(at: "/app/hook", since: since)
    }

    func redeliver(_ delivery: HostDelivery, of hook: HostHook, in scope: HookScope) async throws(GitHostError) {
        try await github.redeliver(delivery, at: "/app/hook")
    }

    private static let settingsOnly = GitHostError(cause: .refused, description: "a GitHub App's webhook is set in the App's settings, not through its API")

    func create(_ hook: DesiredHook, in scope: HookScope) async throws(GitHostError) -> HostHook { throw Self.settingsOnly }
    func update(_ id: String, to hook: DesiredHook, in scope: HookScope) async throws(GitHostError) { throw Self.settingsOnly }
    func delete(_ id: String, in scope: HookScope) async throws(GitHostError) { throw Self.settingsOnly }

    func postStatus(_ status: CommitStatus) async throws(GitHostError) {
        throw GitHostError(cause: .refused, description: "commit statuses are set with an installation's token or `gitAPI`, not the App's JWT")
    }
}

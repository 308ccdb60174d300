import Foundation
import NIOHTTP1

/// Gitea's and Forgejo's repository and organization hooks. Neither lists past deliveries in its
/// API, so recovery is not offered for them.
struct GiteaHost: GitHost {
    let caller: GitHostCaller

    static let kind = GitHostKind(
        source: .gitea, defaultAPIURL: nil, recovers: false, keepsDeliveries: .zero,
        parsedEvents: [.push, .tag, .delete, .pullRequest, .release],
        eventNames: { kinds in
            var names: Set<String> = []
            if !kinds.isDisjoint(with: [.push, .tag, .delete]) { names.insert("push") }
            if kinds.contains(.pullRequest) { names.insert("pull_request") }
            if kinds.contains(.release) { names.insert("release") }
            return names.sorted()
        },
        authorization: { ("Authorization", "token " + $0) },
        make: { GiteaHost(caller: $0) })

    private func base(_ scope: HookScope) -> String {
        switch scope {
        case .repository(let name): "/repos/" + HostPath.segments(name)
        case .organization(let name): "/orgs/" + HostPath.segment(name)
        }
    }

    func hooks(in scope: HookScope) async throws(GitHostError) -> [HostHook] {
        var hooks: [HostHook] = []
        for page in 1...50 {
            let reply = try await caller.call(.GET, base(scope) + "/hooks?limit=50&page=\(page)", expecting: [200])
            guard let items = reply.json as? [[String: Any]] else { throw HostPath.unexpected(reply, "a list of hooks") }
            hooks += items.compactMap(Self.hook)
            if items.count < 50 { break }
        }
        return hooks
    }

    static func hook(_ item: [String: Any]) -> HostHook? {
        guard let id = item["id"].flatMap(HostPath.text) else { return nil }
        let config = item["config"] as? [String: Any] ?? [:]
        return HostHook(id: id, url: config["url"] as? String ?? "", events: item["events"] as? [String] ?? [],
                        active: item["active"] as? Bool ?? true, lastResult: nil)
    }

    private func body(_ hook: DesiredHook) -> [String: Any] {
        ["active": true, "events": hook.events, "config": ["url": hook.url, "content_type": "json", "secret": hook.secret]]
    }

    func create(_ hook: DesiredHook, in scope: HookScope) async throws(GitHostError) -> HostHook {
        var body = body(hook)
        body["type"] = "gitea"
        let reply = try await caller.call(.POST, base(scope) + "/hooks", json: body, expecting: [201])
        guard let created = (reply.json as? [String: Any]).flatMap(Self.hook) else { throw HostPath.unexpected(reply, "the hook created") }
        return created
    }

    func update(_ id: String, to hook: DesiredHook, in scope: HookScope) async throws(GitHostError) {
        _ = try await caller.call(.PATCH, base(scope) + "/hooks/" + HostPath.segment(id), json: body(hook), expecting: [200])
    }

    func delete(_ id: String, in scope: HookScope) async throws(GitHostError) {
        _ = try await caller.call(.DELETE, base(scope) + "/hooks/" + HostPath.segment(id), expecting: [204, 404])
    }

    func deliveries(of hook: HostHook, in scope: HookScope, since: Date) async throws(GitHostError) -> [HostDelivery] {
        throw GitHostError(cause: .refused, description: "Gitea and Forgejo have no API that lists a hook's deliveries")
    }

    func redeliver(_ delivery: HostDelivery, of hook: HostHook, in scope: HookScope) async throws(GitHostError) {
        throw GitHostError(cause: .refused, description: "Gitea and Forgejo have no API that sends a delivery again")
    }

    func postStatus(_ status: CommitStatus) async throws(GitHostError) {
        var body: [String: Any] = ["state": status.state.rawValue, "context": status.context, "description": status.description]
        if let url = status.targetURL { body["target_url"] = url }
        _ = try await caller.call(.POST, "/repos/" + HostPath.segments(status.repository) + "/statuses/" + HostPath.segment(status.sha), json: body, expecting: [201, 200])
    }
}

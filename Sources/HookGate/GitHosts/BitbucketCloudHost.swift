import Foundation
import NIOHTTP1

/// Bitbucket Cloud's repository and workspace hooks. Its API lists no past deliveries, so
/// recovery is not offered for it.
struct BitbucketCloudHost: GitHost {
    let caller: GitHostCaller

    static let pullRequestEvents = ["pullrequest:created", "pullrequest:updated", "pullrequest:fulfilled", "pullrequest:rejected"]

    static let kind = GitHostKind(
        source: .bitbucketCloud, defaultAPIURL: "https://api.bitbucket.org/2.0", recovers: false, keepsDeliveries: .zero,
        parsedEvents: [.push, .tag, .delete, .pullRequest],
        eventNames: { kinds in
            var names: [String] = []
            if !kinds.isDisjoint(with: [.push, .tag, .delete]) { names.append("repo:push") }
            if kinds.contains(.pullRequest) { names += pullRequestEvents }
            return names.sorted()
        },
        authorization: { ("Authorization", "Bearer " + $0) },
        make: { BitbucketCloudHost(caller: $0) })

    private func base(_ scope: HookScope) -> String {
        switch scope {
        case .repository(let name): "/repositories/" + HostPath.segments(name)
        case .organization(let name): "/workspaces/" + HostPath.segment(name)
        }
    }

    func hooks(in scope: HookScope) async throws(GitHostError) -> [HostHook] {
        var hooks: [HostHook] = []
        var next: String? = base(scope) + "/hooks?pagelen=100"
        var pages = 0
        while let url = next, pages < 50 {
            pages += 1
            let reply = try await caller.call(.GET, url, expecting: [200])
            guard let page = reply.json as? [String: Any], let items = page["values"] as? [[String: Any]] else {
                throw HostPath.unexpected(reply, "a page of hooks")
            }
            hooks += items.compactMap(Self.hook)
            next = page["next"] as? String
        }
        return hooks
    }

    static func hook(_ item: [String: Any]) -> HostHook? {
        guard let id = item["uuid"] as? String else { return nil }
        return HostHook(id: id, url: item["url"] as? String ?? "", events: (item["events"] as? [String] ?? []).sorted(),
                        active: item["active"] as? Bool ?? true, lastResult: nil)
    }

    private func body(_ hook: DesiredHook) -> [String: Any] {
        ["description": "hookgate", "url": hook.url, "active": true, "events": hook.events, "secret": hook.secret]
    }

    func create(_ hook: DesiredHook, in scope: HookScope) async throws(GitHostError) -> HostHook {
        let reply = try await caller.call(.POST, base(scope) + "/hooks", json: body(hook), expecting: [201])
        guard let created = (reply.json as? [String: Any]).flatMap(Self.hook) else { throw HostPath.unexpected(reply, "the hook created") }
        return created
    }

    func update(_ id: String, to hook: DesiredHook, in scope: HookScope) async throws(GitHostError) {
        _ = try await caller.call(.PUT, base(scope) + "/hooks/" + HostPath.segment(id), json: body(hook), expecting: [200])
    }

    func delete(_ id: String, in scope: HookScope) async throws(GitHostError) {
        _ = try await caller.call(.DELETE, base(scope) + "/hooks/" + HostPath.segment(id), expecting: [204, 404])
    }

    func deliveries(of hook: HostHook, in scope: HookScope, since: Date) async throws(GitHostError) -> [HostDelivery] {
        throw GitHostError(cause: .refused, description: "Bitbucket Cloud has no API that lists a hook's deliveries")
    }

    func redeliver(_ delivery: HostDelivery, of hook: HostHook, in scope: HookScope) async throws(GitHostError) {
        throw GitHostError(cause: .refused, description: "Bitbucket Cloud has no API that sends a delivery again")
    }

    func postStatus(_ status: CommitStatus) async throws(GitHostError) {
        let state = switch status.state {
        case .pending: "INPROGRESS"
        case .success: "SUCCESSFUL"
        case .failure: "FAILED"
        case .error: "STOPPED"
        }
        // Bitbucket requires a link; without one, the repository's commit page.
        let body: [String: Any] = [
            "key": String(status.context.prefix(40)), "name": status.context, "state": state, "description": status.description,
            "url": status.targetURL ?? "https://bitbucket.org/\(status.repository)/commits/\(status.sha)",
        ]
        _ = try await caller.call(
            .POST, "/repositories/" + HostPath.segments(status.repository) + "/commit/" + HostPath.segment(status.sha) + "/statuses/build",
            json: body, expecting: [201, 200])
    }
}

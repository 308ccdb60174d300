import Foundation
import NIOHTTP1

/// GitHub's (and GitHub Enterprise Server's) repository and organization hooks and their deliveries.
struct GitHubHost: GitHost {
    let caller: GitHostCaller

    static let kind = GitHostKind(
        source: .gitHub, defaultAPIURL: "https://api.github.com", recovers: true, keepsDeliveries: .seconds(3 * 86400),
        parsedEvents: [.push, .tag, .delete, .pullRequest, .release],
        eventNames: { kinds in
            var names: Set<String> = []
            if !kinds.isDisjoint(with: [.push, .tag, .delete]) { names.insert("push") }
            if kinds.contains(.pullRequest) { names.insert("pull_request") }
            if kinds.contains(.release) { names.insert("release") }
            return names.sorted()
        },
        authorization: { ("Authorization", "Bearer " + $0) },
        make: { GitHubHost(caller: $0) })

    private func base(_ scope: HookScope) -> String {
        switch scope {
        case .repository(let name): "/repos/" + HostPath.segments(name)
        case .organization(let name): "/orgs/" + HostPath.segment(name)
        }
    }

    func hooks(in scope: HookScope) async throws(GitHostError) -> [HostHook] {
        var hooks: [HostHook] = []
        for page in 1...50 {
            let reply = try await caller.call(.GET, base(scope) + "/hooks?per_page=100&page=\(page)", expecting: [200])
            guard let items = reply.json as? [[String: Any]] else { throw HostPath.unexpected(reply, "a list of hooks") }
            hooks += items.compactMap(Self.hook)
            if items.count < 100 { break }
        }
        return hooks
    }

    static func hook(_ item: [String: Any]) -> HostHook? {
        guard let id = item["id"].flatMap(HostPath.text) else { return nil }
        let config = item["config"] as? [String: Any] ?? [:]
        let last = item["last_response"] as? [String: Any]
        let lastResult = last.flatMap { last -> String? in
            let code = last["code"].flatMap(HostPath.text)
            let status = last["status"] as? String
            let text = [code, status].compactMap { $0 }.joined(separator: " ")
            return text.isEmpty || status == "unused" ? nil : text
        }
        return HostHook(id: id, url: config["url"] as? String ?? "", events: item["events"] as? [String] ?? [],
                        active: item["active"] as? Bool ?? true, lastResult: lastResult)
    }

    private func body(_ hook: DesiredHook) -> [String: Any] {
        ["active": true, "events": hook.events,
         "config": ["url": hook.url, "content_type": "json", "secret": hook.secret, "insecure_ssl": "0"]]
    }

    func create(_ hook: DesiredHook, in scope: HookScope) async throws(GitHostError) -> HostHook {
        var body = body(hook)
        body["name"] = "web"
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
        try await deliveries(at: base(scope) + "/hooks/" + HostPath.segment(hook.id), since: since)
    }

    func redeliver(_ delivery: HostDelivery, of hook: HostHook, in scope: HookScope) async throws(GitHostError) {
        try await redeliver(delivery, at: base(scope) + "/hooks/" + HostPath.segment(hook.id))
    }

    /// The deliveries of the hook at `hookPath` (`/repos/o/r/hooks/1`, or an App's `/app/hook`),
    /// newest first, back to `since`; cursor pages through the `Link` header.
    func deliveries(at hookPath: String, since: Date) async throws(GitHostError) -> [HostDelivery] {
        var all: [HostDelivery] = []
        var next: String? = hookPath + "/deliveries?per_page=100"
        var pages = 0
        while let url = next, pages < 50 {
            pages += 1
            let reply = try await caller.call(.GET, url, expecting: [200])
            guard let items = reply.json as? [[String: Any]] else { throw HostPath.unexpected(reply, "a list of deliveries") }
            for item in items {
                guard let id = item["id"].flatMap(HostPath.text) else { continue }
                let at = (item["delivered_at"] as? String).flatMap(HostPath.date)
                all.append(HostDelivery(id: id, deliveryID: item["guid"] as? String, at: at,
                                        statusCode: item["status_code"] as? Int ?? 0, event: item["event"] as? String))
            }
            // Newest first: a page that reaches before `since` is the last one needed.
            if let oldest = all.last?.at, oldest < since { break }
            next = HostPath.nextLink(reply.headers.first(name: "Link"))
        }
        return all.filter { ($0.at ?? .distantFuture) >= since }
    }

    func redeliver(_ delivery: HostDelivery, at hookPath: String) async throws(GitHostError) {
        _ = try await caller.call(.POST, hookPath + "/deliveries/" + HostPath.segment(delivery.id) + "/attempts", expecting: [202, 200])
    }

    func postStatus(_ status: CommitStatus) async throws(GitHostError) {
        var body: [String: Any] = ["state": status.state.rawValue, "context": status.context, "description": status.description]
        if let url = status.targetURL { body["target_url"] = url }
        _ = try await caller.call(.POST, "/repos/" + HostPath.segments(status.repository) + "/statuses/" + HostPath.segment(status.sha), json: body, expecting: [201])
    }
}

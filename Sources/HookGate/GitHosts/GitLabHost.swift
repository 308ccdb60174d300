import Foundation
import NIOHTTP1

/// GitLab's project and group hooks and their recent events (gitlab.com or self-managed).
struct GitLabHost: GitHost {
    let caller: GitHostCaller

    /// GitLab's hook flags for hookgate's event kinds.
    static let flags: [(flag: String, kinds: Set<Rule.EventKind>)] = [
        ("push_events", [.push, .delete]), ("tag_push_events", [.tag, .delete]), ("merge_requests_events", [.pullRequest]),
        ("releases_events", [.release]),
    ]

    static let kind = GitHostKind(
        source: .gitLab, defaultAPIURL: "https://gitlab.com/api/v4", recovers: true, keepsDeliveries: .seconds(7 * 86400),
        parsedEvents: [.push, .tag, .delete, .pullRequest, .release],
        eventNames: { kinds in flags.filter { !$0.kinds.isDisjoint(with: kinds) }.map(\.flag).sorted() },
        authorization: { ("PRIVATE-TOKEN", $0) },
        make: { GitLabHost(caller: $0) })

    private func base(_ scope: HookScope) -> String {
        switch scope {
        case .repository(let name): "/projects/" + HostPath.segment(name)
        case .organization(let name): "/groups/" + HostPath.segment(name)
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
        let events = flags.map(\.flag).filter { item[$0] as? Bool == true }
        // `alert_status` says whether GitLab stopped sending after failures.
        let alert = item["alert_status"] as? String
        return HostHook(id: id, url: item["url"] as? String ?? "", events: events.sorted(),
                        active: alert == nil || alert == "executable", lastResult: alert)
    }

    private func body(_ hook: DesiredHook) -> [String: Any] {
        var body: [String: Any] = ["url": hook.url, "token": hook.secret, "enable_ssl_verification": true]
        for (flag, _) in Self.flags { body[flag] = hook.events.contains(flag) }
        return body
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
        _ = try await caller.call(.DELETE, base(scope) + "/hooks/" + HostPath.segment(id), expecting: [204, 200, 404])
    }

    /// GitLab keeps a project hook's events for 7 days; group hooks' events cannot be listed.
    func deliveries(of hook: HostHook, in scope: HookScope, since: Date) async throws(GitHostError) -> [HostDelivery] {
        guard case .repository = scope else { return [] }
        var all: [HostDelivery] = []
        for page in 1...50 {
            let reply = try await caller.call(.GET, base(scope) + "/hooks/" + HostPath.segment(hook.id) + "/events?per_page=100&page=\(page)", expecting: [200])
            guard let items = reply.json as? [[String: Any]] else { throw HostPath.unexpected(reply, "a list of hook events") }
            for item in items {
                guard let id = item["id"].flatMap(HostPath.text) else { continue }
                let headers = item["request_headers"] as? [String: Any] ?? [:]
                func header(_ name: String) -> String? {
                    headers.first { $0.key.lowercased() == name.lowercased() }?.value as? String
                }
                // Not a number when GitLab could not connect ("internal error").
                let status = item["response_status"].flatMap(HostPath.text).flatMap { Int($0) } ?? 0
                all.append(HostDelivery(
                    id: id, deliveryID: header("Idempotency-Key") ?? header("X-Gitlab-Event-UUID"),
                    at: (item["created_at"] as? String).flatMap(HostPath.date), statusCode: status, event: item["trigger"] as? String ?? header("X-Gitlab-Event")))
            }
            if items.count < 100 { break }
            if let oldest = all.last?.at, oldest < since { break }
        }
        return all.filter { ($0.at ?? .distantFuture) >= since }
    }

    func redeliver(_ delivery: HostDelivery, of hook: HostHook, in scope: HookScope) async throws(GitHostError) {
        _ = try await caller.call(
            .POST, base(scope) + "/hooks/" + HostPath.segment(hook.id) + "/events/" + HostPath.segment(delivery.id) + "/resend",
            expecting: [201, 200, 202])
    }

    func postStatus(_ status: CommitStatus) async throws(GitHostError) {
        let state = switch status.state {
        case .pending: "running"
        case .success: "success"
        case .failure: "failed"
        case .error: "canceled"
        }
        var body: [String: Any] = ["state": state, "name": status.context, "description": status.description]
        if let url = status.targetURL { body["target_url"] = url }
        do {
            _ = try await caller.call(.POST, "/projects/" + HostPath.segment(status.repository) + "/statuses/" + HostPath.segment(status.sha), json: body, expecting: [201, 200])
        } catch where error.cause == .refused && error.description.contains("Cannot transition status") {
            // GitLab refuses to set the state a status has already: it is set.
        }
    }
}

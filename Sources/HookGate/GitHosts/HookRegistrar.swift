import Foundation
import Synchronization

/// Keeps an endpoint's hook at each repository and organization as it should be: created when
/// missing, written again when its URL, events, secret or `active` drifted, and (with `prune`)
/// other hooks pointing at this hookgate deleted. Remembers what it wrote, since hosts never show
/// a secret back (docs/git-hosts.md).
public final class HookRegistrar: Sendable {
    public struct Change: Sendable, Equatable {
        public enum Kind: String, Sendable {
            case created, updated, unchanged, deleted, failed
        }

        public var scope: HookScope
        public var kind: Kind
        public var hookID: String?
        /// What drifted, what was deleted, or why it failed.
        public var detail: String
    }

    /// Other hooks to delete: those whose URL starts with `prefix` that no endpoint claims.
    public struct Pruning: Sendable {
        public var prefix: String
        public var claimed: Set<String>

        public init(prefix: String, claimed: Set<String>) {
            self.prefix = prefix
            self.claimed = claimed
        }
    }

    /// The digest of what was last written to each hook (by "api scope id").
    private let written = Mutex<[String: String]>([:])
    /// The hook id managed for each endpoint at each scope (by "endpoint api scope"), so a hook
    /// whose URL changed with a key rotation is moved, not duplicated.
    private let managed = Mutex<[String: String]>([:])

    public init() {}

    /// Reconciles `desired` at each scope; a rate limit stops the run (the rest is `failed`).
    public func reconcile(
        _ desired: DesiredHook, endpoint: String, api: String, scopes: [HookScope], host: any GitHost, pruning: Pruning? = nil
    ) async -> [Change] {
        var changes: [Change] = []
        for (index, scope) in scopes.enumerated() {
            do {
                changes += try await reconcile(desired, endpoint: endpoint, api: api, scope: scope, host: host, pruning: pruning)
            } catch {
                changes.append(Change(scope: scope, kind: .failed, hookID: nil, detail: error.description))
                if error.cause == .rateLimited {
                    changes += scopes.dropFirst(index + 1).map { Change(scope: $0, kind: .failed, hookID: nil, detail: "not tried: \(error.description)") }
                    break
                }
            }
        }
        return changes
    }

    private func reconcile(
        _ desired: DesiredHook, endpoint: String, api: String, scope: HookScope, host: any GitHost, pruning: Pruning?
    ) async throws(GitHostError) -> [Change] {
        let hooks = try await host.hooks(in: scope)
        let managedKey = "\(endpoint) \(api) \(scope)"
        let previous = managed.withLock { $0[managedKey] }
        var changes: [Change] = []
        let mine = hooks.first { $0.url == desired.url } ?? hooks.first { $0.id == previous }
        if let mine {
            var drift: [String] = []
            if mine.url != desired.url { drift.append("URL") }
            if Set(mine.events) != Set(desired.events) { drift.append("events \(mine.events.joined(separator: ",")) → \(desired.events.joined(separator: ","))") }
            if !mine.active { drift.append("disabled") }
            let writtenKey = "\(api) \(scope) \(mine.id)"
            if written.withLock({ $0[writtenKey] }) != desired.digest, drift.isEmpty {
                drift.append(written.withLock { $0[writtenKey] } == nil ? "secret not known to be current" : "secret or key rotated")
            }
            if drift.isEmpty {
                changes.append(Change(scope: scope, kind: .unchanged, hookID: mine.id, detail: "up to date"))
            } else {
                try await host.update(mine.id, to: desired, in: scope)
                changes.append(Change(scope: scope, kind: .updated, hookID: mine.id, detail: drift.joined(separator: "; ")))
            }
            remember(mine.id, desired, api: api, scope: scope, managedKey: managedKey)
        } else {
            let created = try await host.create(desired, in: scope)
            changes.append(Change(scope: scope, kind: .created, hookID: created.id, detail: "events \(desired.events.joined(separator: ","))"))
            remember(created.id, desired, api: api, scope: scope, managedKey: managedKey)
        }
        if let pruning {
            let keep = managed.withLock { $0[managedKey] }
            for hook in hooks where hook.id != keep && hook.url.hasPrefix(pruning.prefix) && (!pruning.claimed.contains(hook.url) || hook.url == desired.url) {
                try await host.delete(hook.id, in: scope)
                changes.append(Change(scope: scope, kind: .deleted, hookID: hook.id,
                                      detail: hook.url == desired.url ? "a second hook to the same URL" : "no endpoint has its URL"))
            }
        }
        return changes
    }

    private func remember(_ id: String, _ desired: DesiredHook, api: String, scope: HookScope, managedKey: String) {
        written.withLock { $0["\(api) \(scope) \(id)"] = desired.digest }
        managed.withLock { $0[managedKey] = id }
    }
}

import Synchronization

/// Backends added to `backends:` groups through the admin API (`--admin-listen`), kept in the
/// queue's database so they survive restarts. Every config served has them appended to the
/// `forward` actions that name their group (``applied(to:)``).
public final class DynamicBackends: Sendable {
    private let urls: Mutex<[String: [String]]>
    private let store: DeliveryStore

    public init(store: DeliveryStore) {
        self.store = store
        urls = Mutex(store.savedBackends)
    }

    /// The added URLs of `group`, in the order they were added.
    public func urls(of group: String) -> [String] {
        urls.withLock { $0[group] ?? [] }
    }

    /// Adds `url` to `group` durably; false when it was there already.
    public func add(_ url: String, to group: String) async throws(StoreError) -> Bool {
        let added = try await store.saveBackend(group: group, url: url, add: true)
        urls.withLock { if !($0[group] ?? []).contains(url) { $0[group, default: []].append(url) } }
        return added
    }

    /// Removes `url` from `group` durably; false when it was not there.
    public func remove(_ url: String, from group: String) async throws(StoreError) -> Bool {
        let removed = try await store.saveBackend(group: group, url: url, add: false)
        urls.withLock { $0[group]?.removeAll { $0 == url } }
        return removed
    }

    /// `config` with the added backends of each group appended to the `forward` actions that name
    /// it (their ids do not change: a group's action is known by the group's name). Groups the
    /// config no longer has are left out.
    public func applied(to config: Config) -> Config {
        let added = urls.withLock { $0 }.filter { !$0.value.isEmpty && config.backendGroups[$0.key] != nil }
        guard !added.isEmpty else { return config }
        var config = config
        for endpoint in config.endpoints.indices {
            for action in config.endpoints[endpoint].notify.indices {
                guard var forward = config.endpoints[endpoint].notify[action].spec as? ForwardAction, let group = forward.group,
                      let extra = added[group] else { continue }
                for url in extra where !forward.backends.contains(where: { $0.url.plain == CredentialedURL(url).plain }) {
                    forward.backends.append(Backend(url: url))
                }
                config.endpoints[endpoint].notify[action].spec = forward
            }
        }
        return config
    }
}

import Synchronization

/// The Kubernetes client, made the first time a config needs it (at start, or when a reload adds
/// the first `reconcile` or `create` action) and kept until shutdown.
public final class KubeAccess: Sendable {
    private let connect: @Sendable () throws -> KubeClient?
    private let made = Mutex<KubeClient?>(nil)

    /// - Parameter connect: resolves the connection and makes the client; nil when hookgate has no
    ///   way to reach Kubernetes. Called again after it returned nil or threw.
    public init(connect: @escaping @Sendable () throws -> KubeClient?) {
        self.connect = connect
    }

    /// Uses `client` as it is (tests, or no Kubernetes at all).
    public convenience init(client: KubeClient?) {
        self.init(connect: { client })
    }

    /// The client, made now if it was not yet.
    public func client() throws -> KubeClient? {
        try made.withLock { made in
            if let made { return made }
            made = try connect()
            return made
        }
    }

    /// Shuts the client down if one was made.
    public func shutdown() async {
        let client = made.withLock { $0 }
        try? await client?.shutdown()
    }
}

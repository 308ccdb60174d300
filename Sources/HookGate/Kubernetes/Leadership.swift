import Foundation
import Logging

/// Which replica does the background work that must run once per cluster (GitHub App tokens,
/// hook registration, delivery recovery): the holder of the Lease `hookgate-leader`. Every
/// service asks ``holds()``; the Lease is renewed at most once per half `retryPeriod` however
/// many ask.
public actor Leadership {
    public static let leaseName = "hookgate-leader"

    private let kube: KubeAccess
    private let namespace: @Sendable () -> String?
    public nonisolated let identity: String
    private let leaseDuration: Duration
    private let retryPeriod: Duration
    private let logger: Logger
    private var lease: LeaderLease?
    private var last: (at: ContinuousClock.Instant, holds: Bool)?
    /// Set on shutdown: no service takes the Lease again once one has given it up.
    private var stopped = false

    /// - Parameter namespace: where the Lease lives; nil: the Kubernetes connection's namespace.
    public init(
        kube: KubeAccess, namespace: @escaping @Sendable () -> String? = { nil }, identity: String = LeaderLease.defaultIdentity(),
        leaseDuration: Duration = LeaderLease.defaultLeaseDuration, retryPeriod: Duration = LeaderLease.defaultRetryPeriod, logger: Logger
    ) {
        self.kube = kube
        self.namespace = namespace
        self.identity = identity
        self.leaseDuration = leaseDuration
        self.retryPeriod = retryPeriod
        self.logger = logger
    }

    /// True while this replica holds the Lease. Nil when hookgate cannot reach Kubernetes at all
    /// (a single process outside a cluster: it does the work alone).
    public func holds() async -> Bool? {
        if stopped || Task.isCancelled { return false }
        if let last, ContinuousClock.now - last.at < retryPeriod / 2 { return last.holds }
        let client: KubeClient?
        do {
            client = try kube.client()
        } catch {
            logger.error("cannot reach the Kubernetes API to take the Lease \(Self.leaseName)", metadata: ["kube.error": "\(error)"])
            last = (.now, false)
            return false
        }
        guard let client else { return nil }
        let current = lease ?? LeaderLease(
            name: Self.leaseName, namespace: namespace() ?? client.connection.namespace, kube: client, identity: identity, leaseDuration: leaseDuration)
        lease = current
        let holds: Bool
        do {
            holds = try await current.acquireOrRenew()
        } catch {
            logger.error("cannot take or renew the Lease \(Self.leaseName) that chooses the replica doing background work", metadata: ["kube.error": "\(error)"])
            holds = false
        }
        last = (.now, holds)
        return holds
    }

    /// Gives the Lease up, if held (on shutdown), so another replica need not wait for it to expire.
    public func release() async {
        guard !stopped else { return }
        stopped = true
        // Whatever the last renewal said (one cut short by the shutdown reads as "not held"),
        // the Lease may be this replica's: LeaderLease.release clears it only if it is.
        guard let lease else { return }
        last = nil
        // Shutdown may have cancelled the calling task already (the server's end cancels the
        // service group): give the Lease up from a task of its own, which is not cancelled.
        let outcome = await Task { () async -> KubeError? in
            do throws(KubeError) { try await lease.release() } catch { return error }
            return nil
        }.value
        if let outcome {
            logger.warning("cannot give up the Lease \(Self.leaseName); another replica takes it over when it expires", metadata: ["kube.error": "\(outcome)"])
        } else {
            logger.info("gave up the Lease \(Self.leaseName)")
        }
    }
}

import Foundation

/// Leader election with a `coordination.k8s.io/v1` Lease, as Kubernetes controllers do it: the
/// holder renews it every `retryPeriod`; another replica takes it over once it has not been renewed
/// for `leaseDuration`. Every change is an update with the Lease's `resourceVersion`, so two
/// replicas can never both win.
public final class LeaderLease: Sendable {
    public let name: String
    public let namespace: String
    /// Who this replica is (`hostname-pid-random`).
    public let identity: String
    public let leaseDuration: Duration
    private let kube: KubeClient

    /// client-go's defaults.
    public static let defaultLeaseDuration: Duration = .seconds(15)
    public static let defaultRetryPeriod: Duration = .seconds(2)

    static let leases = KubeResource(group: "coordination.k8s.io", version: "v1", plural: "leases", kind: "Lease")

    public init(name: String, namespace: String, kube: KubeClient, identity: String = LeaderLease.defaultIdentity(), leaseDuration: Duration = LeaderLease.defaultLeaseDuration) {
        self.name = name
        self.namespace = namespace
        self.kube = kube
        self.identity = identity
        self.leaseDuration = leaseDuration
    }

    public static func defaultIdentity() -> String {
        "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// Takes or renews the Lease; true while this replica holds it.
    public func acquireOrRenew(now: Date = Date()) async throws(KubeError) -> Bool {
        let time = Self.microTime(now)
        let seconds = Int(leaseDuration.components.seconds)
        guard let data = try await kube.get(Self.leases, namespace: namespace, name: name) else {
            let lease: [String: Any] = [
                "apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": ["name": name, "namespace": namespace],
                "spec": ["holderIdentity": identity, "leaseDurationSeconds": seconds, "acquireTime": time, "renewTime": time, "leaseTransitions": 0],
            ]
            do {
                try await kube.create(Self.leases, namespace: namespace, object: Self.json(lease), name: name)
                return true
            } catch where error.reason == .alreadyExists {
                return false
            }
        }
        guard var lease = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any], var spec = lease["spec"] as? [String: Any] else {
            throw KubeError(reason: .other, code: 200, description: "the Lease \(namespace)/\(name) is not the JSON expected")
        }
        let holder = spec["holderIdentity"] as? String
        let renewed = (spec["renewTime"] as? String).flatMap(Self.parse) ?? .distantPast
        let duration = Double(spec["leaseDurationSeconds"] as? Int ?? seconds)
        if holder != identity {
            // Held by another replica that renewed it lately: leave it.
            if let holder, !holder.isEmpty, now.timeIntervalSince(renewed) < duration { return false }
            spec["acquireTime"] = time
            spec["leaseTransitions"] = (spec["leaseTransitions"] as? Int ?? 0) + 1
        }
        spec["holderIdentity"] = identity
        spec["renewTime"] = time
        spec["leaseDurationSeconds"] = seconds
        lease["spec"] = spec
        do {
            try await kube.replace(Self.leases, namespace: namespace, name: name, object: Self.json(lease))
            return true
        } catch where error.reason == .conflict {
            return false
        }
    }

    /// Gives the Lease up (on shutdown), so another replica need not wait for it to expire.
    public func release() async throws(KubeError) {
        guard let data = try await kube.get(Self.leases, namespace: namespace, name: name),
              var lease = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any], var spec = lease["spec"] as? [String: Any],
              spec["holderIdentity"] as? String == identity else { return }
        spec["holderIdentity"] = ""
        lease["spec"] = spec
        try await kube.replace(Self.leases, namespace: namespace, name: name, object: Self.json(lease))
    }

    private static func json(_ object: [String: Any]) -> Data {
        (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
    }

    /// Kubernetes' MicroTime: RFC 3339 with six fractional digits, in UTC.
    static func microTime(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        let micros = Int((date.timeIntervalSince1970 - seconds) * 1_000_000)
        let base = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: seconds)).dropLast()
        return base + "." + String(format: "%06d", micros) + "Z"
    }

    static func parse(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        // Six fractional digits are more than the formatter reads: drop the last three.
        if let dot = text.firstIndex(of: "."), let end = text[dot...].firstIndex(where: { !$0.isNumber && $0 != "." }) {
            let fraction = text[text.index(after: dot)..<end].prefix(3)
            return formatter.date(from: text[..<dot] + "." + fraction + text[end...])
        }
        return ISO8601DateFormatter().date(from: text)
    }
}

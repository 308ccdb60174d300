import Foundation
import Synchronization

/// Asks the git host to send again the deliveries to an endpoint's hooks that failed and that
/// hookgate never accepted (docs/git-hosts.md). Remembers what it asked for, to tell recovered
/// deliveries from those still failing.
public final class DeliveryRecovery: Sendable {
    public struct Report: Sendable {
        /// The deliveries asked for again in this run.
        public var asked: [(scope: HookScope, delivery: HostDelivery)] = []
        /// Failed at the host, but accepted by hookgate (a late answer the host gave up on).
        public var alreadyAccepted = 0
        /// Asked for in an earlier run, and since accepted or delivered.
        public var recovered = 0
        /// Asked for in an earlier run, and still not delivered (asked again).
        public var stillFailing = 0
        /// Failed and not accepted, but not asked for: over `maxPerRun`.
        public var leftForLater = 0
        /// Deliveries looked at.
        public var examined = 0
        /// Calls that failed, with why.
        public var problems: [String] = []
        /// Set when the host's rate limit stopped the run.
        public var pausedUntil: Date?
    }

    /// Delivery ids asked for, by endpoint, and not seen delivered since.
    private let pending = Mutex<[String: Set<String>]>([:])

    public init() {}

    /// - Parameters:
    ///   - hookURL: only hooks with this URL (the endpoint's); nil: every hook listed (an App's one).
    ///   - accepted: whether hookgate accepted a delivery id (the queue's table of seen ids).
    ///   - dryRun: report what would be asked, ask nothing.
    public func run(
        endpoint: String, hookURL: String?, scopes: [HookScope], host: any GitHost, since: Date, maxPerRun: Int, dryRun: Bool = false,
        accepted: @Sendable (String) async -> Bool
    ) async -> Report {
        var report = Report()
        var stillPending = pending.withLock { $0[endpoint] ?? [] }
        var listed: Set<String> = []
        scopes: for scope in scopes {
            do {
                for hook in try await host.hooks(in: scope) where hookURL == nil || hook.url == hookURL {
                    let deliveries = try await host.deliveries(of: hook, in: scope, since: since)
                    report.examined += deliveries.count
                    // Every attempt of one webhook carries its delivery id; decide once per webhook.
                    var order: [String] = []
                    var attempts: [String: [HostDelivery]] = [:]
                    for delivery in deliveries {
                        let key = delivery.deliveryID ?? "attempt " + delivery.id
                        if attempts[key] == nil { order.append(key) }
                        attempts[key, default: []].append(delivery)
                    }
                    listed.formUnion(order)
                    for key in order {
                        let tries = attempts[key] ?? []
                        let askedBefore = stillPending.contains(key)
                        let accepted = if let id = tries.first?.deliveryID { await accepted(id) } else { false }
                        if tries.contains(where: \.succeeded) || accepted {
                            if askedBefore {
                                report.recovered += 1
                                stillPending.remove(key)
                            } else if accepted, !tries.contains(where: \.succeeded) {
                                report.alreadyAccepted += 1
                            }
                            continue
                        }
                        if askedBefore { report.stillFailing += 1 }
                        guard report.asked.count < maxPerRun else {
                            report.leftForLater += 1
                            continue
                        }
                        let latest = tries.max { ($0.at ?? .distantPast) < ($1.at ?? .distantPast) } ?? tries[0]
                        if !dryRun { try await host.redeliver(latest, of: hook, in: scope) }
                        report.asked.append((scope, latest))
                        if !dryRun { stillPending.insert(key) }
                    }
                }
            } catch {
                report.problems.append("\(scope): \(error.description)")
                if error.cause == .rateLimited {
                    report.pausedUntil = error.retryAt
                    break scopes
                }
            }
        }
        // Forget what the host no longer lists (older than the lookback), after a complete run.
        if report.problems.isEmpty { stillPending.formIntersection(listed) }
        pending.withLock { $0[endpoint] = stillPending }
        return report
    }
}

import Foundation
import Synchronization

/// When a downstream that keeps failing is paused (`forward`'s `pauseAfter` and `probeEvery`).
public struct Pausing: Sendable, Equatable {
    /// Failures in a row that pause it.
    public var failures: Int
    /// While paused, how often one delivery is let through to probe it.
    public var probeInterval: Duration

    public static let defaultFailures = 5
    public static let defaultProbeInterval: Duration = .seconds(30)

    public init(failures: Int = Pausing.defaultFailures, probeInterval: Duration = Pausing.defaultProbeInterval) {
        self.failures = failures
        self.probeInterval = probeInterval
    }
}

/// A circuit breaker per target, for notifiers with ``Notifier/pausing``: after that many failures
/// in a row the target is paused, and until it answers again only one attempt per probe interval
/// is let through, from the queue or from a sync delivery alike. A 4xx answer is an answer: it
/// counts as a target that is up.
public final class CircuitBreakers: Sendable {
    public struct State: Sendable, Equatable {
        public var failures: Int
        /// Set while paused: when the next probe may go.
        public var probeAt: Date?
        public var pausedSince: Date?
    }

    private let states = Mutex<[String: State]>([:])
    /// Told when a target is paused (true) or answers again (false), to record it.
    private let changed: @Sendable (_ target: String, _ paused: Bool, _ state: State) -> Void

    public init(changed: @escaping @Sendable (_ target: String, _ paused: Bool, _ state: State) -> Void = { _, _, _ in }) {
        self.changed = changed
    }

    /// Nil when an attempt on `target` may go now (a probe, if it is paused: the next one is then
    /// an interval away); else when the next probe may.
    public func hold(_ target: String, pausing: Pausing, now: Date = Date()) -> Date? {
        states.withLock { states in
            guard var state = states[target], let probeAt = state.probeAt else { return nil }
            guard now >= probeAt else { return probeAt }
            state.probeAt = now.addingTimeInterval(pausing.probeInterval.seconds)
            states[target] = state
            return nil
        }
    }

    /// Records how an attempt on `target` ended: `up` when it answered (2xx, or a 4xx that is the
    /// request's fault), not when it failed, timed out or could not be reached.
    public func record(_ target: String, up: Bool, pausing: Pausing, now: Date = Date()) {
        let change: (Bool, State)? = states.withLock { states in
            var state = states[target] ?? State(failures: 0)
            if up {
                states[target] = nil
                return state.probeAt != nil ? (false, State(failures: 0)) : nil
            }
            state.failures += 1
            let pausesNow = state.probeAt == nil && state.failures >= pausing.failures
            if pausesNow {
                state.pausedSince = now
                state.probeAt = now.addingTimeInterval(pausing.probeInterval.seconds)
            }
            states[target] = state
            return pausesNow ? (true, state) : nil
        }
        if let change { changed(target, change.0, change.1) }
    }

    /// Whether `target` is paused.
    public func isPaused(_ target: String) -> Bool {
        states.withLock { $0[target]?.probeAt != nil }
    }

    /// The paused targets with their state.
    public var paused: [String: State] {
        states.withLock { $0.filter { $0.value.probeAt != nil } }
    }

    /// Whether `failure` says the target is down (rather than that it refused this request).
    static func isDown(_ failure: NotifyFailure?) -> Bool {
        guard let failure else { return false }
        if failure.final { return false }
        guard failure.kind == .rejected, let status = failure.status else { return true }
        return !(400..<500).contains(status) || status == 408 || status == 429
    }
}

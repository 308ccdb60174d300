import Synchronization

/// An endpoint's ``RateLimit`` at run time: `burst` tokens, refilled at the limit's rate; each
/// request takes one or is refused with the time until the next one.
final class TokenBucket: Sendable {
    let limit: RateLimit
    private let state: Mutex<(tokens: Double, at: ContinuousClock.Instant)>

    init(_ limit: RateLimit, now: ContinuousClock.Instant = .now) {
        self.limit = limit
        state = Mutex((Double(limit.burst), now))
    }

    /// Takes a token: nil when one was there, else how long until one will be.
    func take(now: ContinuousClock.Instant = .now) -> Duration? {
        let rate = limit.perSecond
        return state.withLock { state in
            let elapsed = now - state.at
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            state.tokens = min(Double(limit.burst), state.tokens + max(0, seconds) * rate)
            state.at = max(state.at, now)
            guard state.tokens < 1 else {
                state.tokens -= 1
                return nil
            }
            return .milliseconds(Int64(((1 - state.tokens) / rate * 1000).rounded(.up)))
        }
    }
}

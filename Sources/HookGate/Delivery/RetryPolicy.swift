import Foundation

/// When to try a failed notification again, and when to give up: a pure function of the
/// attempt, the failure, the clock and a random draw, so tests drive it without waiting.
struct RetryPolicy: Sendable {
    let settings: DeliverySettings

    /// What becomes of a notification after a failed attempt.
    enum Decision: Equatable {
        /// Tried again at this time.
        case retry(at: Date)
        /// A dead letter, with why.
        case giveUp(String)
    }

    /// The decision after attempt number `attempts` failed with `failure`, for a notification
    /// first queued at `createdAt`. `random` draws from 0.5…1 for jitter.
    func decide(attempts: Int, createdAt: Date, failure: NotifyFailure, now: Date, random: () -> Double) -> Decision {
        if failure.isPermanent { return .giveUp(failure.detail) }
        let next = now.addingTimeInterval(delay(afterAttempts: attempts, retryAfter: failure.retryAfter, random: random).seconds)
        if givesUp(attempts: attempts, createdAt: createdAt, next: next) { return .giveUp(failure.detail) }
        return .retry(at: next)
    }

    /// The delay before attempt number `attempts + 1`: the downstream's `Retry-After` when it gave
    /// one, else exponential backoff from `initialBackoff`, capped at `maxBackoff`, with jitter
    /// (a random point in the upper half) so that many notifications do not retry in step.
    func delay(afterAttempts attempts: Int, retryAfter: Duration?, random: () -> Double = { Double.random(in: 0.5...1.0) }) -> Duration {
        if let retryAfter { return retryAfter }
        let base = settings.initialBackoff.seconds * pow(2, Double(max(0, attempts - 1)))
        let capped = min(base, settings.maxBackoff.seconds)
        return .milliseconds(Int64(capped * min(1, max(0.5, random())) * 1000))
    }

    /// True when a notification first queued at `createdAt` should become a dead letter rather
    /// than be tried again at `next`.
    func givesUp(attempts: Int, createdAt: Date, next: Date) -> Bool {
        if settings.maxAttempts > 0 && attempts >= settings.maxAttempts { return true }
        return next.timeIntervalSince(createdAt) > settings.maxAge.seconds
    }
}

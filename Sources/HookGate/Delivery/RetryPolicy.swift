import Foundation

/// When to try a failed notification again, and when to give up.
struct RetryPolicy: Sendable {
    let settings: DeliverySettings

    /// The delay before attempt number `attempts + 1`: the downstream's `Retry-After` when it gave
    /// one, else exponential backoff from `initialBackoff`, capped at `maxBackoff`, with jitter
    /// (a random point in the upper half) so that many notifications do not retry in step.
    func delay(afterAttempts attempts: Int, retryAfter: Duration?) -> Duration {
        if let retryAfter { return retryAfter }
        let base = settings.initialBackoff.seconds * pow(2, Double(max(0, attempts - 1)))
        let capped = min(base, settings.maxBackoff.seconds)
        let jittered = capped * Double.random(in: 0.5...1.0)
        return .milliseconds(Int64(jittered * 1000))
    }

    /// True when a notification first queued at `createdAt` should become a dead letter rather
    /// than be tried again at `next`.
    func givesUp(attempts: Int, createdAt: Date, next: Date) -> Bool {
        if settings.maxAttempts > 0 && attempts >= settings.maxAttempts { return true }
        return next.timeIntervalSince(createdAt) > settings.maxAge.seconds
    }
}

import Synchronization

/// How many lines of one kind may be logged: a burst, then one per interval. A flood of refused
/// requests then costs a few lines a second instead of one per request, and the next line that
/// is written says how many were left out (the metrics still count every one).
final class LogAllowance: Sendable {
    private let bucket: TokenBucket
    private let skipped = Atomic<Int>(0)

    /// Ten lines at once, then one a second: enough to diagnose, too few to flood.
    init(burst: Int = 10, per interval: Duration = .seconds(1), now: ContinuousClock.Instant = .now) {
        bucket = TokenBucket(RateLimit(requests: 1, per: interval, burst: burst), now: now)
    }

    /// Nil when this line is to be left out; else how many were left out since the last one written.
    func take(now: ContinuousClock.Instant = .now) -> Int? {
        guard bucket.take(now: now) == nil else {
            skipped.add(1, ordering: .relaxed)
            return nil
        }
        return skipped.exchange(0, ordering: .relaxed)
    }
}

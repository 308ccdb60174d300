import Synchronization

/// Counts the webhook requests being handled, from their head to their answer, so that a burst
/// beyond `limits.maxConcurrentRequests` is refused before its body is read.
final class ConcurrencyGate: Sendable {
    private let count = Atomic<Int>(0)

    /// Enters when fewer than `limit` requests are inside; false when full (nothing to leave).
    func enter(limit: Int) -> Bool {
        let now = count.add(1, ordering: .relaxed).newValue
        guard now <= limit else {
            count.subtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    func leave() {
        count.subtract(1, ordering: .relaxed)
    }
}

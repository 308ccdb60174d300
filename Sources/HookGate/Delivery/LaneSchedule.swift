/// Which of a target's due notifications to start, as a value: at most `concurrency` at once,
/// oldest first, and none after one failed in a way that will be retried (the target is then
/// probed with the oldest, not flooded with everything queued behind it). ``DeliveryWorker`` is
/// the I/O around it; tests drive it without a clock.
struct LaneSchedule<Row> {
    private var waiting: ArraySlice<Row>
    private(set) var inFlight = 0
    /// True once an attempt failed and will be retried.
    private(set) var failing = false
    let concurrency: Int

    init(_ rows: [Row], concurrency: Int) {
        waiting = rows[...]
        self.concurrency = max(1, concurrency)
    }

    /// The rows to start now.
    mutating func start() -> [Row] {
        guard !failing else { return [] }
        let count = min(concurrency - inFlight, waiting.count)
        guard count > 0 else { return [] }
        let started = Array(waiting.prefix(count))
        waiting = waiting.dropFirst(count)
        inFlight += count
        return started
    }

    /// Records that one started row finished; `retrying` when it failed and will be tried again.
    /// Returns the rows to start now.
    mutating func finished(retrying: Bool) -> [Row] {
        inFlight -= 1
        failing = failing || retrying
        return start()
    }

    /// True when nothing is in flight and nothing more will start.
    var isDone: Bool { inFlight == 0 && (waiting.isEmpty || failing) }
}

import Synchronization

/// Lets a waiting loop be woken early. A signal that arrives while nobody waits is kept for the
/// next wait, so no wake-up is lost.
final class Wakeup: Sendable {
    private struct State {
        var signaled = false
        var sleeper: Task<Void, Never>?
    }

    private let state = Mutex(State())

    /// Returns after `timeout`, or sooner when signalled (or cancelled).
    func wait(timeout: Duration) async {
        let sleeper = Task { _ = try? await Task.sleep(for: timeout) }
        let signaled = state.withLock { state in
            if state.signaled {
                state.signaled = false
                return true
            }
            state.sleeper = sleeper
            return false
        }
        if signaled {
            sleeper.cancel()
            return
        }
        await withTaskCancellationHandler {
            await sleeper.value
        } onCancel: {
            sleeper.cancel()
        }
        state.withLock { state in
            state.sleeper = nil
            state.signaled = false
        }
    }

    func signal() {
        state.withLock { state in
            if let sleeper = state.sleeper {
                sleeper.cancel()
            } else {
                state.signaled = true
            }
        }
    }
}

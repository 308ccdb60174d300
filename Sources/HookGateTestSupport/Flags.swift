import Synchronization

/// A switch a test turns on once, read from servers' reply closures.
public final class Switch: Sendable {
    public init() {}
    private let on = Mutex(false)
    public var isOn: Bool { on.withLock { $0 } }
    public func turnOn() { on.withLock { $0 = true } }
}

/// A flag a test sets once, read from other tasks.
public final class StopFlag: Sendable {
    public init() {}
    private let state = Mutex(false)
    public var isSet: Bool { state.withLock { $0 } }
    public func set() { state.withLock { $0 = true } }
}

import Foundation

/// Polls `condition` every 25 ms until it holds; throws ``WaitTimeout`` after `timeout`.
public func waitUntil(timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(25))
    }
    throw WaitTimeout(description: "condition not met within \(timeout)")
}

/// What ``waitUntil(timeout:_:)`` throws: the test fails with it.
public struct WaitTimeout: Error, CustomStringConvertible {
    public var description: String
}


extension Result where Failure == any Error {
    /// The outcome of `body`, so a test can clean up before it rethrows.
    public init(_ body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}

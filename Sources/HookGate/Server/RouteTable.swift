import Foundation
import Synchronization

/// The receiver the server answers with now. A reload swaps in a new one in one step; a request
/// keeps the route it looked up, so requests in flight finish on the config they started with.
public final class RouteTable: Sendable {
    /// A config on disk that a reload refused, while the one loaded before keeps serving.
    public struct Refusal: Sendable {
        public var at: Date
        public var problems: [ConfigProblem]
        /// The files the refused config named, watched for the next change.
        public var files: [String]
    }

    private struct State {
        var receiver: Receiver
        var config: Config
        var loadedAt: Date
        var refusal: Refusal?
    }

    private let state: Mutex<State>
    /// The notifiers of the config being served, for the delivery worker.
    public let notifiers: NotifierRegistry

    public init(receiver: Receiver, config: Config) {
        state = Mutex(State(receiver: receiver, config: config, loadedAt: Date(), refusal: nil))
        notifiers = NotifierRegistry(receiver.notifiers, renamed: receiver.renamedTargets)
    }

    /// The receiver to answer the next request with.
    public var receiver: Receiver { state.withLock { $0.receiver } }

    /// The config being served.
    public var config: Config { state.withLock { $0.config } }

    /// When the config being served was loaded.
    public var loadedAt: Date { state.withLock { $0.loadedAt } }

    /// The last refused config, if it is still the one on disk.
    public var refusal: Refusal? { state.withLock { $0.refusal } }

    /// Serves `receiver` (built from `config`) from the next request on.
    func install(_ receiver: Receiver, config: Config) {
        notifiers.replace(with: receiver.notifiers, renamed: receiver.renamedTargets)
        state.withLock { $0 = State(receiver: receiver, config: config, loadedAt: Date(), refusal: nil) }
    }

    /// Records that the config on disk was refused; the current one keeps serving.
    func refuse(_ error: ConfigError) {
        state.withLock { $0.refusal = Refusal(at: Date(), problems: error.problems, files: error.files) }
    }

    /// One line for `/readyz`: what is served, and what was refused.
    var readiness: String {
        let (loadedAt, refusal) = state.withLock { ($0.loadedAt, $0.refusal) }
        let loaded = "serving the config loaded at \(Self.timestamp(loadedAt))"
        guard let refusal else { return "ready; " + loaded }
        return "ready; \(loaded); the config on disk was refused at \(Self.timestamp(refusal.at)) and the running one is stale:\n"
            + refusal.problems.map { "  " + $0.description }.joined(separator: "\n")
    }

    private static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}

import Synchronization

/// Counts what the requests being handled hold, from their head to their answer, so that a burst
/// is refused before its body is read (docs/configuration.md#limits):
/// - requests, at most `limits.maxConcurrentRequests` in all, with a share per endpoint and per
///   client address, so a flood at one URL or from one address leaves the others room;
/// - body bytes, at most `limits.maxBodyBytesInFlight` in all and a share of it per endpoint, so
///   memory stays bounded however many large uploads arrive at once.
final class AdmissionGate: Sendable {
    private struct Counts {
        var requests = 0
        var requestsPerEndpoint: [String: Int] = [:]
        var requestsPerClient: [IPAddress: Int] = [:]
        var bytes = 0
        var bytesPerEndpoint: [String: Int] = [:]
    }

    private let counts = Mutex(Counts())

    /// Why a request was not let in.
    enum Full: Equatable {
        case server, endpoint, client
    }

    /// Takes a request slot for `endpoint` and `client` (nil: not capped per client); nil when
    /// taken, else what is full. A taken slot is given back with ``leave(endpoint:client:)``.
    func enter(endpoint: String, client: IPAddress?, limits: Limits) -> Full? {
        counts.withLock { counts in
            guard counts.requests < limits.maxConcurrentRequests else { return .server }
            guard counts.requestsPerEndpoint[endpoint, default: 0] < limits.maxConcurrentRequestsPerEndpoint else { return .endpoint }
            if let client {
                guard counts.requestsPerClient[client, default: 0] < limits.maxConcurrentRequestsPerClient else { return .client }
                counts.requestsPerClient[client, default: 0] += 1
            }
            counts.requests += 1
            counts.requestsPerEndpoint[endpoint, default: 0] += 1
            return nil
        }
    }

    func leave(endpoint: String, client: IPAddress?) {
        counts.withLock { counts in
            counts.requests -= 1
            Self.decrement(&counts.requestsPerEndpoint, endpoint, by: 1)
            if let client { Self.decrement(&counts.requestsPerClient, client, by: 1) }
        }
    }

    /// Holds `bytes` more of `endpoint`'s bodies; false (holding nothing more) when that would go
    /// over the budget or the endpoint's share of it.
    func hold(bytes: Int, endpoint: String, limits: Limits) -> Bool {
        counts.withLock { counts in
            let endpointBytes = counts.bytesPerEndpoint[endpoint, default: 0]
            guard bytes <= limits.maxBodyBytesInFlight - counts.bytes,
                  bytes <= limits.maxBodyBytesInFlightPerEndpoint - endpointBytes else { return false }
            counts.bytes += bytes
            counts.bytesPerEndpoint[endpoint] = endpointBytes + bytes
            return true
        }
    }

    /// Gives back bytes held with ``hold(bytes:endpoint:limits:)``.
    func release(bytes: Int, endpoint: String) {
        guard bytes > 0 else { return }
        counts.withLock { counts in
            counts.bytes -= bytes
            Self.decrement(&counts.bytesPerEndpoint, endpoint, by: bytes)
        }
    }

    /// Requests and body bytes held now (for tests and diagnostics).
    var held: (requests: Int, bytes: Int) {
        counts.withLock { ($0.requests, $0.bytes) }
    }

    private static func decrement<Key: Hashable>(_ dictionary: inout [Key: Int], _ key: Key, by amount: Int) {
        let left = dictionary[key, default: 0] - amount
        dictionary[key] = left > 0 ? left : nil
    }
}

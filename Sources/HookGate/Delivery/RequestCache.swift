import NIOCore
import Synchronization

/// The requests `forward` passes on, kept in memory from their commit until every backend has
/// them, so that each backend's delivery does not read (and decode) the stored request again.
///
/// The queue delivers oldest first, so the cache admits a request only while it has room and never
/// evicts one for a newer: it holds the front of the queue, which is what the worker reads next.
/// A request it does not hold is read from the queue as before. The database stays the record;
/// the cache only saves reading it back.
final class RequestCache: Sendable {
    private struct State {
        var requests: [Int: ForwardedRequest] = [:]
        var bytes = 0
    }

    private let state = Mutex(State())
    /// At most this many bytes of bodies and headers are held.
    let budget: Int

    init(budget: Int) {
        self.budget = budget
    }

    /// Keeps `request`, just committed under `id`, if there is room for it. Whatever was kept
    /// under `id` before goes: the queue has given that id to this request.
    func admit(_ id: Int, _ request: ForwardedRequest) {
        var request = request
        // A body read into part of a larger buffer would keep all of it alive: keep a copy.
        if request.body.storageCapacity > request.body.readableBytes * 2 + 1024 {
            request.body = ByteBuffer(buffer: request.body)
        }
        let size = Self.size(of: request)
        state.withLock { state in
            if let old = state.requests.removeValue(forKey: id) { state.bytes -= Self.size(of: old) }
            guard state.bytes + size <= budget else { return }
            state.requests[id] = request
            state.bytes += size
        }
    }

    func request(_ id: Int) -> ForwardedRequest? {
        state.withLock { $0.requests[id] }
    }

    /// Forgets the requests the queue has deleted.
    func remove(_ ids: some Sequence<Int>) {
        state.withLock { state in
            for id in ids {
                if let request = state.requests.removeValue(forKey: id) { state.bytes -= Self.size(of: request) }
            }
        }
    }

    func removeAll() {
        state.withLock { $0 = State() }
    }

    var count: Int { state.withLock { $0.requests.count } }

    private static func size(of request: ForwardedRequest) -> Int {
        request.body.storageCapacity + request.headers.reduce(request.query?.utf8.count ?? 0) { $0 + $1.name.utf8.count + $1.value.utf8.count }
    }
}

import Foundation
import HookGateTestSupport
import Logging
import NIOCore
import Testing

@testable import HookGate

/// Requests to forward are kept in memory from their commit until every backend has them; the
/// queue stays the record.
@Suite struct RequestCacheTests {
    static func request(_ body: String, query: String? = nil) -> ForwardedRequest {
        ForwardedRequest(body: ByteBuffer(string: body), query: query, headers: [.init(name: "X-GitHub-Event", value: "push")])
    }

    @Test func admitsWhileThereIsRoomAndNeverEvictsOlderForNewer() {
        let cache = RequestCache(budget: 100)
        cache.admit(1, Self.request(String(repeating: "a", count: 50)))
        cache.admit(2, Self.request(String(repeating: "b", count: 50)))  // 50 + 20 header bytes each: no room
        #expect(cache.request(1)?.body == ByteBuffer(string: String(repeating: "a", count: 50)))
        #expect(cache.request(2) == nil)
        cache.remove([1])
        cache.admit(3, Self.request(String(repeating: "c", count: 50)))
        #expect(cache.request(3) != nil)
        #expect(cache.count == 1)
    }

    @Test func anIdGivenAgainReplacesWhatWasKept() {
        let cache = RequestCache(budget: 1000)
        cache.admit(7, Self.request("old"))
        cache.admit(7, Self.request("new"))
        #expect(cache.request(7)?.body == ByteBuffer(string: "new"))
        cache.admit(7, Self.request(String(repeating: "x", count: 2000)))
        #expect(cache.request(7) == nil, "too big to keep, and the old one must not stay")
    }

    /// The store serves a forwarded request from memory after its commit, the same as the
    /// stored one; forgets it once every backend has it, or when a delivery of it is given up.
    @Test func theStoreKeepsARequestUntilEveryBackendHasIt() async throws {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let store = try await DeliveryStore.open(directory: Fixtures.temporaryDirectory(), logger: logger)
        let forwarded = ForwardedRequest(
            body: ByteBuffer(string: #"{"ref":"refs/heads/main"}"#), query: "a=1&b=%22",
            headers: [.init(name: "X-Hub-Signature-256", value: "sha256=00"), .init(name: "X-Odd", value: "\"quoted\" \\ caf\u{E9}\u{01}")])
        func rows(_ targets: [String]) -> [NewDelivery] {
            targets.map { NewDelivery(endpoint: "gh", source: "GitHub", deliveryID: nil, target: $0, notifier: "forward", events: [], request: forwarded) }
        }
        let first = try #require(try await store.enqueue(rows(["b1", "b2"]), dedupeKeys: [], window: .zero))
        let stored = try await store.due(target: "b1", limit: 1)
        let requestID = try #require(stored.first?.requestID)
        #expect(store.requests.request(requestID) == forwarded)
        #expect(try await store.request(requestID) == forwarded)

        try await store.markDelivered([first[0].id])
        #expect(store.requests.request(requestID) != nil, "b2 has not had it yet")
        try await store.markDelivered([first[1].id])
        #expect(store.requests.count == 0)
        #expect(try await store.request(requestID) == nil)

        // A dead letter's request is read from the queue (kept there for `deliveries retry`).
        let second = try #require(try await store.enqueue(rows(["b1"]), dedupeKeys: [], window: .zero))
        let secondID = try #require(try await store.due(target: "b1", limit: 1).first?.requestID)
        try await store.markFailed(second[0].id, attempts: 1, error: "answered 400")
        #expect(store.requests.count == 0)
        #expect(try await store.request(secondID) == forwarded)
        await store.close()
    }

    /// What the queue stores as the head reads back as the same query and headers, whatever they hold.
    @Test(arguments: [nil, "", "a=1", "q=\"\\\u{7F}"])
    func storedHeadReadsBack(query: String?) throws {
        let request = ForwardedRequest(
            body: ByteBuffer(string: "{}"), query: query,
            headers: [.init(name: "A", value: ""), .init(name: "B", value: "line\nbreak\ttab\u{1F} 😀"), .init(name: "C", value: "\\\"")])
        let read = try ForwardedRequest(storedHead: request.storedHead, body: Array("{}".utf8))
        #expect(read == request)
    }
}

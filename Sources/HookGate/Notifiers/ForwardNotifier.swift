import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Sends a verified request on to one backend of a `forward` action: the body byte for byte, the
/// headers it arrived with (re-signed with the backend's key when it has one), to the backend's
/// URL exactly as written plus the request's query string.
///
/// 2xx is delivered; a 4xx other than 408 and 429 is final (a dead letter with the backend's
/// status and the start of its answer); anything else is retried.
public struct ForwardNotifier: Notifier {
    public let kind = "forward"
    public let target: String
    let backend: Backend
    let client: HTTPClient
    /// The endpoint's source's signer, when the backend re-signs.
    let signer: RequestSigner?
    let endpoint: Endpoint
    public let pausing: Pausing?

    /// How much of a refusing backend's answer is kept with the dead letter.
    static let answerKept = 1024

    init(target: String, backend: Backend, client: HTTPClient, signer: RequestSigner?, endpoint: Endpoint, pausing: Pausing) {
        self.target = target
        self.backend = backend
        self.client = client
        self.signer = signer
        self.endpoint = endpoint
        self.pausing = pausing
    }

    public var needsRequest: Bool { true }
    public var isRequired: Bool { backend.required }
    public var backendLabel: String? { backend.host }

    public func notify(_ events: [HookEvent], context: NotifyContext) async throws(NotifyFailure) {
        guard var request = context.request else {
            throw .final("the request to forward is not in the queue any more")
        }
        if let key = backend.resignKey, let signer { signer.sign(&request, key.bytes, endpoint) }
        var url = backend.url.plain
        if let query = request.query { url += (url.contains("?") ? "&" : "?") + query }
        var outbound = HTTPClientRequest(url: url)
        outbound.method = .POST
        outbound.headers.reserveCapacity(request.headers.count + 1)
        for header in request.headers { outbound.headers.add(name: header.name, value: header.value) }
        if let authorization = backend.url.authorization { outbound.headers.replaceOrAdd(name: "Authorization", value: authorization) }
        outbound.body = .bytes(request.body)
        let shown = backend.url.redacted
        let timeout = TimeAmount.nanoseconds(Int64(backend.timeout.seconds * 1e9))
        let status: UInt
        let answer: String
        let retryAfter: Duration?
        do {
            let response = try await client.execute(outbound, timeout: timeout)
            status = response.status.code
            retryAfter = RetryAfter.parse(response.headers.first(name: "Retry-After"))
            answer = try await Self.start(of: response.body, keeping: (200..<300).contains(status) ? 0 : Self.answerKept)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            throw NotifyFailure(.timeout, "\(shown) did not answer within \(DurationText.describe(backend.timeout))")
        } catch {
            throw NotifyFailure(.unreachable, "\(shown): \(error)")
        }
        guard (200..<300).contains(status) else {
            throw NotifyFailure(.rejected, "\(shown) answered \(status)\(answer.isEmpty ? "" : ": \(answer)")", status: Int(status), retryAfter: retryAfter)
        }
    }

    /// Reads the whole answer (so the connection can be reused) and keeps its first `keeping`
    /// bytes as one printable line.
    static func start(of body: HTTPClientResponse.Body, keeping limit: Int) async throws -> String {
        var kept: [UInt8] = []
        for try await chunk in body where kept.count < limit {
            kept += chunk.readableBytesView.prefix(limit - kept.count)
        }
        let text = String(decoding: kept, as: UTF8.self)
        return String(text.map { $0.isNewline || ($0.asciiValue.map { $0 < 0x20 } ?? false) ? " " : $0 }).trimmingCharacters(in: .whitespaces)
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// A real HTTP server on a loopback port that records what it receives and answers as told:
/// the stand-in for a Flux daemon, a JWKS endpoint, any downstream.
public final class RecordingServer: Sendable {
    /// One received request.
    public struct Recorded: Sendable {
        public var method: HTTPRequest.Method
        public var path: String
        /// The query string, without `?`.
        public var query: String?
        public var headers: HTTPFields
        public var body: String
        /// The body's bytes exactly.
        public var bytes: [UInt8]
    }

    /// What to answer.
    public struct Reply: Sendable {
        public var status: HTTPResponse.Status
        public var body: String
        public var contentType: String
        public var delay: Duration
        /// More response headers.
        public var headers: [String: String]

        public init(
            status: HTTPResponse.Status = .ok, body: String = #"{"status":"OK"}"#, contentType: String = "application/json",
            delay: Duration = .zero, headers: [String: String] = [:]
        ) {
            self.status = status
            self.body = body
            self.contentType = contentType
            self.delay = delay
            self.headers = headers
        }
    }

    public let port: Int
    private let log: RequestLog
    private let task: Task<Void, any Error>

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Starts a server (on `port`, or a free one); `reply` decides each answer.
    public static func start(port: Int = 0, reply: @escaping @Sendable (Recorded) -> Reply = { _ in Reply() }) async throws -> RecordingServer {
        let log = RequestLog()
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            let body = try await request.body.collect(upTo: 1 << 26)
            let recorded = Recorded(
                method: request.method, path: request.uri.path, query: request.uri.query, headers: request.headers, body: String(buffer: body),
                bytes: Array(body.readableBytesView))
            let answer = reply(recorded)
            await log.append(recorded)
            if answer.delay > .zero { try await Task.sleep(for: answer.delay) }
            var headers: HTTPFields = [.contentType: answer.contentType]
            for (name, value) in answer.headers { headers[HTTPField.Name(name)!] = value }
            return Response(status: answer.status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: answer.body)))
        }
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "recording-server")
        logger.logLevel = .critical
        let app = Application(
            responder: responder,
            configuration: .init(address: .hostname("127.0.0.1", port: port)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) },
            logger: logger)
        let task = Task {
            defer { continuation.finish() }
            try await app.runService(gracefulShutdownSignals: [])
        }
        var iterator = stream.makeAsyncIterator()
        guard let port = await iterator.next() else {
            _ = try await task.value
            throw CancellationError()
        }
        return RecordingServer(port: port, log: log, task: task)
    }

    private init(port: Int, log: RequestLog, task: Task<Void, any Error>) {
        self.port = port
        self.log = log
        self.task = task
    }

    /// Everything received so far.
    public var requests: [Recorded] {
        get async { await log.requests }
    }

    /// Waits until at least `count` requests arrived (or `timeout` passed), then returns them all.
    public func waitForRequests(_ count: Int, timeout: Duration = .seconds(10)) async -> [Recorded] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let requests = await log.requests
            if requests.count >= count { return requests }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return await log.requests
    }

    public func stop() async {
        task.cancel()
        _ = try? await task.value
    }
}

actor RequestLog {
    var requests: [RecordingServer.Recorded] = []
    func append(_ request: RecordingServer.Recorded) { requests.append(request) }
}

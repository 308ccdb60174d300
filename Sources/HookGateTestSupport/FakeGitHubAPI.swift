import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// A GitHub API for a GitHub App, on a loopback port: it checks every JWT's RS256 signature and
/// claims against the App's public key with Python's `cryptography` (independent of hookgate's
/// signer), lists installations, and mints tokens with the expiry a test chooses. It can be told
/// to fail the way the real one does.
public final class FakeGitHubAPI: Sendable {
    /// A fresh 2048-bit App key from Python's `cryptography`: the private key as GitHub gives it
    /// (PKCS#1), as PKCS#8, and the public key.
    public struct KeyPair: Sendable {
        public var pkcs1: String
        public var pkcs8: String
        public var publicKey: String
    }

    public static func makeKey() -> KeyPair {
        let out = Python.run("""
            import json, sys
            from cryptography.hazmat.primitives import serialization
            from cryptography.hazmat.primitives.asymmetric import rsa
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pem = lambda f: key.private_bytes(serialization.Encoding.PEM, f, serialization.NoEncryption()).decode()
            print(json.dumps({"pkcs1": pem(serialization.PrivateFormat.TraditionalOpenSSL), "pkcs8": pem(serialization.PrivateFormat.PKCS8),
                              "public": key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()}))
            """)
        let decoded = (try? JSONSerialization.jsonObject(with: Data(out.utf8))) as? [String: String] ?? [:]
        return KeyPair(pkcs1: decoded["pkcs1"] ?? "", pkcs8: decoded["pkcs8"] ?? "", publicKey: decoded["public"] ?? "")
    }

    public enum Mode: Sendable, Equatable {
        case normal
        /// Every call answers this status.
        case status(Int)
        /// Every call waits this long before answering normally.
        case slow(Duration)
    }

    public struct Installation: Sendable {
        public var id: Int
        public var account: String
        public var suspended: Bool

        public init(id: Int, account: String, suspended: Bool = false) {
            self.id = id
            self.account = account
            self.suspended = suspended
        }
    }

    /// A check run made with an installation token.
    public struct CheckRun: Sendable, Equatable {
        public var installation: Int
        public var repository: String
        public var headSHA: String
        public var name: String
        public var status: String
        public var conclusion: String?
        public var detailsURL: String?
        public var externalID: String?
    }

    private struct State {
        var checkRuns: [CheckRun] = []
        var installations: [Installation] = []
        var mode: Mode = .normal
        var tokenLifetime: Duration = .seconds(3600)
        var issued: [(installation: Int, token: String)] = []
        var verified: Set<String> = []
        var refusedJWTs = 0
        var calls: [String] = []
        /// The App's own webhook (`/app/hook/…`).
        var hookURL = ""
        var hookSecret = ""
        var deliveries: [FakeGitHost.Delivery] = []
        var redeliveryRequests: [Int] = []
        var nextDeliveryID = 1
    }

    /// The state, shared with the server's responder.
    private final class Store: Sendable {
        let lock = Mutex(State())
        func withLock<T>(_ body: (inout State) -> T) -> T { lock.withLock { body(&$0) } }
    }

    public let port: Int
    public var baseURL: String { "http://127.0.0.1:\(port)" }
    private let state: Store
    private let task: Task<Void, any Error>

    /// Starts the API for the App whose public key is `publicKey` and whose JWTs say `iss: issuer`.
    public static func start(publicKey: String, issuer: String) async throws -> FakeGitHubAPI {
        let keyFile = Fixtures.temporaryDirectory() + "/app.pub"
        try publicKey.write(toFile: keyFile, atomically: true, encoding: .utf8)
        let state = Store()
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            let path = request.uri.path
            state.withLock { $0.calls.append("\(request.method.rawValue) \(path)") }
            let mode = state.withLock { $0.mode }
            switch mode {
            case .status(let code): return reply(code, #"{"message":"failing as told"}"#)
            case .slow(let delay): try await Task.sleep(for: delay)
            case .normal: break
            }
            let bearer = request.headers[.authorization] ?? ""
            guard bearer.hasPrefix("Bearer ") else { return reply(401, #"{"message":"Requires authentication"}"#) }
            let jwt = String(bearer.dropFirst(7))
            if request.method == .post, let match = path.wholeMatch(of: /\/repos\/([^\/]+\/[^\/]+)\/check-runs/) {
                // Made with an installation token, never the App's JWT (GitHub answers 403 to a JWT).
                guard let installation = state.withLock({ $0.issued.first { $0.token == jwt }?.installation }) else {
                    return reply(jwt.hasPrefix("ghs_") ? 401 : 403, #"{"message":"Bad credentials"}"#)
                }
                let body = try await request.body.collect(upTo: 1 << 20)
                return checkRun(Data(body.readableBytesView), repository: String(match.1), installation: installation, state: state)
            }
            if !state.withLock({ $0.verified.contains(jwt) }) {
                let verdict = await Python.runInBackground(verifier, arguments: [keyFile, jwt, issuer])
                guard verdict == "ok" else {
                    state.withLock { $0.refusedJWTs += 1 }
                    return reply(401, #"{"message":"A JSON web token could not be decoded (\#(verdict))"}"#)
                }
                state.withLock { _ = $0.verified.insert(jwt) }
            }
            if request.method == .get, path == "/app/installations" {
                let page = Int(request.uri.queryParameters.get("page") ?? "1") ?? 1
                let size = Int(request.uri.queryParameters.get("per_page") ?? "30") ?? 30
                let all = state.withLock { $0.installations }
                let slice = all.dropFirst((page - 1) * size).prefix(size)
                let entries = slice.map { installation -> [String: Any] in
                    ["id": installation.id, "account": ["login": installation.account], "suspended_at": installation.suspended ? "2026-01-01T00:00:00Z" : NSNull()]
                }
                let data = (try? JSONSerialization.data(withJSONObject: entries)) ?? Data("[]".utf8)
                return reply(200, String(decoding: data, as: UTF8.self))
            }
            if request.method == .post, let match = path.wholeMatch(of: /\/app\/installations\/(\d+)\/access_tokens/), let id = Int(match.1) {
                let (known, lifetime) = state.withLock { state in (state.installations.first { $0.id == id }, state.tokenLifetime) }
                guard let known else { return reply(404, #"{"message":"Not Found"}"#) }
                if known.suspended { return reply(403, #"{"message":"This installation has been suspended"}"#) }
                let token = "ghs_" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
                state.withLock { $0.issued.append((id, token)) }
                let expires = Date().addingTimeInterval(Double(lifetime.components.seconds))
                return reply(201, #"{"token":"\#(token)","expires_at":"\#(ISO8601DateFormatter().string(from: expires))","repository_selection":"all"}"#)
            }
            if let answer = await appHook(request.method, path, query: request.uri.queryParameters.get("cursor").flatMap { Int($0) }, state: state) {
                return answer
            }
            return reply(404, #"{"message":"Not Found"}"#)
        }
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "fake-github")
        logger.logLevel = .critical
        let app = Application(
            responder: responder, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) }, logger: logger)
        let task = Task {
            defer { continuation.finish() }
            try await app.runService(gracefulShutdownSignals: [])
        }
        var iterator = stream.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        return FakeGitHubAPI(port: port, state: state, task: task)
    }

    private init(port: Int, state: Store, task: Task<Void, any Error>) {
        self.port = port
        self.state = state
        self.task = task
    }

    /// `POST /repos/{owner}/{repo}/check-runs`: checks the fields as GitHub does (a name, a 40-hex
    /// head SHA, a known status, a conclusion exactly when completed) and records the run.
    private static func checkRun(_ body: Data, repository: String, installation: Int, state: Store) -> Response {
        guard let fields = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any],
              let name = fields["name"] as? String, !name.isEmpty,
              let sha = fields["head_sha"] as? String, sha.wholeMatch(of: /[0-9a-f]{40}/) != nil else {
            return reply(422, #"{"message":"Invalid request: name and head_sha are required"}"#)
        }
        let status = fields["status"] as? String ?? "queued"
        let conclusion = fields["conclusion"] as? String
        let conclusions: Set = ["action_required", "cancelled", "failure", "neutral", "success", "skipped", "stale", "timed_out"]
        guard ["queued", "in_progress", "completed"].contains(status), (status == "completed") == (conclusion != nil),
              conclusion.map(conclusions.contains) ?? true else {
            return reply(422, #"{"message":"Invalid request: status and conclusion do not agree"}"#)
        }
        let run = CheckRun(installation: installation, repository: repository.removingPercentEncoding ?? repository, headSHA: sha, name: name,
                           status: status, conclusion: conclusion, detailsURL: fields["details_url"] as? String,
                           externalID: fields["external_id"] as? String)
        let id = state.withLock { state in
            state.checkRuns.append(run)
            return state.checkRuns.count
        }
        return reply(201, #"{"id":\#(id),"status":"\#(status)"}"#)
    }

    /// The App's webhook: its config, its deliveries (newest first, 100 a page, cursor in `Link`)
    /// and redeliveries, which are really sent to the hook URL, signed by Python's `hmac`.
    private static func appHook(_ method: HTTPRequest.Method, _ path: String, query cursor: Int?, state: Store) async -> Response? {
        if method == .get, path == "/app/hook/config" {
            let url = state.withLock { $0.hookURL }
            return reply(200, #"{"content_type":"json","insecure_ssl":"0","url":"\#(url)","secret":"********"}"#)
        }
        if method == .get, path == "/app/hook/deliveries" {
            let all = state.withLock { $0.deliveries.sorted { $0.id > $1.id } }
            let page = Array(all.filter { $0.id < (cursor ?? Int.max) }.prefix(100))
            let formatter = ISO8601DateFormatter()
            let items = page.map { delivery -> [String: Any] in
                ["id": delivery.id, "guid": delivery.guid, "delivered_at": formatter.string(from: delivery.at), "redelivery": delivery.redelivery,
                 "status": delivery.statusCode == 0 ? "failed to connect" : "HTTP \(delivery.statusCode)", "status_code": delivery.statusCode,
                 "event": delivery.event, "installation_id": 1]
            }
            let data = (try? JSONSerialization.data(withJSONObject: items)) ?? Data("[]".utf8)
            return reply(200, String(decoding: data, as: UTF8.self))
        }
        if method == .post, let match = path.wholeMatch(of: /\/app\/hook\/deliveries\/(\d+)\/attempts/), let id = Int(match.1) {
            guard let (original, url, secret) = state.withLock({ state in
                state.deliveries.first { $0.id == id }.map { ($0, state.hookURL, state.hookSecret) }
            }) else { return reply(404, #"{"message":"Not Found"}"#) }
            state.withLock { $0.redeliveryRequests.append(id) }
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "X-GitHub-Event", value: original.event)
            request.headers.add(name: "X-GitHub-Delivery", value: original.guid)
            request.headers.add(name: "X-GitHub-Hook-Installation-Target-Type", value: "integration")
            request.headers.add(name: "X-Hub-Signature-256", value: "sha256=" + (await Python.hmacHexInBackground(key: secret, body: original.body)))
            request.body = .bytes(ByteBuffer(bytes: Array(original.body)))
            var status = 0
            if let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(3)) {
                _ = try? await response.body.collect(upTo: 1 << 20)
                status = Int(response.status.code)
            }
            state.withLock { state in
                state.deliveries.append(FakeGitHost.Delivery(
                    id: state.nextDeliveryID, hookID: 0, guid: original.guid, statusCode: status, at: Date(), event: original.event, redelivery: true, body: original.body))
                state.nextDeliveryID += 1
            }
            return reply(202, "{}")
        }
        return nil
    }

    /// Sets the App's webhook URL and secret.
    public func setHook(url: String, secret: String) { state.withLock { $0.hookURL = url; $0.hookSecret = secret } }

    /// Records a delivery the App's webhook made (or failed to make).
    public func addDelivery(guid: String, statusCode: Int, at: Date = Date(), event: String = "push", body: Data) {
        state.withLock { state in
            state.deliveries.append(FakeGitHost.Delivery(
                id: state.nextDeliveryID, hookID: 0, guid: guid, statusCode: statusCode, at: at, event: event, redelivery: false, body: body))
            state.nextDeliveryID += 1
        }
    }

    /// The App's deliveries, attempts included; the ids redeliveries were asked for.
    public var deliveries: [FakeGitHost.Delivery] { state.withLock { $0.deliveries } }
    public var redeliveryRequests: [Int] { state.withLock { $0.redeliveryRequests } }

    private static func reply(_ status: Int, _ body: String) -> Response {
        Response(status: HTTPResponse.Status(code: status), headers: [.contentType: "application/json"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    /// Checks an App JWT as GitHub does: RS256 with the App's key, `iss`, `iat` not in the future,
    /// `exp` in the future and at most ten minutes after `iat` (a minute's leeway each way).
    public static let verifier = """
        import base64, json, sys, time
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding
        key = serialization.load_pem_public_key(open(sys.argv[1], "rb").read())
        token, issuer = sys.argv[2], sys.argv[3]
        def b64(part): return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        try:
            head, claims, signature = token.split(".")
            key.verify(b64(signature), (head + "." + claims).encode(), padding.PKCS1v15(), hashes.SHA256())
        except Exception as error:
            sys.stdout.write("signature does not verify"); sys.exit()
        header, body, now = json.loads(b64(head)), json.loads(b64(claims)), time.time()
        if header.get("alg") != "RS256": sys.stdout.write("alg is not RS256")
        elif str(body.get("iss")) != issuer: sys.stdout.write("iss is not the App")
        elif not body["iat"] <= now + 60: sys.stdout.write("iat in the future")
        elif not body["exp"] > now: sys.stdout.write("expired")
        elif not body["exp"] - body["iat"] <= 660: sys.stdout.write("exp more than ten minutes after iat")
        else: sys.stdout.write("ok")
        """

    public func setInstallations(_ installations: [Installation]) { state.withLock { $0.installations = installations } }
    public func setMode(_ mode: Mode) { state.withLock { $0.mode = mode } }
    public func setTokenLifetime(_ lifetime: Duration) { state.withLock { $0.tokenLifetime = lifetime } }
    /// Tokens minted so far, by installation, in order.
    public var issued: [(installation: Int, token: String)] { state.withLock { $0.issued } }
    /// Check runs made, in order.
    public var checkRuns: [CheckRun] { state.withLock { $0.checkRuns } }
    /// Distinct JWTs that verified.
    public var verifiedJWTs: Int { state.withLock { $0.verified.count } }
    public var refusedJWTs: Int { state.withLock { $0.refusedJWTs } }
    public var calls: [String] { state.withLock { $0.calls } }

    public func stop() async {
        task.cancel()
        _ = try? await task.value
    }
}

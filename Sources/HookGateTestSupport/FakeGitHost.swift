import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// A git host's API on a loopback port (GitHub, GitLab, Gitea or Bitbucket Cloud, by `flavor`):
/// it keeps hooks and their deliveries in memory, checks the token on every call in the host's
/// own header, refuses a second hook to the same URL as GitHub does, and can be told to answer
/// with a rate limit. A redelivery it is asked for is really sent to the hook's URL, signed with
/// the hook's secret by Python's `hmac` (GitHub) or carrying its token (GitLab), and recorded
/// with the status the receiver answered.
public final class FakeGitHost: Sendable {
    public enum Flavor: String, Sendable, CaseIterable {
        case gitHub, gitLab, gitea, bitbucketCloud

        /// The API's path below the server (`/api/v4` for GitLab).
        var prefix: String {
            switch self {
            case .gitHub: ""
            case .gitLab: "/api/v4"
            case .gitea: "/api/v1"
            case .bitbucketCloud: "/2.0"
            }
        }
    }

    /// A hook as the host keeps it, secret included (the API never shows it).
    public struct Hook: Sendable, Equatable {
        public var id: Int
        /// `repo owner/name` or `org name`.
        public var scope: String
        public var url: String
        public var secret: String
        public var events: [String]
        public var active: Bool
        public var contentType: String
    }

    /// One delivery attempt.
    public struct Delivery: Sendable {
        public var id: Int
        public var hookID: Int
        /// The webhook's own id (`X-GitHub-Delivery`, GitLab's `Idempotency-Key`).
        public var guid: String
        public var statusCode: Int
        public var at: Date
        public var event: String
        public var redelivery: Bool
        public var body: Data
    }

    /// A commit status as set through the API.
    public struct Status: Sendable, Equatable {
        public var repository: String
        public var sha: String
        /// In the host's own words (`pending`, GitLab's `running`, Bitbucket's `INPROGRESS`).
        public var state: String
        public var context: String
        public var url: String?
        public var description: String?
    }

    private struct State {
        var statuses: [Status] = []
        var hooks: [Hook] = []
        var deliveries: [Delivery] = []
        var nextID = 1
        var calls: [String] = []
        var redeliveryRequests: [Int] = []
        var limited: (count: Int, status: Int, retryAfter: Int)?
        var refusedTokens = 0
        /// The server's base URL, for `Link` headers (set once the port is known).
        var base = ""
    }

    private final class Store: Sendable {
        let lock = Mutex(State())
        func withLock<T>(_ body: (inout State) -> T) -> T { lock.withLock { body(&$0) } }
    }

    public let flavor: Flavor
    public let port: Int
    public let token: String
    private let state: Store
    private let task: Task<Void, any Error>

    /// The API's base URL, as `gitAPI.url` takes it.
    public var apiURL: String { "http://127.0.0.1:\(port)" + flavor.prefix }

    public static func start(_ flavor: Flavor, token: String = "test-token-" + UUID().uuidString) async throws -> FakeGitHost {
        let state = Store()
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            let body = try await request.body.collect(upTo: 1 << 20)
            let query = request.uri.queryParameters
            return await FakeGitHost.respond(
                flavor: flavor, token: token, state: state, method: request.method, path: request.uri.path,
                query: { name in query.get(name).map { String($0) } }, headers: request.headers, body: Data(body.readableBytesView))
        }
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "fake-git-host")
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
        state.withLock { $0.base = "http://127.0.0.1:\(port)" }
        return FakeGitHost(flavor: flavor, port: port, token: token, state: state, task: task)
    }

    private init(flavor: Flavor, port: Int, token: String, state: Store, task: Task<Void, any Error>) {
        self.flavor = flavor
        self.port = port
        self.token = token
        self.state = state
        self.task = task
    }

    public func stop() async {
        task.cancel()
        _ = try? await task.value
    }

    // MARK: What tests set and read

    public var hooks: [Hook] { state.withLock { $0.hooks } }
    public var deliveries: [Delivery] { state.withLock { $0.deliveries } }
    /// The attempt ids redeliveries were asked for, in order.
    public var redeliveryRequests: [Int] { state.withLock { $0.redeliveryRequests } }
    /// Every call, as `METHOD /path`.
    public var calls: [String] { state.withLock { $0.calls } }
    public var refusedTokens: Int { state.withLock { $0.refusedTokens } }
    /// Statuses set, in order.
    public var statuses: [Status] { state.withLock { $0.statuses } }

    /// Adds a hook as if made by hand at the host.
    @discardableResult
    public func addHook(scope: String, url: String, secret: String, events: [String], active: Bool = true) -> Int {
        state.withLock { state in
            let id = state.nextID
            state.nextID += 1
            state.hooks.append(Hook(id: id, scope: scope, url: url, secret: secret, events: events, active: active, contentType: "json"))
            return id
        }
    }

    /// Records a delivery attempt of hook `hookID` (as the host logs one it made).
    @discardableResult
    public func addDelivery(hookID: Int, guid: String, statusCode: Int, at: Date = Date(), event: String = "push", body: Data) -> Int {
        state.withLock { state in
            let id = state.nextID
            state.nextID += 1
            state.deliveries.append(Delivery(id: id, hookID: hookID, guid: guid, statusCode: statusCode, at: at, event: event, redelivery: false, body: body))
            return id
        }
    }

    /// The next `count` calls answer `status` with `Retry-After: retryAfter` and no requests left.
    public func limitNext(_ count: Int, status: Int = 403, retryAfter: Int) {
        state.withLock { $0.limited = (count, status, retryAfter) }
    }

    public func setActive(_ id: Int, _ active: Bool) {
        state.withLock { state in
            if let index = state.hooks.firstIndex(where: { $0.id == id }) { state.hooks[index].active = active }
        }
    }

    // MARK: The API

    private struct Answer: Sendable {
        var status: Int
        var json: String
        var headers: [String: String] = [:]
    }

    private static func respond(
        flavor: Flavor, token: String, state: Store, method: HTTPRequest.Method, path: String, query: @Sendable (String) -> String?,
        headers: HTTPFields, body: Data
    ) async -> Response {
        state.withLock { $0.calls.append("\(method.rawValue) \(path)") }
        if let limit = state.withLock({ state -> (Int, Int)? in
            guard let limited = state.limited, limited.count > 0 else { return nil }
            state.limited?.count -= 1
            return (limited.status, limited.retryAfter)
        }) {
            return reply(Answer(status: limit.0, json: #"{"message":"You have exceeded a secondary rate limit"}"#,
                                headers: ["Retry-After": String(limit.1), "X-RateLimit-Remaining": "0"]))
        }
        let presented: String? = switch flavor {
        case .gitHub, .bitbucketCloud: headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
        case .gitLab: headers[HTTPField.Name("PRIVATE-TOKEN")!]
        case .gitea: headers[.authorization].flatMap { $0.hasPrefix("token ") ? String($0.dropFirst(6)) : nil }
        }
        guard presented == token else {
            state.withLock { $0.refusedTokens += 1 }
            return reply(Answer(status: 401, json: #"{"message":"Bad credentials"}"#))
        }
        if method == .post, let answer = status(flavor: flavor, state: state, path: String(path.dropFirst(flavor.prefix.count)), body: body) {
            return reply(answer)
        }
        guard path.hasPrefix(flavor.prefix + "/"), let route = Route(flavor: flavor, path: String(path.dropFirst(flavor.prefix.count))) else {
            return reply(Answer(status: 404, json: #"{"message":"Not Found"}"#))
        }
        let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:]
        let rest = route.rest
        let updateMethod: HTTPRequest.Method = flavor == .gitHub || flavor == .gitea ? .patch : .put
        let listName = flavor == .gitHub ? "deliveries" : "events"
        let answer: Answer
        if method == .get, rest.isEmpty {
            let page = Int(query("page") ?? "1") ?? 1
            let size = Int(query("per_page") ?? query("limit") ?? query("pagelen") ?? "30") ?? 30
            let all = state.withLock { $0.hooks.filter { $0.scope == route.scope } }
            let slice = Array(all.dropFirst((page - 1) * size).prefix(size))
            let rendered = slice.map { render($0, flavor: flavor) }
            answer = flavor == .bitbucketCloud
                ? Answer(status: 200, json: json(["values": rendered, "pagelen": size, "size": all.count]))
                : Answer(status: 200, json: json(rendered))
        } else if method == .post, rest.isEmpty {
            guard let hook = parse(object, flavor: flavor, scope: route.scope, id: 0) else {
                return reply(Answer(status: 422, json: #"{"message":"Validation Failed"}"#))
            }
            answer = state.withLock { state in
                if flavor == .gitHub, state.hooks.contains(where: { $0.scope == route.scope && $0.url == hook.url }) {
                    return Answer(status: 422, json: #"{"message":"Validation Failed","errors":[{"message":"Hook already exists on this repository"}]}"#)
                }
                var created = hook
                created.id = state.nextID
                state.nextID += 1
                state.hooks.append(created)
                return Answer(status: 201, json: json(render(created, flavor: flavor)))
            }
        } else if method == updateMethod, rest.count == 1 {
            answer = state.withLock { state in
                guard let index = state.hooks.firstIndex(where: { $0.scope == route.scope && hookID($0, flavor) == rest[0] }) else {
                    return Answer(status: 404, json: #"{"message":"Not Found"}"#)
                }
                let old = state.hooks[index]
                guard var updated = parse(object, flavor: flavor, scope: route.scope, id: old.id, keeping: old) else {
                    return Answer(status: 422, json: #"{"message":"Validation Failed"}"#)
                }
                updated.id = old.id
                state.hooks[index] = updated
                return Answer(status: 200, json: json(render(updated, flavor: flavor)))
            }
        } else if method == .delete, rest.count == 1 {
            answer = state.withLock { state in
                let before = state.hooks.count
                state.hooks.removeAll { $0.scope == route.scope && hookID($0, flavor) == rest[0] }
                return state.hooks.count < before ? Answer(status: 204, json: "") : Answer(status: 404, json: #"{"message":"Not Found"}"#)
            }
        } else if method == .get, rest.count == 2, rest[1] == listName, flavor == .gitHub || flavor == .gitLab {
            answer = deliveriesPage(flavor: flavor, state: state, scope: route.scope, hook: rest[0], query: query)
        } else if method == .post, rest.count == 4, rest[1] == listName, rest[3] == (flavor == .gitHub ? "attempts" : "resend"),
                  flavor == .gitHub || flavor == .gitLab {
            let (id, attempt) = (rest[0], rest[2])
            guard let original = state.withLock({ state in
                state.deliveries.first { delivery in
                    String(delivery.id) == attempt && String(delivery.hookID) == id && state.hooks.contains { $0.id == delivery.hookID && $0.scope == route.scope }
                }
            }), let hook = state.withLock({ $0.hooks.first { $0.id == original.hookID } }) else {
                return reply(Answer(status: 404, json: #"{"message":"Not Found"}"#))
            }
            state.withLock { $0.redeliveryRequests.append(original.id) }
            let status = await send(original, hook: hook, flavor: flavor)
            state.withLock { state in
                let newID = state.nextID
                state.nextID += 1
                state.deliveries.append(Delivery(id: newID, hookID: hook.id, guid: original.guid, statusCode: status, at: Date(), event: original.event,
                                                 redelivery: true, body: original.body))
            }
            answer = Answer(status: flavor == .gitHub ? 202 : 201, json: "{}")
        } else {
            answer = Answer(status: 404, json: #"{"message":"Not Found"}"#)
        }
        return reply(answer)
    }

    /// A commit status call (`…/statuses/SHA`, Bitbucket's `…/commit/SHA/statuses/build`).
    private static func status(flavor: Flavor, state: Store, path: String, body: Data) -> Answer? {
        let parts = path.split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) }
        let repository: String, sha: String
        switch flavor {
        case .gitHub, .gitea:
            guard parts.count == 5, parts[0] == "repos", parts[3] == "statuses" else { return nil }
            (repository, sha) = (parts[1] + "/" + parts[2], parts[4])
        case .gitLab:
            guard parts.count == 4, parts[0] == "projects", parts[2] == "statuses" else { return nil }
            (repository, sha) = (parts[1], parts[3])
        case .bitbucketCloud:
            guard parts.count == 7, parts[0] == "repositories", parts[3] == "commit", parts[5] == "statuses", parts[6] == "build" else { return nil }
            (repository, sha) = (parts[1] + "/" + parts[2], parts[4])
        }
        let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:]
        let context = object[flavor == .gitLab ? "name" : flavor == .bitbucketCloud ? "key" : "context"] as? String ?? "default"
        guard let value = object["state"] as? String, sha.count >= 7 else { return Answer(status: 422, json: #"{"message":"Validation Failed"}"#) }
        if flavor == .bitbucketCloud, object["url"] as? String == nil { return Answer(status: 400, json: #"{"error":{"message":"url is required"}}"#) }
        let status = Status(repository: repository, sha: sha, state: value, context: context,
                            url: (object["target_url"] ?? object["url"]) as? String, description: object["description"] as? String)
        return state.withLock { state in
            // GitLab refuses to set the state a status already has.
            if flavor == .gitLab, state.statuses.last(where: { $0.repository == repository && $0.sha == sha && $0.context == context })?.state == value {
                return Answer(status: 400, json: #"{"message":"Cannot transition status via :run from :running"}"#)
            }
            state.statuses.append(status)
            return Answer(status: 201, json: json(["state": value, "context": context]))
        }
    }

    /// A path split into the hook scope and what follows `/hooks`.
    private struct Route {
        var scope: String
        var rest: [String]

        init?(flavor: Flavor, path: String) {
            guard let range = path.range(of: "/hooks") else { return nil }
            let head = String(path[..<range.lowerBound])
            let tail = path[range.upperBound...]
            guard tail.isEmpty || tail.hasPrefix("/") else { return nil }
            rest = tail.split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) }
            let parts = head.split(separator: "/", maxSplits: 1).map(String.init)
            guard parts.count == 2, let name = parts[1].removingPercentEncoding else { return nil }
            let repository: Set<String> = ["repos", "projects", "repositories"]
            let organization: Set<String> = ["orgs", "groups", "workspaces"]
            if repository.contains(parts[0]) {
                scope = "repo " + name
            } else if organization.contains(parts[0]) {
                scope = "org " + name
            } else {
                return nil
            }
        }
    }

    private static func hookID(_ hook: Hook, _ flavor: Flavor) -> String {
        flavor == .bitbucketCloud ? "{\(hook.id)}" : String(hook.id)
    }

    private static let gitLabFlags = ["push_events", "tag_push_events", "merge_requests_events", "releases_events"]

    private static func render(_ hook: Hook, flavor: Flavor) -> [String: Any] {
        switch flavor {
        case .gitHub:
            return ["id": hook.id, "name": "web", "active": hook.active, "events": hook.events,
                    "config": ["url": hook.url, "content_type": hook.contentType, "insecure_ssl": "0", "secret": "********"],
                    "last_response": ["code": NSNull(), "status": "unused", "message": NSNull()]]
        case .gitLab:
            var object: [String: Any] = ["id": hook.id, "url": hook.url, "enable_ssl_verification": true, "alert_status": hook.active ? "executable" : "disabled"]
            for flag in gitLabFlags { object[flag] = hook.events.contains(flag) }
            return object
        case .gitea:
            return ["id": hook.id, "type": "gitea", "active": hook.active, "events": hook.events, "config": ["url": hook.url, "content_type": hook.contentType]]
        case .bitbucketCloud:
            return ["uuid": hookID(hook, flavor), "url": hook.url, "active": hook.active, "events": hook.events, "description": "hookgate", "secret_set": !hook.secret.isEmpty]
        }
    }

    /// A hook from a create or update body, as each host reads it; nil when the host would refuse it.
    private static func parse(_ object: [String: Any], flavor: Flavor, scope: String, id: Int, keeping old: Hook? = nil) -> Hook? {
        switch flavor {
        case .gitHub, .gitea:
            let config = object["config"] as? [String: Any] ?? [:]
            guard let url = config["url"] as? String ?? old?.url else { return nil }
            if flavor == .gitHub, old == nil, object["name"] as? String != "web" { return nil }
            if flavor == .gitea, old == nil, object["type"] as? String != "gitea" { return nil }
            return Hook(id: id, scope: scope, url: url, secret: config["secret"] as? String ?? old?.secret ?? "",
                        events: object["events"] as? [String] ?? old?.events ?? ["push"], active: object["active"] as? Bool ?? old?.active ?? true,
                        contentType: config["content_type"] as? String ?? old?.contentType ?? "form")
        case .gitLab:
            guard let url = object["url"] as? String ?? old?.url else { return nil }
            let events = gitLabFlags.filter { object[$0] as? Bool ?? (old?.events.contains($0) ?? ($0 == "push_events")) }
            return Hook(id: id, scope: scope, url: url, secret: object["token"] as? String ?? old?.secret ?? "", events: events,
                        active: true, contentType: "json")
        case .bitbucketCloud:
            guard let url = object["url"] as? String, let events = object["events"] as? [String], !events.isEmpty else { return nil }
            return Hook(id: id, scope: scope, url: url, secret: object["secret"] as? String ?? old?.secret ?? "", events: events,
                        active: object["active"] as? Bool ?? true, contentType: "json")
        }
    }

    private static func deliveriesPage(flavor: Flavor, state: Store, scope: String, hook id: String, query: (String) -> String?) -> Answer {
        let (known, deliveries) = state.withLock { state in
            (state.hooks.contains { String($0.id) == id && $0.scope == scope },
             state.deliveries.filter { String($0.hookID) == id }.sorted { $0.id > $1.id })
        }
        guard known else { return Answer(status: 404, json: #"{"message":"Not Found"}"#) }
        let size = Int(query("per_page") ?? "30") ?? 30
        let formatter = ISO8601DateFormatter()
        switch flavor {
        case .gitHub:
            // Cursor pagination: the cursor is the last id of the previous page.
            let cursor = query("cursor").flatMap(Int.init) ?? Int.max
            let page = Array(deliveries.filter { $0.id < cursor }.prefix(size))
            var headers: [String: String] = [:]
            if page.count == size, let last = page.last, deliveries.contains(where: { $0.id < last.id }) {
                let base = state.withLock { $0.base } + (scope.hasPrefix("repo ") ? "/repos/" + scope.dropFirst(5) : "/orgs/" + scope.dropFirst(4))
                headers["Link"] = "<\(base)/hooks/\(id)/deliveries?per_page=\(size)&cursor=\(last.id)>; rel=\"next\""
            }
            let items = page.map { delivery -> [String: Any] in
                ["id": delivery.id, "guid": delivery.guid, "delivered_at": formatter.string(from: delivery.at), "redelivery": delivery.redelivery,
                 "duration": 0.1, "status": delivery.statusCode == 0 ? "failed to connect" : "HTTP \(delivery.statusCode)",
                 "status_code": delivery.statusCode, "event": delivery.event, "action": NSNull()]
            }
            return Answer(status: 200, json: json(items), headers: headers)
        default:
            let page = Int(query("page") ?? "1") ?? 1
            let items = deliveries.dropFirst((page - 1) * size).prefix(size).map { delivery -> [String: Any] in
                ["id": delivery.id, "url": "", "trigger": delivery.event, "execution_duration": 0.1,
                 "response_status": delivery.statusCode == 0 ? "internal error" : String(delivery.statusCode),
                 "request_headers": ["X-Gitlab-Event": "Push Hook", "X-Gitlab-Event-UUID": delivery.guid, "Idempotency-Key": delivery.guid],
                 "created_at": formatter.string(from: delivery.at)]
            }
            return Answer(status: 200, json: json(Array(items)))
        }
    }

    /// Sends `delivery` to `hook`'s URL as the host would, and returns the status (0: no answer).
    private static func send(_ delivery: Delivery, hook: Hook, flavor: Flavor) async -> Int {
        var request = HTTPClientRequest(url: hook.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        switch flavor {
        case .gitHub:
            request.headers.add(name: "X-GitHub-Event", value: delivery.event)
            request.headers.add(name: "X-GitHub-Delivery", value: delivery.guid)
            request.headers.add(name: "X-GitHub-Hook-ID", value: String(hook.id))
            request.headers.add(name: "X-Hub-Signature-256", value: "sha256=" + (await Python.hmacHexInBackground(key: hook.secret, body: delivery.body)))
        default:
            request.headers.add(name: "X-Gitlab-Event", value: "Push Hook")
            request.headers.add(name: "X-Gitlab-Token", value: hook.secret)
            request.headers.add(name: "X-Gitlab-Event-UUID", value: delivery.guid)
            request.headers.add(name: "Idempotency-Key", value: delivery.guid)
        }
        request.body = .bytes(ByteBuffer(bytes: Array(delivery.body)))
        do {
            // AsyncHTTPClient retries a refused connection until the deadline: keep it short.
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(3))
            _ = try await response.body.collect(upTo: 1 << 20)
            return Int(response.status.code)
        } catch {
            return 0
        }
    }

    private static func json(_ value: Any) -> String {
        String(decoding: (try? JSONSerialization.data(withJSONObject: value)) ?? Data("null".utf8), as: UTF8.self)
    }

    private static func reply(_ answer: Answer) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        for (name, value) in answer.headers { headers[HTTPField.Name(name)!] = value }
        return Response(status: HTTPResponse.Status(code: answer.status), headers: headers,
                        body: answer.json.isEmpty ? ResponseBody() : ResponseBody(byteBuffer: ByteBuffer(string: answer.json)))
    }
}

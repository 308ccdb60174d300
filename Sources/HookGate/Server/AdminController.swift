import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOFoundationCompat

/// The admin API, served only on `--admin-listen` (never on the webhook listener): the backends
/// of `backends:` groups, listed, added and removed at run time (`GET/POST/DELETE /backends[?group=NAME]`,
/// body `{"url": …}`), behind the bearer token of `admin.tokenPath`. Added backends are stored in
/// the queue's database and survive restarts.
struct AdminController: Sendable {
    let table: RouteTable
    let backends: DynamicBackends
    /// Serves the config again with the backends as they are now.
    let rebuild: @Sendable () throws(ConfigError) -> Void
    let logger: Logger

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("/backends") { request, _ in await guarded(request) { try await list($0) } }
        router.post("/backends") { request, _ in await guarded(request) { try await change($0, add: true) } }
        router.delete("/backends") { request, _ in await guarded(request) { try await change($0, add: false) } }
    }

    struct Refusal: Error {
        var status: HTTPResponse.Status
        var message: String
    }

    /// Runs `handle` for a request that carries the admin token; 401 for one that does not.
    private func guarded(_ request: Request, _ handle: (Request) async throws -> Response) async -> Response {
        guard let token = table.config.adminToken, token.admits(request.headers[.authorization]) else {
            var response = Self.json(.unauthorized, ["error": "a bearer token (admin.tokenPath) is required"])
            response.headers[.wwwAuthenticate] = "Bearer"
            return response
        }
        do {
            return try await handle(request)
        } catch let refusal as Refusal {
            return Self.json(refusal.status, ["error": refusal.message])
        } catch {
            return Self.json(.internalServerError, ["error": "\(error)"])
        }
    }

    /// The group a request names (`?group=`), or the config's only one.
    private func group(of request: Request) throws -> String {
        let groups = table.config.backendGroups
        if let named = request.uri.queryParameters.get("group") {
            guard groups[named] != nil else {
                throw Refusal(status: .notFound, message: "no backend group named \"\(named)\"; groups: \(groups.keys.sorted().joined(separator: ", "))")
            }
            return named
        }
        guard groups.count == 1, let only = groups.keys.first else {
            throw Refusal(status: .badRequest, message: groups.isEmpty
                ? "the config has no `backends:` groups" : "name the group: ?group=\(groups.keys.sorted().joined(separator: "|"))")
        }
        return only
    }

    private func list(_ request: Request) async throws -> Response {
        let name = try group(of: request)
        let configured = (table.config.backendGroups[name] ?? []).map { ["url": $0.url.redacted, "from": "config"] }
        let added = backends.urls(of: name).map { ["url": CredentialedURL($0).redacted, "from": "api"] }
        return Self.json(.ok, ["group": name, "backends": configured + added])
    }

    private func change(_ request: Request, add: Bool) async throws -> Response {
        let name = try group(of: request)
        let body = try await request.body.collect(upTo: 64 * 1024)
        struct Input: Decodable { var url: String }
        guard let input = try? JSONDecoder().decode(Input.self, from: Data(buffer: body)) else {
            throw Refusal(status: .badRequest, message: #"the body must be JSON: {"url": "https://…"}"#)
        }
        let url = input.url.trimmingCharacters(in: .whitespacesAndNewlines)
        if let problem = Backend.problem(with: url) { throw Refusal(status: .badRequest, message: problem) }
        let shown = CredentialedURL(url).redacted
        let inConfig = (table.config.backendGroups[name] ?? []).contains { $0.url.plain == CredentialedURL(url).plain }
        if add {
            if inConfig { return Self.json(.ok, ["group": name, "url": shown, "added": false, "note": "already in the config"]) }
            let added = try await backends.add(url, to: name)
            if added {
                try rebuild()
                logger.info("admin API: added a backend", metadata: ["forward.group": "\(name)", "forward.backend": "\(shown)"])
            }
            return Self.json(added ? .created : .ok, ["group": name, "url": shown, "added": added])
        }
        if inConfig {
            throw Refusal(status: .conflict, message: "\(shown) is in the config file; remove it there")
        }
        guard try await backends.remove(url, from: name) else {
            throw Refusal(status: .notFound, message: "\(shown) is not a backend of group \(name)")
        }
        try rebuild()
        logger.info("admin API: removed a backend", metadata: ["forward.group": "\(name)", "forward.backend": "\(shown)"])
        return Self.json(.ok, ["group": name, "url": shown, "removed": true])
    }

    static func json(_ status: HTTPResponse.Status, _ object: [String: any Sendable]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}

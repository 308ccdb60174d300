import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// Makes one git host API's calls: its base URL, its way of sending the token, JSON in and out,
/// the pacing its rate limits ask for. Errors name the call (method and path, no query) and the
/// host's message, never the token.
struct GitHostCaller: Sendable {
    /// The answer to a call that got an expected status.
    struct Reply: Sendable {
        var status: UInt
        var headers: HTTPHeaders
        var body: Data

        /// The body as JSON (objects and arrays), or nil.
        var json: Any? { try? JSONSerialization.jsonObject(with: body) }
    }

    let baseURL: String
    /// The header that carries the token, and its value (`Authorization: Bearer …`).
    let authorization: (name: String, value: String)
    let client: HTTPClient
    let pacer: RateLimitPacer
    let timeout: TimeAmount
    /// Headers every call of this host sends (GitHub's API version).
    var extraHeaders: [(String, String)] = []

    /// Calls `path` (below the base URL) or `url` (a whole URL the host gave, as in a `Link` header).
    func call(_ method: HTTPMethod, _ path: String, json body: Any? = nil, expecting expected: Set<UInt>) async throws(GitHostError) -> Reply {
        let whole = path.hasPrefix("http://") || path.hasPrefix("https://")
        // A next-page link from the host gets the token only if it stays on the same API.
        if whole, !path.hasPrefix(baseURL + "/") {
            throw GitHostError(cause: .serverError, description: "the host sent a link outside its API (\(baseURL)); not followed")
        }
        let url = whole ? path : baseURL + path
        let shown = "\(method.rawValue) \(url.split(separator: "?", maxSplits: 1).first.map(String.init) ?? url)"
        if let until = pacer.waitUntil() {
            throw GitHostError(cause: .rateLimited, description: "\(shown) not sent: the host asked to wait until \(Self.time(until))", retryAt: until)
        }
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: authorization.name, value: authorization.value)
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "hookgate/\(HookGateVersion.current)")
        for (name, value) in extraHeaders { request.headers.replaceOrAdd(name: name, value: value) }
        if let body {
            guard let data = try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys]) else {
                throw GitHostError(cause: .refused, description: "\(shown): the request body cannot be written as JSON")
            }
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: data))
        }
        let response: HTTPClientResponse
        let collected: ByteBuffer
        do {
            response = try await client.execute(request, timeout: timeout)
            collected = try await response.body.collect(upTo: 16 << 20)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            throw GitHostError(cause: .timeout, description: "\(shown) did not answer within \(timeout.nanoseconds / 1_000_000) ms")
        } catch {
            throw GitHostError(cause: .unreachable, description: "\(shown): \(error)")
        }
        let status = response.status.code
        let data = Data(buffer: collected)
        let pause = pacer.record(status: status, headers: response.headers)
        if expected.contains(status) { return Reply(status: status, headers: response.headers, body: data) }
        let message = Self.message(in: data).map { ": \($0)" } ?? ""
        if let pause, status == 403 || status == 429 {
            throw GitHostError(cause: .rateLimited, description: "\(shown) answered \(status)\(message); waiting until \(Self.time(pause))", retryAt: pause)
        }
        let cause: GitHostError.Cause = switch status {
        case 401: .unauthorized
        case 403: .forbidden
        case 404: .notFound
        case 400..<500: .refused
        default: .serverError
        }
        let hint = switch cause {
        case .unauthorized: " (the token was refused: expired, revoked, or not a token of this host)"
        case .forbidden: " (the token lacks a scope, or its user the admin role; docs/git-hosts.md lists what each call needs)"
        case .notFound: " (no such repository or organization, a token that may not see it, or a wrong API URL)"
        default: ""
        }
        throw GitHostError(cause: cause, description: "\(shown) answered \(status)\(message)\(hint)")
    }

    /// The host's error message (`message`, or Bitbucket's `error.message`), cut to 200 characters.
    static func message(in data: Data) -> String? {
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return nil }
        let text = object["message"] as? String ?? (object["error"] as? [String: Any])?["message"] as? String
            ?? (object["message"] as? [String: Any]).map { "\($0)" } ?? object["error"] as? String
        return text.map { String($0.prefix(200)) }
    }

    static func time(_ date: Date) -> String {
        ISO8601DateFormatter().string(from: date)
    }
}

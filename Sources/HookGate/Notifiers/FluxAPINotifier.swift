import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Calls a Flux v1 daemon's `POST {api}/v11/notify`, with the same JSON bodies flux-recv sent.
///
/// Events that map to the same change (Quay's several tags of one image) are sent once.
public struct FluxAPINotifier: Notifier {
    public let kind = "flux-api"
    public var target: String { "flux-api " + endpoint.redacted }
    /// `{api}/v11/notify`; its credentials, if any, go only into the call.
    let endpoint: CredentialedURL
    /// The URL as logs and errors show it.
    var url: String { endpoint.redacted }
    let client: HTTPClient
    let timeout: TimeAmount

    /// flux-recv's timeout for the notify call.
    public static let defaultTimeout: TimeAmount = .seconds(10)

    /// - Parameter baseURL: the `api` setting, for example `http://localhost:3030/api/flux`.
    public init(baseURL: String, client: HTTPClient, timeout: TimeAmount = FluxAPINotifier.defaultTimeout) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.endpoint = CredentialedURL(base + "/v11/notify")
        self.client = client
        self.timeout = timeout
    }

    public func notify(_ events: [HookEvent], context: NotifyContext) async throws(NotifyFailure) {
        for body in Self.distinctBodies(events) {
            try await post(body)
            context.logger.debug("notified the Flux API", metadata: ["notify.url": "\(url)", "notify.body": "\(body)"])
        }
    }

    /// The Flux API is told "this repository or image changed; look now": the same change bodies
    /// make the same calls.
    public func mergeKey(for events: [HookEvent]) -> String? {
        let bodies = Self.distinctBodies(events)
        return bodies.isEmpty ? nil : bodies.joined(separator: "\n")
    }

    /// The notify bodies of `events`, each once, in order (linear: a push of many branches is
    /// many bodies).
    static func distinctBodies(_ events: [HookEvent]) -> [String] {
        var seen: Set<String> = []
        return events.compactMap { event in
            guard let body = FluxChange.json(for: event), seen.insert(body).inserted else { return nil }
            return body
        }
    }

    private func post(_ body: String) async throws(NotifyFailure) {
        var request = HTTPClientRequest(url: endpoint.plain)
        request.method = .POST
        if let authorization = endpoint.authorization { request.headers.add(name: "Authorization", value: authorization) }
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body))
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: timeout)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            throw NotifyFailure(.timeout, "\(url) did not answer within \(timeout.nanoseconds / 1_000_000_000) s")
        } catch {
            throw NotifyFailure(.unreachable, "\(url): \(error)")
        }
        // fluxd's client treats these as success.
        let ok: Set<UInt> = [200, 201, 202, 204]
        let text = (try? await response.body.collect(upTo: 4096)).map { String(buffer: $0) } ?? ""
        guard ok.contains(response.status.code) else {
            let snippet = text.split(whereSeparator: \.isNewline).first.map { String($0.prefix(200)) } ?? ""
            throw NotifyFailure(
                .rejected, "\(url) answered \(response.status.code)\(snippet.isEmpty ? "" : ": \(snippet)")",
                status: Int(response.status.code), retryAfter: RetryAfter.parse(response.headers.first(name: "Retry-After")))
        }
    }
}

/// The body of fluxd's `v9.Change`, encoded byte for byte as Go's `json.Marshal` encodes it.
public enum FluxChange {
    /// The JSON for one event, or nil when the event is not a git or image push (a trigger names
    /// no change fluxd could look at).
    public static func json(for event: HookEvent) -> String? {
        switch event.kind {
        case .gitPush(let push):
            let branch = push.ref.dropPrefix("refs/heads/") ?? push.ref
            return #"{"Kind":"git","Source":{"URL":"# + goString(push.sshURL) + #","Branch":"# + goString(branch) + "}}"
        case .imagePush(let push):
            return #"{"Kind":"image","Source":{"Name":{"Domain":"# + goString(push.image.domain) + #","Image":"#
                + goString(push.image.repository) + "}}}"
        case .pullRequest, .release, .trigger, .ping, .other:
            return nil
        }
    }

    /// A JSON string literal as Go writes it: `<`, `>`, `&`, U+2028 and U+2029 escaped too.
    static func goString(_ text: String) -> String {
        let plain = text.utf8.allSatisfy { byte in
            byte >= 0x20 && byte < 0x80 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\")
                && byte != UInt8(ascii: "<") && byte != UInt8(ascii: ">") && byte != UInt8(ascii: "&")
        }
        if plain { return "\"" + text + "\"" }
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "<", ">", "&", "\u{2028}", "\u{2029}":
                out += "\\u" + hex4(scalar.value)
            case _ where scalar.value < 0x20:
                out += "\\u" + hex4(scalar.value)
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    private static func hex4(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}

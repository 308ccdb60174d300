import Foundation
import Yams

/// One place the `forward` action sends every verified request to.
public struct Backend: Sendable, Equatable {
    /// Where to send: exactly this URL, its path included; the request's query string is added.
    public var url: CredentialedURL
    /// How long one attempt may take, from connecting to the end of the answer.
    public var timeout: Duration
    /// Whether a `delivery: sync` answer waits for it (and fails when it fails). A best-effort
    /// backend is always queued.
    public var required: Bool
    /// The key its requests are re-signed with (`resign.keyPath`); nil to pass the original
    /// signature headers through.
    public var resignKey: ResignKey?

    public struct ResignKey: Sendable, Equatable {
        /// The file, for messages.
        public var path: String
        /// Its content, without a final newline (as `kubectl create secret --from-file` keeps it,
        /// a backend compares with it).
        public var bytes: [UInt8]
    }

    public static let defaultTimeout: Duration = .seconds(15)

    public init(url: String, timeout: Duration = Backend.defaultTimeout, required: Bool = true, resignKey: ResignKey? = nil) {
        self.url = CredentialedURL(url)
        self.timeout = timeout
        self.required = required
        self.resignKey = resignKey
    }

    /// The backend's host and port, the bounded label of its metrics.
    public var host: String {
        guard let components = URLComponents(string: url.plain), let host = components.host else { return url.redacted }
        return components.port.map { "\(host):\($0)" } ?? host
    }

    /// Why `text` is not a URL a backend can have; nil when it is one.
    static func problem(with text: String) -> String? {
        guard let components = URLComponents(string: text) else { return "\"\(CredentialedURL(text).redacted)\" is not a URL" }
        guard let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
            return "\"\(CredentialedURL(text).redacted)\" is not an http:// or https:// URL"
        }
        guard let host = components.host, !host.isEmpty else { return "\"\(CredentialedURL(text).redacted)\" names no host" }
        if components.fragment != nil { return "\"\(CredentialedURL(text).redacted)\" has a #fragment, which is never sent" }
        return nil
    }

    /// Reads a list of backends: each a URL, or `{url, timeout, required, resign: {keyPath}}`.
    static func readList(_ nodes: [Node], at list: Node?, path: String, folder: String, reader: YAMLReader) -> [Backend]? {
        var backends: [Backend] = []
        var ok = true
        for (index, node) in nodes.enumerated() {
            guard let backend = read(node, path: "\(path)[\(index)]", folder: folder, reader: reader) else { ok = false; continue }
            if backends.contains(where: { $0.url == backend.url }) {
                reader.problem("`\(path)[\(index)]` repeats \(backend.url.redacted)", at: node, fix: "list each backend once")
                ok = false
                continue
            }
            backends.append(backend)
        }
        if nodes.isEmpty {
            reader.problem("`\(path)` is empty", at: list, fix: "list at least one backend URL")
            ok = false
        }
        return ok ? backends : nil
    }

    static func read(_ node: Node, path: String, folder: String, reader: YAMLReader) -> Backend? {
        if let text = node.scalar?.string {
            if let problem = problem(with: text) {
                reader.problem("`\(path)`: \(problem)", at: node, fix: "for example `https://cluster-a.example.com/hook`")
                return nil
            }
            return Backend(url: text)
        }
        guard let object = reader.object(node, path: path) else { return nil }
        object.rejectUnknownKeys(["url", "timeout", "required", "resign"])
        guard let text = object.string("url", required: true) else { return nil }
        if let problem = problem(with: text) {
            reader.problem("`\(object.qualified("url"))`: \(problem)", at: object["url"], fix: "for example `https://cluster-a.example.com/hook`")
            return nil
        }
        var backend = Backend(url: text, required: object.bool("required") ?? true)
        if let node = object["timeout"] {
            guard let timeout = DurationText.parse(node.string ?? ""), timeout > .zero else {
                reader.problem("`\(object.qualified("timeout"))` must be a duration above zero such as 500ms, 15s or 1m", at: node)
                return nil
            }
            backend.timeout = timeout
        }
        if let resign = reader.object(object["resign"], path: object.qualified("resign")) {
            resign.rejectUnknownKeys(["keyPath"])
            guard let configured = resign.string("keyPath", required: true) else { return nil }
            let resolved = configured.hasPrefix("/") ? configured : (folder as NSString).appendingPathComponent(configured)
            var warnings: [ConfigProblem] = []
            guard let bytes = ConfigLoader.readKey(resolved, configured: configured, at: resign["keyPath"], reader: reader, warnings: &warnings) else {
                return nil
            }
            backend.resignKey = ResignKey(path: resolved, bytes: EndpointKey(bytes).withoutFinalNewline)
        }
        return backend
    }
}

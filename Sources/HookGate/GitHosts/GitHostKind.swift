import AsyncHTTPClient
import Foundation
import NIOCore

/// One git host as a plug-in: its public API, how it takes a token, its names for hookgate's
/// event kinds, and the ``GitHost`` that talks to it. Each host declares one in its own file;
/// ``all`` lists them (docs/git-hosts.md).
public struct GitHostKind: Sendable {
    public let source: Source
    /// The API of the public service (nil: a self-hosted one has no default, as Gitea's).
    public let defaultAPIURL: String?
    /// Whether the host keeps deliveries that can be listed and sent again.
    let recovers: Bool
    /// How long the host keeps deliveries (the longest useful `lookback`).
    let keepsDeliveries: Duration
    /// The event kinds hookgate parses from this host (what a `forward` action asks for).
    let parsedEvents: Set<Rule.EventKind>
    /// The host's event names for a set of kinds, sorted.
    let eventNames: @Sendable (Set<Rule.EventKind>) -> [String]
    /// The header that carries a token.
    let authorization: @Sendable (String) -> (name: String, value: String)
    let make: @Sendable (GitHostCaller) -> any GitHost

    /// Every host hookgate can register hooks with. Adding one: one file, one line here.
    public static let all: [GitHostKind] = [GitHubHost.kind, GitLabHost.kind, GiteaHost.kind, BitbucketCloudHost.kind]

    public static func of(_ source: Source) -> GitHostKind? {
        all.first { $0.source == source }
    }

    /// The events `endpoint`'s actions act on, in this host's names.
    public func events(for endpoint: Endpoint) -> [String] {
        var kinds: Set<Rule.EventKind> = []
        for action in endpoint.notify {
            kinds.formUnion(action.spec.actsOnEveryEvent ? parsedEvents : action.rule.events ?? [.push, .tag])
        }
        return eventNames(kinds.intersection(parsedEvents).isEmpty ? [.push] : kinds.intersection(parsedEvents))
    }

    /// The host's API for `endpoint`, with the token read from its file now (a rotated token is
    /// used from the next call on).
    public static func connect(_ endpoint: Endpoint, api: GitAPI, client: HTTPClient, pacer: RateLimitPacer, timeout: TimeAmount = .seconds(30)) throws(GitHostError) -> any GitHost {
        guard let kind = of(endpoint.source) else {
            throw GitHostError(cause: .refused, description: "hookgate registers hooks with \(all.map(\.source.rawValue).joined(separator: ", ")), not \(endpoint.source)")
        }
        let token = try api.token()
        var caller = GitHostCaller(baseURL: api.url, authorization: kind.authorization(token), client: client, pacer: pacer, timeout: timeout)
        if endpoint.source == .gitHub { caller.extraHeaders = [("Accept", "application/vnd.github+json"), ("X-GitHub-Api-Version", "2022-11-28")] }
        return kind.make(caller)
    }

    /// A GitHub App's own webhook, through the App's JWT (its deliveries only).
    public static func connect(app: GitHubApp, client: HTTPClient, pacer: RateLimitPacer) throws(GitHostError) -> any GitHost {
        try GitHubAppHookHost(app: app, client: client, pacer: pacer)
    }

    /// The hook `endpoint` should have at `publicURL`.
    public func desiredHook(for endpoint: Endpoint, publicURL: String) throws(GitHostError) -> DesiredHook {
        guard let secret = String(validating: endpoint.key.withoutFinalNewline, as: UTF8.self) else {
            throw GitHostError(cause: .refused, description: "the key of \(endpoint.name) (\(endpoint.keyPaths[0])) is not text, and git hosts take a text secret; write one with `hookgate keygen --out FILE`")
        }
        return DesiredHook(url: Self.hookURL(publicURL: publicURL, endpoint: endpoint), secret: secret, events: events(for: endpoint))
    }

    /// The URL `endpoint` is reached at through `publicURL`.
    public static func hookURL(publicURL: String, endpoint: Endpoint) -> String {
        var base = publicURL
        while base.hasSuffix("/") { base.removeLast() }
        return base + endpoint.path
    }
}

/// `gitAPI:` of an endpoint: the git host's API and the token registration and recovery use.
public struct GitAPI: Sendable, Equatable {
    /// The API's base URL without a final `/` (`https://api.github.com`, `https://HOST/api/v4`).
    public var url: String
    /// The token file, resolved against the config's folder; read at each use.
    public var tokenPath: String

    public init(url: String, tokenPath: String) {
        var url = url
        while url.hasSuffix("/") { url.removeLast() }
        self.url = url
        self.tokenPath = tokenPath
    }

    /// The token, without a final newline.
    func token() throws(GitHostError) -> String {
        guard let data = FileManager.default.contents(atPath: tokenPath) else {
            throw GitHostError(cause: .unauthorized, description: "the token file \(tokenPath) cannot be read")
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { throw GitHostError(cause: .unauthorized, description: "the token file \(tokenPath) is empty") }
        return token
    }
}

/// What an endpoint does with its git host (`gitAPI`, `register`, `recover`).
public struct GitHostSettings: Sendable, Equatable {
    /// Nil only on a GitHub App endpoint, which recovers with the App's credentials.
    public var api: GitAPI?
    public var register: Registration?
    public var recover: Recovery?

    /// `register:`: the repositories and organizations whose hooks are kept pointing here.
    public struct Registration: Sendable, Equatable {
        public var repos: [String]
        public var orgs: [String]
        /// The URL the internet reaches hookgate at (`https://hooks.example.com`).
        public var publicURL: String
        public var every: Duration
        /// Delete hooks under `publicURL/hook/` that no endpoint of the config claims.
        public var prune: Bool

        public var scopes: [HookScope] { repos.map(HookScope.repository) + orgs.map(HookScope.organization) }
    }

    /// `recover:`: ask again for failed deliveries the queue never accepted.
    public struct Recovery: Sendable, Equatable {
        public var every: Duration
        public var lookback: Duration
        public var maxPerRun: Int
    }
}

import Crypto
import Foundation

/// A loaded, validated configuration: every key file read, every fingerprint computed.
///
/// Immutable once built; a reload builds a new one.
public struct Config: Sendable {
    /// Which schema the file was written in.
    public enum Format: String, Sendable {
        /// `fluxRecvVersion: 1`: a fluxcd/flux-recv config, used unchanged.
        case fluxRecv
        /// `hookgateVersion: 1`: hookgate's own schema, a superset.
        case hookgate
    }

    /// The config file this was loaded from.
    public var file: String
    public var format: Format
    /// The Flux v1 API base URL (`api`), used by endpoints that say nothing else.
    public var api: String
    public var limits: Limits
    /// How the client of a request is told (`trustedProxies`), for endpoints with `allowFrom`.
    public var clientAddresses = ClientAddressPolicy()
    public var delivery: DeliverySettings
    /// `backends:`: named lists of `forward` backends, several endpoints' actions may share.
    public var backendGroups: [String: [Backend]] = [:]
    /// `admin:`: the bearer token of the admin listener (`--admin-listen`), if the config has one.
    public var adminToken: AdminToken?
    /// `githubApps:`: the GitHub Apps hookgate keeps installation tokens for (docs/github-app.md).
    public var githubApps: [GitHubApp] = []
    public var endpoints: [Endpoint]
    /// Things that work but deserve the operator's attention (key files ending in a newline …).
    public var warnings: [ConfigProblem]
    /// Every file this config was built from: itself, then its key and template files.
    public var files: [String]

    /// True when some action talks to Kubernetes, so hookgate needs a connection to it.
    public var needsKubernetes: Bool {
        endpoints.contains { $0.notify.contains(where: \.needsKubernetes) }
    }

    /// The default Flux v1 API base URL, as flux-recv had it.
    public static let defaultAPI = "http://localhost:3030/api/flux"

    public init(
        file: String, format: Format, api: String, limits: Limits, delivery: DeliverySettings = DeliverySettings(),
        endpoints: [Endpoint], warnings: [ConfigProblem], files: [String]? = nil
    ) {
        self.file = file
        self.format = format
        self.api = api
        self.limits = limits
        self.delivery = delivery
        self.endpoints = endpoints
        self.warnings = warnings
        var seen = Set<String>()
        self.files = (files ?? [file] + endpoints.flatMap(\.keyPaths)).filter { seen.insert($0).inserted }
    }
}

/// The admin API's bearer token (`admin.tokenPath`), read with the config and reloaded with it.
public struct AdminToken: Sendable, Equatable, CustomStringConvertible {
    public var path: String
    let bytes: [UInt8]

    /// Whether `header` (an `Authorization` value) is `Bearer <token>`, compared in constant time.
    func admits(_ header: String?) -> Bool {
        guard let header, header.count > 7, header.prefix(7).lowercased() == "bearer " else { return false }
        return TokenCheck.matches(String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces), candidates: [bytes])
    }

    public var description: String { "<admin token from \(path)>" }
}

/// Bounds on what the server accepts from the network (`limits:`; docs/configuration.md#limits).
public struct Limits: Sendable, Equatable {
    /// Largest request body accepted; larger ones get 413. GitHub caps payloads at 25 MB.
    public var maxBodyBytes: Int
    /// Bytes of request bodies held at once, across all requests; a request that would go over
    /// gets 503 before its body is read. What bounds hookgate's memory under many large uploads.
    public var maxBodyBytesInFlight: Int
    /// Webhook requests handled at once (from their head to their answer); more get 429.
    public var maxConcurrentRequests: Int
    /// Of those, how many one endpoint may hold, so a flood at one URL leaves the others room.
    public var maxConcurrentRequestsPerEndpoint: Int
    /// Of those, how many one client address may hold (as told by `trustedProxies`).
    public var maxConcurrentRequestsPerClient: Int
    /// Events one request may carry (Bitbucket pushes of many branches, Quay pushes of many
    /// tags); more get 413.
    public var maxEventsPerDelivery: Int

    public static let defaultMaxBodyBytes = 25 * 1024 * 1024
    public static let defaultMaxBodyBytesInFlight = 64 * 1024 * 1024
    public static let defaultMaxConcurrentRequests = 256
    public static let defaultMaxEventsPerDelivery = 1000

    /// - Parameters: unset shares are a quarter of `maxConcurrentRequests` each (64 of 256).
    public init(
        maxBodyBytes: Int = Limits.defaultMaxBodyBytes, maxBodyBytesInFlight: Int = Limits.defaultMaxBodyBytesInFlight,
        maxConcurrentRequests: Int = Limits.defaultMaxConcurrentRequests, maxConcurrentRequestsPerEndpoint: Int? = nil,
        maxConcurrentRequestsPerClient: Int? = nil, maxEventsPerDelivery: Int = Limits.defaultMaxEventsPerDelivery
    ) {
        self.maxBodyBytes = maxBodyBytes
        self.maxBodyBytesInFlight = maxBodyBytesInFlight
        self.maxConcurrentRequests = maxConcurrentRequests
        self.maxConcurrentRequestsPerEndpoint = maxConcurrentRequestsPerEndpoint ?? max(1, maxConcurrentRequests / 4)
        self.maxConcurrentRequestsPerClient = maxConcurrentRequestsPerClient ?? max(1, maxConcurrentRequests / 4)
        self.maxEventsPerDelivery = maxEventsPerDelivery
    }

    /// Body bytes one endpoint may hold at once: half the budget, so a few large uploads to one
    /// URL leave the others room, but never less than one body of the largest size.
    public var maxBodyBytesInFlightPerEndpoint: Int {
        min(maxBodyBytesInFlight, max(maxBodyBytes, maxBodyBytesInFlight / 2))
    }
}

/// One entry of an endpoint's `notify:` list: what to do (its plug-in's ``ActionSpec``), for which
/// events, and the id its queued work is found by.
public struct Action: Sendable, Equatable {
    public var spec: any ActionSpec
    /// `when:`; every git and image push when absent.
    public var rule: Rule
    /// `id:` as configured, else a hash of the spec's definition: queue rows name the action by it,
    /// so reordering actions, or editing a template, does not misroute pending work.
    public var id: String

    public init(_ spec: any ActionSpec, rule: Rule = .any, id: String? = nil) {
        self.spec = spec
        self.rule = rule
        self.id = id ?? Self.defaultID(spec)
    }

    static func defaultID(_ spec: any ActionSpec) -> String {
        String(SHA256.hash(data: Data(spec.definition.utf8)).hexString.prefix(10))
    }

    var needsKubernetes: Bool { spec.needsKubernetes }

    /// The queue target of this action at `endpoint`.
    public func target(endpoint: String) -> String { spec.target(endpoint: endpoint, id: id) }

    public static func == (left: Action, right: Action) -> Bool {
        left.id == right.id && left.spec.definition == right.spec.definition && left.rule == right.rule
    }
}

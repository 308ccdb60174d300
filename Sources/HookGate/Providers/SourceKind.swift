import Foundation
import Yams

/// One kind of sender as a plug-in: its name and aliases, the settings it reads from its
/// endpoint's keys, whether it verifies the sender, its provider (verifier and parser) and its
/// sample webhook. Each source declares one in its provider's file; ``all`` lists them
/// (docs/DESIGN.md, "Adding a source").
public struct SourceKind: Sendable {
    public let source: Source
    /// Other names configs may use (`Forgejo`, `Gogs` for Gitea).
    let aliases: [String]
    /// Endpoint keys only this source reads, in hookgate configs.
    let keys: [String]
    /// Of those, the ones flux-recv configs had.
    let fluxRecvKeys: [String]
    /// Whether `registryHost` names the registry its images live on (Nexus, Artifactory); for
    /// every source it is part of the URL, as in flux-recv.
    let usesRegistryHost: Bool
    /// Reads this source's settings from its endpoint (problems with their lines, warnings);
    /// nil after a problem was recorded.
    let readSettings: @Sendable (SourceSettingsInput) -> (any SourceSettings)?
    /// The settings of an endpoint whose config says nothing.
    let defaults: any SourceSettings
    /// Whether an endpoint's requests can be verified, so its URL need not be secret.
    let verifiesSender: @Sendable (Endpoint) -> Bool
    let makeProvider: @Sendable (Endpoint, ProviderContext) -> any Provider
    let sample: @Sendable (SampleWebhook.Options, Endpoint) throws(SampleWebhook.Problem) -> SampleWebhook
    /// Settings that change what the provider checks, each fuzzed as its own endpoint variant
    /// (with the fuzz harness's key), besides ``defaults``.
    let fuzzVariants: [any SourceSettings]
    /// How its signature headers are made with another key (the `forward` action's `resign`); nil
    /// when it signs nothing with a shared secret.
    let signer: RequestSigner?

    init(
        _ source: Source, aliases: [String] = [], keys: [String] = [], fluxRecvKeys: [String] = [], usesRegistryHost: Bool = false,
        defaults: any SourceSettings = NoSourceSettings(),
        readSettings: @escaping @Sendable (SourceSettingsInput) -> (any SourceSettings)? = { $0.defaults },
        verifiesSender: @escaping @Sendable (Endpoint) -> Bool,
        fuzzVariants: [any SourceSettings] = [],
        signer: RequestSigner? = nil,
        sample: @escaping @Sendable (SampleWebhook.Options, Endpoint) throws(SampleWebhook.Problem) -> SampleWebhook,
        makeProvider: @escaping @Sendable (Endpoint, ProviderContext) -> any Provider
    ) {
        self.source = source
        self.aliases = aliases
        self.keys = keys
        self.fluxRecvKeys = fluxRecvKeys
        self.usesRegistryHost = usesRegistryHost
        self.defaults = defaults
        self.readSettings = readSettings
        self.verifiesSender = verifiesSender
        self.fuzzVariants = fuzzVariants
        self.signer = signer
        self.sample = sample
        self.makeProvider = makeProvider
    }

    /// Every source hookgate receives from. Adding a source: one file, one line here.
    public static let all: [SourceKind] = [
        GitHub.kind, GitLab.kind, BitbucketCloud.kind, BitbucketServer.kind, Gitea.kind, DockerHub.kind, Quay.kind, Harbor.kind,
        Nexus.kind, GoogleContainerRegistry.kind, ACR.kind, Artifactory.kind, StandardWebhooks.kind, GenericHMAC.kind, Generic.kind,
        AzureDevOps.kind,
    ]

    static let bySource = Dictionary(uniqueKeysWithValues: all.map { ($0.source, $0) })

    /// The plug-in of `source` (every ``Source`` value comes from one).
    public static func of(_ source: Source) -> SourceKind {
        guard let kind = bySource[source] else { preconditionFailure("\(source) has no SourceKind in SourceKind.all") }
        return kind
    }

    /// Every endpoint key some source reads, for `rejectUnknownKeys`.
    static func allKeys(own: Bool) -> [String] {
        all.flatMap { own ? $0.keys : $0.fluxRecvKeys }
    }

    /// The endpoint variants the fuzzer runs `source`'s inputs against.
    public static func fuzzEndpoints(_ source: Source, key: (any SourceSettings) -> EndpointKey, registryHost: String) -> [Endpoint] {
        let kind = of(source)
        return ([kind.defaults] + kind.fuzzVariants).map { settings in
            var endpoint = Endpoint(source: source, keyPaths: ["fuzz.key"], key: key(settings), notify: [Action(LogAction())], settings: settings)
            if kind.usesRegistryHost { endpoint.registryHost = registryHost }
            return endpoint
        }
    }
}

/// What a source reads from its endpoint's keys: `allowLegacySignature` (GitHub), `gcr`
/// (GoogleContainerRegistry) … Each source has its own type; ``Endpoint/settings`` holds it.
public protocol SourceSettings: Sendable {
    /// Whether `other` holds the same settings (configs are compared at reload).
    func isEqual(to other: any SourceSettings) -> Bool
}

extension SourceSettings where Self: Equatable {
    public func isEqual(to other: any SourceSettings) -> Bool {
        (other as? Self) == self
    }
}

/// The settings of a source that has none.
public struct NoSourceSettings: SourceSettings, Equatable {
    public init() {}
}

/// What a source's settings reader gets: the endpoint's mapping, and the endpoint as read so far.
struct SourceSettingsInput {
    let item: YAMLObject
    /// A hookgate config (own keys allowed), not a flux-recv one.
    let own: Bool
    let source: Source
    let key: EndpointKey
    let keyPaths: [String]
    let registryHost: String?
    let notify: [Action]
    let defaults: any SourceSettings
    let warnings: ProblemList

    var reader: YAMLReader { item.reader }

    /// Warns, with the endpoint's line unless `node` is given.
    func warn(_ message: String, at node: Node? = nil, fix: String? = nil) {
        warnings.items.append(ConfigProblem(file: reader.file, line: node?.mark?.line ?? item.line, message: message, fix: fix))
    }
}

/// Warnings collected while reading, kept apart from problems (which fail the config).
final class ProblemList {
    var items: [ConfigProblem] = []
}

/// What providers are made with besides their endpoint.
public struct ProviderContext: Sendable {
    /// Google's signing keys, for GoogleContainerRegistry endpoints.
    public var googleKeys: GoogleKeyStore
    /// The clock signed timestamps are checked against (StandardWebhooks, GitLab).
    public var now: @Sendable () -> Date

    public init(googleKeys: GoogleKeyStore, now: @escaping @Sendable () -> Date = { Date() }) {
        self.googleKeys = googleKeys
        self.now = now
    }
}

/// The kinds of sender an endpoint can receive from, spelt as flux-recv spells them.
public enum Source: String, CaseIterable, Sendable, Codable {
    case gitHub = "GitHub"
    case gitLab = "GitLab"
    case bitbucketCloud = "BitbucketCloud"
    case bitbucketServer = "BitbucketServer"
    case gitea = "Gitea"
    case dockerHub = "DockerHub"
    case quay = "Quay"
    case harbor = "Harbor"
    case nexus = "Nexus"
    case googleContainerRegistry = "GoogleContainerRegistry"
    case acr = "ACR"
    case artifactory = "Artifactory"
    case standardWebhooks = "StandardWebhooks"
    case genericHMAC = "GenericHMAC"
    case generic = "Generic"

    /// Whether `endpoint`'s requests can be verified (signature, token or JWT), so that its URL
    /// need not be secret. DockerHub, Quay and Generic sign nothing; Pub/Sub pushes are verified
    /// only with `gcr`, ACR only with a `token`; Bitbucket Cloud signs only when a secret is set,
    /// so only `requireSignature` makes it a guard.
    public func verifiesSender(of endpoint: Endpoint) -> Bool {
        switch self {
        case .gitHub, .gitLab, .bitbucketServer, .gitea, .harbor, .nexus, .artifactory, .standardWebhooks, .genericHMAC: true
        case .bitbucketCloud: endpoint.requireSignature
        case .dockerHub, .quay, .generic: false
        case .googleContainerRegistry: endpoint.gcr != nil
        case .acr: endpoint.tokenHeader != nil
        }
    }

    /// Other names accepted in configs for the same provider.
    static let aliases: [String: Source] = [
        "forgejo": .gitea,
        "gogs": .gitea,
        "azurecontainerregistry": .acr,
        "jfrog": .artifactory,
    ]

    /// Every name a config may use, for "did you mean" answers.
    public static var allNames: [String] {
        allCases.map(\.rawValue) + ["Forgejo", "Gogs", "AzureContainerRegistry", "JFrog"]
    }

    /// The source a config names, matched case-insensitively.
    public init?(configName: String) {
        let lowered = configName.lowercased()
        if let source = Source.allCases.first(where: { $0.rawValue.lowercased() == lowered }) {
            self = source
        } else if let source = Source.aliases[lowered] {
            self = source
        } else {
            return nil
        }
    }
}

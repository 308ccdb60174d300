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

    /// Whether requests from this source can be verified (signature, token or JWT), so that the
    /// URL need not be secret. DockerHub and Quay sign nothing; Pub/Sub pushes are verified only
    /// when the endpoint sets `gcr`; Bitbucket Cloud signs only when a secret is set, so only
    /// `requireSignature` makes it a guard.
    public func verifiesSender(gcr: GoogleAuthSettings?, requireSignature: Bool) -> Bool {
        switch self {
        case .gitHub, .gitLab, .bitbucketServer, .gitea, .harbor, .nexus: true
        case .bitbucketCloud: requireSignature
        case .dockerHub, .quay: false
        case .googleContainerRegistry: gcr != nil
        }
    }

    /// Other names accepted in configs for the same provider.
    static let aliases: [String: Source] = [
        "forgejo": .gitea,
        "gogs": .gitea,
    ]

    /// Every name a config may use, for "did you mean" answers.
    public static var allNames: [String] {
        allCases.map(\.rawValue) + ["Forgejo", "Gogs"]
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

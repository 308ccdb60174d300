/// What a provider made of one verified request: the normalized form every notifier reads.
///
/// A request yields zero or more events (a Bitbucket push lists several changes). Providers
/// never talk to notifiers; they only produce these values.
public struct HookEvent: Sendable, Equatable {
    /// The provider's own name for the event (`push`, `Tag Push Hook`, `repo:refs_changed`, …).
    public var name: String
    /// What happened, with the facts a notifier needs.
    public var kind: Kind
    /// Values read from the body at acceptance for the actions that use them
    /// (`$(hook.body.PATH)`), by path.
    public var bodyValues: [String: String]
    /// Request headers read at acceptance for the actions that use them (`$(hook.header.NAME)`),
    /// by the name as the template writes it.
    public var headerValues: [String: String]

    public init(name: String, kind: Kind, bodyValues: [String: String] = [:], headerValues: [String: String] = [:]) {
        self.name = name
        self.kind = kind
        self.bodyValues = bodyValues
        self.headerValues = headerValues
    }

    public enum Kind: Sendable, Equatable {
        /// Commits were pushed to (or a ref was created or deleted in) a git repository.
        case gitPush(GitPush)
        /// An image was pushed to a registry.
        case imagePush(ImagePush)
        /// A pull or merge request opened, updated, reopened, closed or merged. Acted on only by
        /// actions whose rule names `events: [pullRequest]`.
        case pullRequest(PullRequest)
        /// A release published. Acted on only by actions whose rule names `events: [release]`.
        case release(Release)
        /// A verified delivery that names no git or image change (Generic, GenericHMAC,
        /// StandardWebhooks): "something happened, act now". `reconcile`, `create` and `log` act on
        /// it; `fluxAPI` has nothing to send. The sender's id for it is the delivery id.
        case trigger
        /// The sender is checking that the hook works; nothing is notified.
        case ping
        /// Anything else, kept with its event name; nothing is notified.
        case other
    }

    /// A short stable name of the kind, for logs and metric labels.
    public var kindName: String {
        switch kind {
        case .gitPush: "git-push"
        case .imagePush: "image-push"
        case .pullRequest: "pull-request"
        case .release: "release"
        case .trigger: "trigger"
        case .ping: "ping"
        case .other: "other"
        }
    }

    /// True for the events that notifiers act on.
    public var isNotifiable: Bool {
        switch kind {
        case .gitPush, .imagePush, .pullRequest, .release, .trigger: true
        case .ping, .other: false
        }
    }
}

/// A push to a git repository.
public struct GitPush: Sendable, Equatable, Codable {
    /// The repository as the provider names it, for example `Codertocat/Hello-World`.
    public var fullName: String
    /// The SSH clone URL (`git@host:owner/repo.git` or `ssh://…`); flux-recv notified this one.
    public var sshURL: String
    /// The HTTPS clone URL, when the payload gives or implies one.
    public var httpsURL: String?
    /// The full ref, `refs/heads/<branch>` or `refs/tags/<tag>`.
    public var ref: String
    /// The commit before the push, when known (all zeros when the ref was created).
    public var before: String?
    /// The commit after the push, when known (all zeros when the ref was deleted).
    public var after: String?
    /// Who pushed, as the provider names them.
    public var sender: String?
    /// Files added, modified or removed by the pushed commits, when the payload lists them
    /// (GitHub, GitLab and Gitea do, for up to 20 commits).
    public var changedFiles: [String]?

    public init(
        fullName: String, sshURL: String, httpsURL: String?, ref: String, before: String? = nil, after: String? = nil,
        sender: String? = nil, changedFiles: [String]? = nil
    ) {
        self.fullName = fullName
        self.sshURL = sshURL
        self.httpsURL = httpsURL
        self.ref = ref
        self.before = before
        self.after = after
        self.sender = sender
        self.changedFiles = changedFiles
    }

    /// True when the push deleted its ref: the new commit is all zeros (GitHub, GitLab, Gitea,
    /// Bitbucket Server), or there is an old commit and no new one (Bitbucket Cloud).
    public var isDeletion: Bool {
        guard let after else { return before != nil }
        return !after.isEmpty && after.allSatisfy { $0 == "0" }
    }

    /// The branch name when `ref` names a branch.
    public var branch: String? { ref.dropPrefix("refs/heads/") }
    /// The tag name when `ref` names a tag.
    public var tag: String? { ref.dropPrefix("refs/tags/") }
}

/// A push of an image (or artifact) to a container registry.
public struct ImagePush: Sendable, Equatable, Codable {
    /// The image name as pushed, split the way Flux's daemon splits it.
    public var image: ImageReference
    /// The digest, `sha256:…`, when the payload carries it.
    public var digest: String?

    public init(image: ImageReference, digest: String? = nil) {
        self.image = image
        self.digest = digest
    }
}

/// The `commits[]` entries of GitHub, GitLab and Gitea pushes, for their changed files.
struct PushedCommit: Decodable {
    var added: [String]?
    var modified: [String]?
    var removed: [String]?

    /// A push's `commits` (null is nil), read by ``JSONReader``.
    static func read(_ reader: inout JSONReader) throws -> [PushedCommit]? {
        if try reader.isNull() { return nil }
        var commits: [PushedCommit] = []
        try reader.array { reader in
            var commit = PushedCommit()
            try reader.object { key, reader in
                if key == "added" {
                    commit.added = try paths(&reader)
                } else if key == "modified" {
                    commit.modified = try paths(&reader)
                } else if key == "removed" {
                    commit.removed = try paths(&reader)
                } else {
                    return false
                }
                return true
            }
            commits.append(commit)
        }
        return commits
    }

    private static func paths(_ reader: inout JSONReader) throws -> [String]? {
        if try reader.isNull() { return nil }
        var paths: [String] = []
        try reader.array { paths.append(try $0.string()) }
        return paths
    }

    /// Every path the commits touched, once each, in order.
    static func changedFiles(_ commits: [PushedCommit]?) -> [String]? {
        guard let commits else { return nil }
        var seen = Set<String>()
        return commits.flatMap { ($0.added ?? []) + ($0.modified ?? []) + ($0.removed ?? []) }.filter { seen.insert($0).inserted }
    }
}

extension String {
    /// The rest of the string after `prefix`, or nil when it does not start with it.
    func dropPrefix(_ prefix: String) -> String? {
        hasPrefix(prefix) ? String(dropFirst(prefix.count)) : nil
    }
}

/// Which events an action acts on (`when:` in the config). Every condition given must hold; an
/// empty rule matches every git and image push and every trigger. Deleted refs and pull requests
/// are matched only by rules that name them in `events:`.
public struct Rule: Sendable, Equatable {
    /// The kinds of event an action can be limited to.
    public enum EventKind: String, Sendable, CaseIterable {
        /// A push to a branch.
        case push
        /// A push (creation or move) of a git tag.
        case tag
        /// An image pushed to a registry.
        case image
        /// A verified delivery naming no git or image change (Generic, GenericHMAC, StandardWebhooks).
        case trigger
        /// A branch or tag deleted (a push whose new commit is zeros).
        case delete
        /// A pull or merge request opened, updated, reopened, closed or merged.
        case pullRequest
        /// A release published.
        case release
    }

    public var events: Set<EventKind>?
    /// Branch names; when given, tag pushes match only if `tags` is given too.
    public var branches: [Glob]?
    /// Tag names; when given, branch pushes match only if `branches` is given too.
    public var tags: [Glob]?
    /// Repository full names (`org/repo`); image pushes never match when given.
    public var repositories: [Glob]?
    /// Changed paths; at least one must match. Pushes whose payload lists no files pass.
    public var paths: [Glob]?
    /// Image names without tag (`ghcr.io/org/app`); git pushes never match when given.
    public var images: [Glob]?
    /// Pull requests: what happened to them; other events ignore it.
    public var actions: Set<PullRequest.Action>?
    /// Pull requests: the branches they target; other events ignore it.
    public var baseBranches: [Glob]?
    /// Pull requests from forks match only when true (nil counts as false): a fork's code is not
    /// the repository owners', and a run started for it must not get their secrets by default.
    public var fromForks: Bool?
    /// Values in the body: each path's value (read at acceptance) must match one of its globs; a
    /// path the body lacks matches nothing.
    public var body: [BodyCondition]?

    /// `when: {body: {PATH: GLOB | [GLOBS]}}`: one path and the values it may have.
    public struct BodyCondition: Sendable, Equatable {
        public var path: BodyPath
        public var values: [Glob]

        public init(path: BodyPath, values: [Glob]) {
            self.path = path
            self.values = values
        }

        /// Whether `event`'s value at the path matches.
        func holds(for event: HookEvent) -> Bool {
            guard let value = event.bodyValues[path.description] else { return false }
            return values.contains { $0.matches(value) }
        }
    }

    /// The body paths its conditions read.
    public var bodyPaths: Set<BodyPath> { Set(body?.map(\.path) ?? []) }

    public init(
        events: Set<EventKind>? = nil, branches: [Glob]? = nil, tags: [Glob]? = nil, repositories: [Glob]? = nil,
        paths: [Glob]? = nil, images: [Glob]? = nil, actions: Set<PullRequest.Action>? = nil, baseBranches: [Glob]? = nil, fromForks: Bool? = nil,
        body: [BodyCondition]? = nil
    ) {
        self.body = body
        self.actions = actions
        self.baseBranches = baseBranches
        self.fromForks = fromForks
        self.events = events
        self.branches = branches
        self.tags = tags
        self.repositories = repositories
        self.paths = paths
        self.images = images
    }

    public static let any = Rule()

    /// flux-recv told fluxd of every push, deleted refs included: its configs keep that.
    public static let fluxRecv = Rule(events: [.push, .tag, .delete, .image])

    /// The kind of a git push for `events:`.
    static func kind(of push: GitPush) -> EventKind {
        push.isDeletion ? .delete : push.tag != nil ? .tag : .push
    }

    public func matches(_ event: HookEvent) -> Bool {
        if let body, !body.allSatisfy({ $0.holds(for: event) }) { return false }
        switch event.kind {
        case .gitPush(let push):
            if images != nil { return false }
            let kind = Self.kind(of: push)
            if !(events?.contains(kind) ?? (kind != .delete)) { return false }
            if branches != nil || tags != nil {
                let refMatches: Bool =
                    if let branch = push.branch { branches?.contains { $0.matches(branch) } ?? false }
                    else if let tag = push.tag { tags?.contains { $0.matches(tag) } ?? false }
                    else { false }
                if !refMatches { return false }
            }
            if let repositories, !repositories.contains(where: { $0.matches(push.fullName) }) { return false }
            if let paths, let files = push.changedFiles, !files.contains(where: { file in paths.contains { $0.matches(file) } }) {
                return false
            }
            return true
        case .imagePush(let push):
            if let events, !events.contains(.image) { return false }
            if branches != nil || tags != nil || repositories != nil || paths != nil { return false }
            if let images {
                let name = push.image.domain.isEmpty ? push.image.repository : push.image.domain + "/" + push.image.repository
                return images.contains { $0.matches(name) }
            }
            return true
        case .pullRequest(let pullRequest):
            guard events?.contains(.pullRequest) == true, images == nil else { return false }
            if let repositories, !repositories.contains(where: { $0.matches(pullRequest.fullName) }) { return false }
            if let actions, !actions.contains(pullRequest.action) { return false }
            if let baseBranches, !baseBranches.contains(where: { $0.matches(pullRequest.baseRef) }) { return false }
            return !pullRequest.fromFork || fromForks == true
        case .release(let release):
            guard events?.contains(.release) == true, images == nil, branches == nil else { return false }
            if let repositories, !repositories.contains(where: { $0.matches(release.fullName) }) { return false }
            if let tags, !tags.contains(where: { $0.matches(release.tag) }) { return false }
            return true
        case .trigger:
            // A trigger carries no ref, repository, path or image, so a rule that asks for one never matches it.
            if let events, !events.contains(.trigger) { return false }
            return branches == nil && tags == nil && repositories == nil && paths == nil && images == nil
        case .ping, .other:
            return false
        }
    }
}

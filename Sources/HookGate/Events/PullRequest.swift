/// A pull request (GitHub, Gitea, Bitbucket) or merge request (GitLab) that was opened, got new
/// commits, was reopened, closed or merged: what Tekton users start most runs from.
public struct PullRequest: Sendable, Equatable, Codable {
    /// What happened to it, the same words for every source.
    public enum Action: String, Sendable, Codable, CaseIterable {
        case opened
        /// New commits on its head branch (GitHub `synchronize`, GitLab `update` with new commits …).
        case updated
        case reopened
        /// Closed without merging.
        case closed
        case merged
    }

    public var action: Action
    /// Its number in the base repository (`#12`; GitLab's `iid`).
    public var number: Int
    /// The page a person opens to see it.
    public var url: String?
    /// The base (target) repository's full name (`org/app`).
    public var fullName: String
    /// The base repository's clone URL.
    public var repoURL: String
    /// The branch it would merge (its head), without `refs/heads/`.
    public var headRef: String
    /// The head commit: what a run should build.
    public var headSHA: String
    /// The head repository's clone URL: the fork's, for a pull request from a fork.
    public var headRepoURL: String?
    /// The branch it targets, without `refs/heads/`.
    public var baseRef: String
    public var title: String?
    public var author: String?
    /// True when the head lives in another repository (a fork): its code is not the base
    /// repository owners', so rules keep such pull requests out unless they say `fromForks: true`.
    public var fromFork: Bool

    public init(
        action: Action, number: Int, url: String?, fullName: String, repoURL: String, headRef: String, headSHA: String,
        headRepoURL: String?, baseRef: String, title: String?, author: String?, fromFork: Bool
    ) {
        self.action = action
        self.number = number
        self.url = url
        self.fullName = fullName
        self.repoURL = repoURL
        self.headRef = headRef
        self.headSHA = headSHA
        self.headRepoURL = headRepoURL
        self.baseRef = baseRef
        self.title = title
        self.author = author
        self.fromFork = fromFork
    }

    /// `refs/heads/x` → `x`; other refs as they are.
    static func branch(_ ref: String) -> String {
        ref.dropPrefix("refs/heads/") ?? ref
    }
}

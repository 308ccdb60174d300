/// A run's state on a commit, as every git host shows one (GitHub commit status, GitLab commit
/// status, Gitea status, Bitbucket build status).
public struct CommitStatus: Sendable, Equatable {
    public enum State: String, Sendable, CaseIterable {
        /// Created, not settled yet.
        case pending
        case success
        /// The run ran and failed.
        case failure
        /// The run could not finish: cancelled, timed out.
        case error
    }

    /// `owner/name` (GitLab `group/project`, Bitbucket `workspace/slug`).
    public var repository: String
    public var sha: String
    public var state: State
    /// The name the status is shown under (`report.context`); one status per context and commit.
    public var context: String
    /// Where the run can be seen (`report.url`); nil: no link.
    public var targetURL: String?
    public var description: String

    public init(repository: String, sha: String, state: State, context: String, targetURL: String?, description: String) {
        self.repository = repository
        self.sha = sha
        self.state = state
        self.context = context
        self.targetURL = targetURL
        self.description = String(description.prefix(140))
    }
}

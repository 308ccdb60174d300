import Foundation

/// The pull request payloads of each git host (GitHub and Gitea share one shape), read with
/// `Decodable` into ``PullRequest``. An action that is not a change of code or state (`edited`,
/// `labeled`, `assigned` …) gives nil: the event is then `other`, as before.
enum PullRequestPayloads {
    /// GitHub `pull_request`, and Gitea/Forgejo/Gogs `pull_request` (the same shape; Gitea says
    /// `synchronized`).
    static func gitHub(_ json: Data, event: String) throws(HookFailure) -> PullRequest? {
        let payload = try Payload.decode(GitHubPayload.self, from: json, event: event)
        let pull = payload.pull_request
        let action: PullRequest.Action
        switch payload.action {
        case "opened": action = .opened
        case "synchronize", "synchronized": action = .updated
        case "reopened": action = .reopened
        case "closed": action = pull.merged == true ? .merged : .closed
        default: return nil
        }
        let base = pull.base.repo ?? payload.repository
        guard let base else { throw .badRequest("no base repository in the pull request", reason: "pull_request.base.repo and repository are both missing") }
        // A head repository that is gone (a deleted fork) is a fork too.
        let fromFork = pull.head.repo.map { $0.full_name != base.full_name } ?? true
        return PullRequest(
            action: action, number: payload.number ?? pull.number ?? 0, url: pull.html_url, fullName: base.full_name,
            repoURL: base.clone_url ?? base.ssh_url ?? "", headRef: pull.head.ref, headSHA: pull.head.sha,
            headRepoURL: pull.head.repo?.clone_url, baseRef: pull.base.ref, title: pull.title, author: pull.user?.login, fromFork: fromFork)
    }

    struct GitHubPayload: Decodable {
        var action: String
        var number: Int?
        var pull_request: Pull
        var repository: Repository?

        struct Pull: Decodable {
            var number: Int?
            var html_url: String?
            var title: String?
            var merged: Bool?
            var user: User?
            var head: Ref
            var base: Ref
        }

        struct Ref: Decodable {
            var ref: String
            var sha: String
            var repo: Repository?
        }

        struct Repository: Decodable {
            var full_name: String
            var clone_url: String?
            var ssh_url: String?
        }

        struct User: Decodable {
            var login: String?
        }
    }

    /// GitLab `Merge Request Hook`. `update` is a code change only when it carries `oldrev` (the
    /// head before the new commits); other updates (title, labels) are not.
    static func gitLab(_ json: Data) throws(HookFailure) -> PullRequest? {
        let payload = try Payload.decode(GitLabPayload.self, from: json, event: "GitLab Merge Request Hook")
        let request = payload.object_attributes
        let action: PullRequest.Action
        switch request.action {
        case "open": action = .opened
        case "update" where request.oldrev != nil: action = .updated
        case "reopen": action = .reopened
        case "close": action = .closed
        case "merge": action = .merged
        default: return nil
        }
        let fromFork = request.source_project_id != nil && request.source_project_id != request.target_project_id
        return PullRequest(
            action: action, number: request.iid, url: request.url, fullName: payload.project.path_with_namespace,
            repoURL: payload.project.git_http_url ?? request.target?.git_http_url ?? "", headRef: request.source_branch,
            headSHA: request.last_commit?.id ?? "", headRepoURL: request.source?.git_http_url, baseRef: request.target_branch,
            title: request.title, author: payload.user?.username, fromFork: fromFork)
    }

    struct GitLabPayload: Decodable {
        var object_attributes: Attributes
        var project: Project
        var user: User?

        struct Attributes: Decodable {
            var action: String?
            var iid: Int
            var url: String?
            var title: String?
            var source_branch: String
            var target_branch: String
            var source_project_id: Int?
            var target_project_id: Int?
            var oldrev: String?
            var last_commit: Commit?
            var source: Project?
            var target: Project?
        }

        struct Commit: Decodable {
            var id: String
        }

        struct Project: Decodable {
            var path_with_namespace: String
            var git_http_url: String?
        }

        struct User: Decodable {
            var username: String?
        }
    }

    /// Bitbucket Cloud `pullrequest:created|updated|fulfilled|rejected` (`X-Event-Key`). Its
    /// payload names repositories, not clone URLs: they are `https://bitbucket.org/<full name>.git`.
    static func bitbucketCloud(_ json: Data, event: String) throws(HookFailure) -> PullRequest? {
        let actions: [String: PullRequest.Action] = [
            "pullrequest:created": .opened, "pullrequest:updated": .updated, "pullrequest:fulfilled": .merged, "pullrequest:rejected": .closed,
        ]
        guard let action = actions[event] else { return nil }
        let pull = try Payload.decode(BitbucketCloudPayload.self, from: json, event: "Bitbucket Cloud \(event)").pullrequest
        func url(_ repository: BitbucketCloudPayload.Repository?) -> String? {
            repository.map { "https://bitbucket.org/\($0.full_name).git" }
        }
        let base = pull.destination.repository?.full_name ?? ""
        return PullRequest(
            action: action, number: pull.id, url: pull.links?.html?.href, fullName: base, repoURL: url(pull.destination.repository) ?? "",
            headRef: pull.source.branch.name, headSHA: pull.source.commit?.hash ?? "", headRepoURL: url(pull.source.repository),
            baseRef: pull.destination.branch.name, title: pull.title, author: pull.author?.nickname ?? pull.author?.display_name,
            fromFork: pull.source.repository.map { $0.full_name != base } ?? false)
    }

    struct BitbucketCloudPayload: Decodable {
        var pullrequest: Pull

        struct Pull: Decodable {
            var id: Int
            var title: String?
            var links: Links?
            var author: Author?
            var source: End
            var destination: End
        }

        struct Links: Decodable {
            var html: Link?
        }

        struct Link: Decodable {
            var href: String
        }

        struct Author: Decodable {
            var nickname: String?
            var display_name: String?
        }

        struct End: Decodable {
            var branch: Branch
            var commit: Commit?
            var repository: Repository?
        }

        struct Branch: Decodable {
            var name: String
        }

        struct Commit: Decodable {
            var hash: String
        }

        struct Repository: Decodable {
            var full_name: String
        }
    }

    /// Bitbucket Server `pr:opened|from_ref_updated|merged|declined` (`X-Event-Key`).
    static func bitbucketServer(_ json: Data, event: String) throws(HookFailure) -> PullRequest? {
        let actions: [String: PullRequest.Action] = [
            "pr:opened": .opened, "pr:from_ref_updated": .updated, "pr:merged": .merged, "pr:declined": .closed,
        ]
        guard let action = actions[event] else { return nil }
        let pull = try Payload.decode(BitbucketServerPayload.self, from: json, event: "Bitbucket Server \(event)").pullRequest
        func name(_ repository: BitbucketServerPayload.Repository) -> String {
            [repository.project?.key, repository.slug].compactMap { $0 }.joined(separator: "/")
        }
        func clone(_ repository: BitbucketServerPayload.Repository) -> String? {
            let links = repository.links?.clone ?? []
            return (links.first { $0.name == "http" } ?? links.first)?.href
        }
        return PullRequest(
            action: action, number: pull.id, url: pull.links?.`self`?.first?.href, fullName: name(pull.toRef.repository),
            repoURL: clone(pull.toRef.repository) ?? "", headRef: pull.fromRef.displayId, headSHA: pull.fromRef.latestCommit,
            headRepoURL: clone(pull.fromRef.repository), baseRef: pull.toRef.displayId, title: pull.title, author: pull.author?.user.name,
            fromFork: pull.fromRef.repository.id != pull.toRef.repository.id)
    }

    struct BitbucketServerPayload: Decodable {
        var pullRequest: Pull

        struct Pull: Decodable {
            var id: Int
            var title: String?
            var links: Links?
            var author: Participant?
            var fromRef: Ref
            var toRef: Ref
        }

        struct Links: Decodable {
            var `self`: [Link]?
        }

        struct Link: Decodable {
            var href: String
            var name: String?
        }

        struct Participant: Decodable {
            var user: User
        }

        struct User: Decodable {
            var name: String?
        }

        struct Ref: Decodable {
            var displayId: String
            var latestCommit: String
            var repository: Repository
        }

        struct Repository: Decodable {
            var id: Int?
            var slug: String?
            var project: Project?
            var links: RepositoryLinks?
        }

        struct Project: Decodable {
            var key: String?
        }

        struct RepositoryLinks: Decodable {
            var clone: [Link]?
        }
    }
}

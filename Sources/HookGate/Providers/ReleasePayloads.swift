import Foundation

/// Release payloads, read with `Decodable` into ``Release``.
enum ReleasePayloads {
    /// GitHub `release` (and Gitea's, Forgejo's and Gogs', the same shape): only `published` is a
    /// release to act on (drafts are `created`, and `edited`, `deleted`, `prereleased`, Gitea's
    /// `updated` … say nothing new to build); nil otherwise.
    static func gitHub(_ json: Data, event: String = "GitHub release") throws(HookFailure) -> Release? {
        let payload = try Payload.decode(GitHubPayload.self, from: json, event: event)
        guard payload.action == "published" else { return nil }
        let release = payload.release
        return Release(
            fullName: payload.repository.full_name, repoURL: payload.repository.clone_url ?? payload.repository.ssh_url ?? "",
            tag: release.tag_name, name: release.name, url: release.html_url, target: release.target_commitish, author: release.author?.login)
    }

    /// GitLab `Release Hook`: `create` is the release to act on (`update` edits its notes,
    /// `delete` removes it); nil otherwise.
    static func gitLab(_ json: Data) throws(HookFailure) -> Release? {
        let payload = try Payload.decode(GitLabPayload.self, from: json, event: "GitLab Release Hook")
        guard payload.action == "create" else { return nil }
        return Release(
            fullName: payload.project.path_with_namespace, repoURL: payload.project.git_http_url ?? payload.project.git_ssh_url ?? "",
            tag: payload.tag, name: payload.name, url: payload.url, target: payload.commit?.id, author: nil)
    }

    struct GitLabPayload: Decodable {
        var action: String
        var tag: String
        var name: String?
        var url: String?
        var project: Project
        var commit: Commit?

        struct Project: Decodable {
            var path_with_namespace: String
            var git_http_url: String?
            var git_ssh_url: String?
        }

        struct Commit: Decodable {
            var id: String?
        }
    }

    struct GitHubPayload: Decodable {
        var action: String
        var release: Body
        var repository: Repository

        struct Body: Decodable {
            var tag_name: String
            var name: String?
            var html_url: String?
            var target_commitish: String?
            var author: User?
        }

        /// The same repository and user objects as in pull request deliveries.
        typealias Repository = PullRequestPayloads.GitHubPayload.Repository
        typealias User = PullRequestPayloads.GitHubPayload.User
    }
}

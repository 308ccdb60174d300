import Foundation

/// Release payloads, read with `Decodable` into ``Release``.
enum ReleasePayloads {
    /// GitHub `release`: only `published` is a release to act on (drafts are `created`, and
    /// `edited`, `deleted`, `prereleased` … say nothing new to build); nil otherwise.
    static func gitHub(_ json: Data) throws(HookFailure) -> Release? {
        let payload = try Payload.decode(GitHubPayload.self, from: json, event: "GitHub release")
        guard payload.action == "published" else { return nil }
        let release = payload.release
        return Release(
            fullName: payload.repository.full_name, repoURL: payload.repository.clone_url ?? payload.repository.ssh_url ?? "",
            tag: release.tag_name, name: release.name, url: release.html_url, target: release.target_commitish, author: release.author?.login)
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

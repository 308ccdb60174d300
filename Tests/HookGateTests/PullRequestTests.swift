import Foundation
import HTTPTypes
import HookGate
import HookGateTestSupport
import Testing

/// Issue 14: pull and merge requests from every git host, normalised; deleted refs; the rules
/// that pick them. Payloads are the providers' own examples, signed by Python.
@Suite struct PullRequestTests {
    static let key = "pull-request-key-0123456789"

    func signed(_ source: Source, _ file: String, _ event: String, edit: (String) -> String = { $0 }) async throws -> [HookEvent] {
        let body = Data(edit(String(decoding: Fixtures.data(file), as: UTF8.self)).utf8)
        let hmac = Python.hmacHex(key: Self.key, body: body)
        let headers: [String: String] = switch source {
        case .gitHub: ["X-GitHub-Event": event, "X-Hub-Signature-256": "sha256=" + hmac]
        case .gitea: ["X-Gitea-Event": event, "X-Gitea-Signature": hmac]
        case .bitbucketCloud, .bitbucketServer: ["X-Event-Key": event, "X-Hub-Signature": "sha256=" + hmac]
        default: ["X-Gitlab-Event": event, "X-Gitlab-Token": Self.key]
        }
        return try await receive(source, key: Self.key, headers: headers, body: body)
    }

    func pullRequest(_ events: [HookEvent]) -> PullRequest? {
        guard events.count == 1, case .pullRequest(let pullRequest) = events[0].kind else { return nil }
        return pullRequest
    }

    @Test func gitHubOpenedUpdatedMergedAndIgnored() async throws {
        let opened = try #require(pullRequest(try await signed(.gitHub, "github-pull_request-opened.json", "pull_request")))
        #expect(opened == PullRequest(
            action: .opened, number: 2, url: "https://github.com/Codertocat/Hello-World/pull/2", fullName: "Codertocat/Hello-World",
            repoURL: "https://github.com/Codertocat/Hello-World.git", headRef: "changes", headSHA: "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
            headRepoURL: "https://github.com/Codertocat/Hello-World.git", baseRef: "master", title: "Update the README with new information.",
            author: "Codertocat", fromFork: false))
        let updated = try await signed(.gitHub, "github-pull_request-opened.json", "pull_request") { $0.replacingOccurrences(of: #""action": "opened""#, with: #""action": "synchronize""#) }
        #expect(pullRequest(updated)?.action == .updated)
        let merged = try await signed(.gitHub, "github-pull_request-opened.json", "pull_request") {
            $0.replacingOccurrences(of: #""action": "opened""#, with: #""action": "closed""#).replacingOccurrences(of: #""merged": false"#, with: #""merged": true"#)
        }
        #expect(pullRequest(merged)?.action == .merged)
        let labeled = try await signed(.gitHub, "github-pull_request-opened.json", "pull_request") { $0.replacingOccurrences(of: #""action": "opened""#, with: #""action": "labeled""#) }
        #expect(labeled == [HookEvent(name: "pull_request", kind: .other)])
    }

    @Test func bitbucketCloudAndServer() async throws {
        let cloud = try #require(pullRequest(try await signed(.bitbucketCloud, "bitbucket_cloud-pullrequest_created.json", "pullrequest:created")))
        #expect(cloud.action == .opened && cloud.number == 1 && cloud.headRef == "branch2" && cloud.baseRef == "master")
        #expect(cloud.headSHA == "d3022fc0ca3d" && cloud.repoURL == "https://bitbucket.org/team_name/repo_name.git" && !cloud.fromFork)
        let fulfilled = try #require(pullRequest(try await signed(.bitbucketCloud, "bitbucket_cloud-pullrequest_created.json", "pullrequest:fulfilled")))
        #expect(fulfilled.action == .merged)
        let server = try #require(pullRequest(try await signed(.bitbucketServer, "bitbucket_server-pr_opened.json", "pr:opened")))
        #expect(server.action == .opened && server.number == 5 && server.headRef == "feature/wip" && server.baseRef == "master")
        #expect(server.headSHA == "32a0b8a740c2963c6f56bd8baf3dc05683d299e0" && server.fullName == "~gopher/webhook-test" && !server.fromFork)
        #expect(server.url == "https://server.bitbucket.local/users/gopher/repos/webhook-test/pull-requests/5")
        #expect(pullRequest(try await signed(.bitbucketServer, "bitbucket_server-pr_opened.json", "pr:from_ref_updated"))?.action == .updated)
        #expect(try await signed(.bitbucketServer, "bitbucket_server-pr_opened.json", "pr:comment:added") == [HookEvent(name: "pr:comment:added", kind: .other)])
    }

    @Test func gitLabUpdatesWithoutNewCommitsAreNotUpdates() async throws {
        let retitled = try await signed(.gitLab, "gitlab-merge_request_hook.json", "Merge Request Hook") { $0.replacingOccurrences(of: #""action": "open""#, with: #""action": "update""#) }
        #expect(retitled == [HookEvent(name: "Merge Request Hook", kind: .other)])
        let pushed = try await signed(.gitLab, "gitlab-merge_request_hook.json", "Merge Request Hook") {
            $0.replacingOccurrences(of: #""action": "open""#, with: #""action": "update", "oldrev": "0123456789012345678901234567890123456789""#)
        }
        #expect(pullRequest(pushed)?.action == .updated)
    }

    static let main = PullRequest(
        action: .opened, number: 7, url: nil, fullName: "org/app", repoURL: "https://git.example/org/app.git", headRef: "feature", headSHA: "abc",
        headRepoURL: nil, baseRef: "main", title: nil, author: nil, fromFork: false)

    @Test func rulesPickPullRequestsOnlyWhenAsked() {
        let event = HookEvent(name: "pull_request", kind: .pullRequest(Self.main))
        #expect(!Rule.any.matches(event))
        #expect(Rule.any.mismatch(event)?.contains("events: [pullRequest]") == true)
        let rule = Rule(events: [.pullRequest], actions: [.opened, .updated], baseBranches: [Glob("main")])
        #expect(rule.matches(event))
        var closed = Self.main
        closed.action = .closed
        #expect(!rule.matches(HookEvent(name: "pull_request", kind: .pullRequest(closed))))
        var release = Self.main
        release.baseRef = "release/1"
        #expect(rule.mismatch(HookEvent(name: "pull_request", kind: .pullRequest(release))) == "base branch release/1 matches none of its baseBranches")
        var fork = Self.main
        fork.fromFork = true
        let fromFork = HookEvent(name: "pull_request", kind: .pullRequest(fork))
        #expect(!rule.matches(fromFork), "forks are kept out unless the rule says fromForks: true")
        #expect(Rule(events: [.pullRequest], fromForks: true).matches(fromFork))
    }

    @Test func deletedRefsAreDeletesNotPushes() {
        let deleted = HookEvent(name: "push", kind: .gitPush(GitPush(
            fullName: "org/app", sshURL: "s", httpsURL: nil, ref: "refs/heads/gone", before: "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
            after: "0000000000000000000000000000000000000000")))
        #expect(!Rule.any.matches(deleted))
        #expect(!Rule(branches: [Glob("*")]).matches(deleted))
        #expect(Rule(events: [.delete]).matches(deleted))
        #expect(Rule.fluxRecv.matches(deleted), "flux-recv configs keep telling fluxd")
        let bitbucketCloudDeletion = GitPush(fullName: "a/b", sshURL: "s", httpsURL: nil, ref: "refs/heads/x", before: "abc", after: nil)
        #expect(bitbucketCloudDeletion.isDeletion)
    }

    @Test func rulesReadFromTheConfig() throws {
        let config = try loadConfig("""
            hookgateVersion: 1
            endpoints:
              - source: GitHub
                keyPath: k
                notify:
                  - log: null
                    when: {events: [pullRequest], actions: [opened, updated], baseBranches: [main], fromForks: true}
            """, files: ["k": Self.key])
        let rule = config.endpoints[0].notify[0].rule
        #expect(rule.actions == [.opened, .updated] && rule.baseBranches == [Glob("main")] && rule.fromForks == true)
        let wrong = problems("hookgateVersion: 1\nendpoints:\n  - {source: GitHub, keyPath: k, notify: [{log: null, when: {events: [pullRequest], actions: [synchronize]}}]}\n",
                             files: ["k": Self.key])
        #expect(wrong.contains { $0.description.contains("unknown pull request action \"synchronize\"") }, "\(wrong)")
    }

    @Test func gitHubReleasesArePublishedOnly() async throws {
        let published = try await signed(.gitHub, "github-release-published.json", "release")
        #expect(published == [HookEvent(name: "release", kind: .release(Release(
            fullName: "Codertocat/Hello-World", repoURL: "https://github.com/Codertocat/Hello-World.git", tag: "0.0.1", name: "",
            url: "https://github.com/Codertocat/Hello-World/releases/tag/0.0.1", target: "master", author: "Codertocat")))])
        let edited = try await signed(.gitHub, "github-release-published.json", "release") { $0.replacingOccurrences(of: #""action": "published""#, with: #""action": "edited""#) }
        #expect(edited == [HookEvent(name: "release", kind: .other)])
        let event = published[0]
        #expect(!Rule.any.matches(event))
        #expect(Rule(events: [.release], tags: [Glob("0.*")]).matches(event))
        #expect(Rule(events: [.release], tags: [Glob("v*")]).mismatch(event) == "tag 0.0.1 matches none of its tags")
    }

    /// GitLab `Release Hook` (create) and Gitea/Gogs `release` (published) are releases too.
    @Test func gitLabAndGiteaReleases() async throws {
        let gitLab = try await signed(.gitLab, "gitlab-release-hook-create.json", "Release Hook")
        #expect(gitLab == [HookEvent(name: "Release Hook", kind: .release(Release(
            fullName: "ryf/java/ruoyi-vue-plus", repoURL: "https://hellogitlab.top/ryf/java/ruoyi-vue-plus.git", tag: "5.2.3", name: "5.2.3",
            url: "https://hellogitlab.top/ryf/java/ruoyi-vue-plus/-/releases/5.2.3", target: "e5ad2222210c84639e2e15d3c87c688e4c2ad2e1", author: nil)))])
        let updated = try await signed(.gitLab, "gitlab-release-hook-create.json", "Release Hook") { $0.replacingOccurrences(of: #""action": "create""#, with: #""action": "update""#) }
        #expect(updated == [HookEvent(name: "Release Hook", kind: .other)])
        let gitea = try await signed(.gitea, "gogs-release-published.json", "release")
        #expect(gitea == [HookEvent(name: "release", kind: .release(Release(
            fullName: "izak88/test", repoURL: "https://try.gogs.io/izak88/test.git", tag: "aa", name: "fwa", url: nil, target: "master", author: "izak88")))])
        let deleted = try await signed(.gitea, "gogs-release-published.json", "release") { $0.replacingOccurrences(of: #""action": "published""#, with: #""action": "deleted""#) }
        #expect(deleted == [HookEvent(name: "release", kind: .other)])
        #expect(Rule(events: [.release], tags: [Glob("5.*")]).matches(gitLab[0]))
    }

    /// `hookgate send --event pullRequest`: a GitHub sample that verifies and parses as an opened
    /// pull request from a branch.
    @Test func theGitHubSampleIsAPullRequest() async throws {
        let endpoint = Endpoint(source: .gitHub, keyPaths: ["k"], key: EndpointKey(Self.key), notify: [Action(LogAction())])
        let sample = try SampleWebhook.make(for: endpoint, options: .init(event: "pullRequest", ref: "topic"))
        var headers: [String: String] = [:]
        for field in sample.headers { headers[field.name.rawName] = field.value }
        #expect(headers["X-GitHub-Event"] == "pull_request")
        // Verified with the signature Python computes, not the sample's own.
        #expect(headers["X-Hub-Signature-256"] == "sha256=" + Python.hmacHex(key: Self.key, body: sample.body))
        let events = try await receive(.gitHub, key: Self.key, headers: headers, body: sample.body)
        let opened = try #require(self.pullRequest(events))
        #expect(opened.action == .opened && opened.headRef == "topic" && opened.baseRef == "main" && !opened.fromFork)
        #expect(throws: SampleWebhook.Problem.self) { try SampleWebhook.make(for: Endpoint(source: .quay, keyPaths: ["k"], key: EndpointKey(Self.key), notify: []), options: .init(event: "pullRequest")) }
    }
}

import AsyncHTTPClient
import Foundation
import HTTPTypes
import HookGate
import HookGateTestSupport
import Logging
import Testing

/// The settings a test gives `source`: those these options stand for, else its defaults.
func settings(_ source: Source, allowLegacySignature: Bool = false, requireSignature: Bool = false, gcr: GoogleAuthSettings? = nil) -> (any SourceSettings)? {
    switch source {
    case .gitHub: GitHubSettings(allowLegacySignature: allowLegacySignature)
    case .bitbucketCloud: BitbucketCloudSettings(requireSignature: requireSignature)
    case .googleContainerRegistry: GoogleContainerRegistrySettings(auth: gcr)
    default: nil
    }
}

/// Verifies and parses a request the way the server does, for one provider.
func receive(
    _ source: Source, key: String, headers: [String: String], body: Data,
    allowLegacySignature: Bool = false, requireSignature: Bool = false, registryHost: String? = nil, gcr: GoogleAuthSettings? = nil
) async throws(HookFailure) -> [HookEvent] {
    let endpoint = Endpoint(
        source: source, keyPaths: ["test.key"], key: EndpointKey(key), registryHost: registryHost,
        notify: [Action(LogAction())], settings: settings(source, allowLegacySignature: allowLegacySignature, requireSignature: requireSignature, gcr: gcr))
    let provider = ProviderFactory.make(for: endpoint, googleKeys: GoogleKeyStore(client: .shared, logger: Logger(label: "test")))
    var fields = HTTPFields()
    for (name, value) in headers { fields[HTTPField.Name(name)!] = value }
    let request = WebhookRequest(headers: fields, body: body)
    try await provider.verify(request)
    return try provider.parse(request)
}

/// The Flux v1 notify bodies a list of events produces, in order, without repeats.
func fluxBodies(_ events: [HookEvent]) -> [String] {
    var seen: [String] = []
    for body in events.compactMap(FluxChange.json(for:)) where !seen.contains(body) { seen.append(body) }
    return seen
}

func status(of body: () async throws(HookFailure) -> [HookEvent]) async -> Int? {
    do {
        _ = try await body()
        return nil
    } catch {
        return error.status.code
    }
}

@Suite struct GitHubTests {
    static let key = "423be8373b98a9ffccc10402cc033e77263e1cdf"
    let body = Fixtures.data("github-push-tag-deleted.json")

    @Test func publishedVectorFromGitHubDocs() async throws {
        let events = try await receive(
            .gitHub, key: "It's a Secret to Everybody",
            headers: ["X-GitHub-Event": "zen", "X-Hub-Signature-256": "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"],
            body: Data("Hello, World!".utf8))
        #expect(events == [HookEvent(name: "zen", kind: .other)])
    }

    @Test func pushOfATagNotifiesWhatFluxRecvSent() async throws {
        let signature = "sha256=" + Python.hmacHex(key: Self.key, body: body)
        let events = try await receive(.gitHub, key: Self.key, headers: ["X-GitHub-Event": "push", "X-Hub-Signature-256": signature, "Content-Type": "application/json"], body: body)
        #expect(fluxBodies(events) == [#"{"Kind":"git","Source":{"URL":"git@github.com:Codertocat/Hello-World.git","Branch":"refs/tags/simple-tag"}}"#])
        guard case .gitPush(let push) = events.first?.kind else { Issue.record("not a push"); return }
        #expect(push.tag == "simple-tag")
        #expect(push.branch == nil)
        #expect(push.httpsURL == "https://github.com/Codertocat/Hello-World.git")
        #expect(push.after == "0000000000000000000000000000000000000000")
    }

    @Test func formEncodedBodyIsVerifiedOverTheRawForm() async throws {
        let form = Fixtures.data("github-push-tag-deleted.form-urlencoded.body")
        let headers = ["X-GitHub-Event": "push", "Content-Type": "application/x-www-form-urlencoded",
                       "X-Hub-Signature-256": "sha256=f12ea55f75cfec11cdd46245aaf6d581f332d937d001c498662cbb99ac6e74da"]
        let events = try await receive(.gitHub, key: Self.key, headers: headers, body: form)
        #expect(fluxBodies(events) == [#"{"Kind":"git","Source":{"URL":"git@github.com:Codertocat/Hello-World.git","Branch":"refs/tags/simple-tag"}}"#])
    }

    @Test func branchPushStripsRefsHeads() async throws {
        let body = Fixtures.data("github-push-branch-created-with-installation.json")
        let signature = "sha256=" + Python.hmacHex(key: Self.key, body: body)
        let events = try await receive(.gitHub, key: Self.key, headers: ["X-GitHub-Event": "push", "X-Hub-Signature-256": signature], body: body)
        #expect(fluxBodies(events) == [#"{"Kind":"git","Source":{"URL":"git@github.com:Codertocat/Hello-World.git","Branch":"master"}}"#])
    }

    @Test func enterpriseUsesItsOwnHost() async throws {
        let body = Fixtures.data("github_enterprise-push-tag-created.json")
        let signature = "sha256=" + Python.hmacHex(key: Self.key, body: body)
        let events = try await receive(.gitHub, key: Self.key, headers: ["X-GitHub-Event": "push", "X-Hub-Signature-256": signature], body: body)
        #expect(fluxBodies(events) == [#"{"Kind":"git","Source":{"URL":"git@octocoders.github.io:Codertocat/Hello-World.git","Branch":"refs/tags/simple-tag"}}"#])
    }

    @Test func pingAndOtherEvents() async throws {
        for (file, event) in [("github-ping-repo.json", "ping"), ("github-create-tag.json", "create")] {
            let body = Fixtures.data(file)
            let signature = "sha256=" + Python.hmacHex(key: Self.key, body: body)
            let events = try await receive(.gitHub, key: Self.key, headers: ["X-GitHub-Event": event, "X-Hub-Signature-256": signature], body: body)
            #expect(events == [HookEvent(name: event, kind: event == "ping" ? .ping : .other)])
        }
    }

    @Test func legacySignatureOnlyWhenAllowed() async throws {
        let legacy = "sha1=" + Python.hmacHex(key: Self.key, body: body, algorithm: "sha1")
        let headers = ["X-GitHub-Event": "push", "X-Hub-Signature": legacy]
        #expect(await status { () async throws(HookFailure) in try await receive(.gitHub, key: Self.key, headers: headers, body: body) } == 401)
        let events = try await receive(.gitHub, key: Self.key, headers: headers, body: body, allowLegacySignature: true)
        #expect(events.count == 1)
        let sha512 = "sha512=" + Python.hmacHex(key: Self.key, body: body, algorithm: "sha512")
        let more = try await receive(.gitHub, key: Self.key, headers: ["X-GitHub-Event": "push", "X-Hub-Signature": sha512], body: body, allowLegacySignature: true)
        #expect(more.count == 1)
    }

    @Test func keyFileWithFinalNewlineAcceptsBothSignatures() async throws {
        let stored = Self.key + "\n"
        for signingKey in [Self.key, stored] {
            let signature = "sha256=" + Python.hmacHex(key: signingKey, body: body)
            let events = try await receive(.gitHub, key: stored, headers: ["X-GitHub-Event": "push", "X-Hub-Signature-256": signature], body: body)
            #expect(events.count == 1)
        }
    }

    @Test(arguments: [
        ("wrong", "sha256=" + String(repeating: "ab", count: 32), 401),
        ("truncated", "sha256=f991eb2b77170fc99526ca776cdb9bf0", 401),
        ("not hex", "sha256=" + String(repeating: "zz", count: 32), 401),
        ("wrong algorithm name", "md5=f991eb2b77170fc99526ca776cdb9bf0ceff0ba31728c3f88fc700279e4b27f0", 401),
        ("empty", "", 401),
    ])
    func badSignatures(_ name: String, _ header: String, _ expected: Int) async {
        let body = self.body
        let code = await status { () async throws(HookFailure) in
            try await receive(.gitHub, key: Self.key, headers: ["X-GitHub-Event": "push", "X-Hub-Signature-256": header], body: body)
        }
        #expect(code == expected, "\(name)")
    }

    @Test func missingSignatureEventAndBrokenJSON() async {
        let body = self.body
        #expect(await status { () async throws(HookFailure) in try await receive(.gitHub, key: Self.key, headers: ["X-GitHub-Event": "push"], body: body) } == 401)
        let signature = "sha256=" + Python.hmacHex(key: Self.key, body: body)
        #expect(await status { () async throws(HookFailure) in try await receive(.gitHub, key: Self.key, headers: ["X-Hub-Signature-256": signature], body: body) } == 400)
        let broken = Data("{\"ref\": ".utf8)
        let brokenSignature = "sha256=" + Python.hmacHex(key: Self.key, body: broken)
        #expect(await status { () async throws(HookFailure) in
            try await receive(.gitHub, key: Self.key, headers: ["X-GitHub-Event": "push", "X-Hub-Signature-256": brokenSignature], body: broken)
        } == 400)
        #expect(await status { () async throws(HookFailure) in
            try await receive(.gitHub, key: Self.key, headers: ["X-GitHub-Event": "push", "X-Hub-Signature-256": signature, "Content-Type": "text/plain"], body: body)
        } == 400)
    }
}

@Suite struct GitLabTests {
    static let token = "af82965fd1338596c801a04059c652d333044768"

    @Test func pushAndTagPush() async throws {
        let push = try await receive(.gitLab, key: Self.token, headers: ["X-Gitlab-Token": Self.token, "X-Gitlab-Event": "Push Hook"], body: Fixtures.data("gitlab-push_hook.json"))
        #expect(fluxBodies(push) == [#"{"Kind":"git","Source":{"URL":"git@example.com:mike/diaspora.git","Branch":"master"}}"#])
        let tag = try await receive(.gitLab, key: Self.token, headers: ["X-Gitlab-Token": Self.token, "X-Gitlab-Event": "Tag Push Hook"], body: Fixtures.data("gitlab-tag_push_hook.json"))
        guard case .gitPush(let event) = tag.first?.kind else { Issue.record("not a push"); return }
        #expect(event.tag == "v1.0.0")
        #expect(event.sshURL == "git@example.com:jsmith/example.git")
        let system = try await receive(.gitLab, key: Self.token, headers: ["X-Gitlab-Token": Self.token, "X-Gitlab-Event": "System Hook"], body: Fixtures.data("gitlab-system_hook-push.json"))
        #expect(fluxBodies(system) == [#"{"Kind":"git","Source":{"URL":"git@example.com:mike/diaspora.git","Branch":"master"}}"#])
    }

    @Test func tokenChecks() async {
        let body = Fixtures.data("gitlab-push_hook.json")
        for token in ["wrong", "", String(Self.token.dropLast()), Self.token + "x"] {
            #expect(await status { () async throws(HookFailure) in
                try await receive(.gitLab, key: Self.token, headers: ["X-Gitlab-Token": token, "X-Gitlab-Event": "Push Hook"], body: body)
            } == 401)
        }
        #expect(await status { () async throws(HookFailure) in try await receive(.gitLab, key: Self.token, headers: ["X-Gitlab-Event": "Push Hook"], body: body) } == 401)
        #expect(await status { () async throws(HookFailure) in try await receive(.gitLab, key: Self.token, headers: ["X-Gitlab-Token": Self.token], body: body) } == 400)
        #expect(await status { () async throws(HookFailure) in
            try await receive(.gitLab, key: Self.token, headers: ["X-Gitlab-Token": Self.token, "X-Gitlab-Event": "Push Hook"], body: Data("[]".utf8))
        } == 400)
    }

    @Test func mergeRequestIsAPullRequest() async throws {
        let events = try await receive(.gitLab, key: Self.token, headers: ["X-Gitlab-Token": Self.token, "X-Gitlab-Event": "Merge Request Hook"], body: Fixtures.data("gitlab-merge_request_hook.json"))
        #expect(events == [HookEvent(name: "Merge Request Hook", kind: .pullRequest(PullRequest(
            action: .opened, number: 1, url: "http://example.com/diaspora/merge_requests/1", fullName: "gitlabhq/gitlab-test",
            repoURL: "http://example.com/gitlabhq/gitlab-test.git", headRef: "ms-viewport", headSHA: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
            headRepoURL: "http://example.com/awesome_space/awesome_project.git", baseRef: "master", title: "MS-Viewport", author: "root", fromFork: false)))])
    }
}

@Suite struct BitbucketTests {
    static let cloudKey = "92fae6032b3fe9aed471afddd799dba7996f6f8f"
    static let serverKey = "a04059c652d3339ffccc10402c99dba7996f6f8f"

    @Test func cloudPushOneNotificationPerChange() async throws {
        let body = Fixtures.data("bitbucket_cloud-repo_push.json")
        let signed = try await receive(.bitbucketCloud, key: Self.cloudKey, headers: [
            "X-Event-Key": "repo:push", "X-Hub-Signature": "sha256=fe95067fa8f9344f248a055a09aae9ef7069e088074899594582187763d9ecef"], body: body)
        #expect(fluxBodies(signed) == [#"{"Kind":"git","Source":{"URL":"git@bitbucket.org:mbridgen/dummy.git","Branch":"master"}}"#])
        let unsigned = try await receive(.bitbucketCloud, key: Self.cloudKey, headers: ["X-Event-Key": "repo:push"], body: body)
        #expect(unsigned == signed)
        #expect(await status { () async throws(HookFailure) in
            try await receive(.bitbucketCloud, key: Self.cloudKey, headers: ["X-Event-Key": "repo:push"], body: body, requireSignature: true)
        } == 401)
        #expect(await status { () async throws(HookFailure) in
            try await receive(.bitbucketCloud, key: Self.cloudKey, headers: ["X-Event-Key": "repo:push", "X-Hub-Signature": "sha256=" + String(repeating: "0", count: 64)], body: body)
        } == 401)
    }

    @Test func cloudEmptyChangesNotifyNothing() async throws {
        let body = Data(#"{"push":{"changes":[]},"repository":{"full_name":"a/b"}}"#.utf8)
        let events = try await receive(.bitbucketCloud, key: Self.cloudKey, headers: ["X-Event-Key": "repo:push"], body: body)
        #expect(events.isEmpty)
    }

    @Test func serverRefsChanged() async throws {
        let body = Fixtures.data("bitbucket_server-repo_refs_changed.json")
        let events = try await receive(.bitbucketServer, key: Self.serverKey, headers: [
            "X-Event-Key": "repo:refs_changed", "X-Hub-Signature": "sha256=c157606c8d0ac3e7eb0173ea55c90740d146ff278b85b0fc50a4ab7d8e1b8fed"], body: body)
        #expect(fluxBodies(events) == [#"{"Kind":"git","Source":{"URL":"ssh://git@bitbucket.redacted.com/~abursavich/hook-test.git","Branch":"master"}}"#])
    }

    @Test func serverPublishedVector() async throws {
        let events = try await receive(.bitbucketServer, key: "secret", headers: [
            "X-Event-Key": "repo:refs_changed", "X-Hub-Signature": "sha256=8a60f7487d167f55886df87d4077192035d76f76a8e0b3a48fd8ae8cad25f391"],
            body: Fixtures.data("bitbucket_server-repo_refs_changed-goplayground.json"))
        #expect(fluxBodies(events) == [#"{"Kind":"git","Source":{"URL":"ssh://git@server.bitbucket.local:7999/~gopher/webhook-test.git","Branch":"feature/wip"}}"#])
    }

    @Test func serverPingAndSignatureRules() async throws {
        let ping = try await receive(.bitbucketServer, key: Self.serverKey, headers: ["X-Event-Key": "diagnostics:ping"], body: Data(#"{"test": true}"#.utf8))
        #expect(ping == [HookEvent(name: "diagnostics:ping", kind: .ping)])
        let body = Fixtures.data("bitbucket_server-repo_refs_changed.json")
        #expect(await status { () async throws(HookFailure) in try await receive(.bitbucketServer, key: Self.serverKey, headers: ["X-Event-Key": "repo:refs_changed"], body: body) } == 401)
        let sha512 = "sha512=" + Python.hmacHex(key: Self.serverKey, body: body, algorithm: "sha512")
        #expect(try await receive(.bitbucketServer, key: Self.serverKey, headers: ["X-Event-Key": "repo:refs_changed", "X-Hub-Signature": sha512], body: body).count == 1)
        let noSSH = Data(#"{"repository":{"links":{"clone":[]}},"changes":[]}"#.utf8)
        let signature = "sha256=" + Python.hmacHex(key: Self.serverKey, body: noSSH)
        #expect(await status { () async throws(HookFailure) in
            try await receive(.bitbucketServer, key: Self.serverKey, headers: ["X-Event-Key": "repo:refs_changed", "X-Hub-Signature": signature], body: noSSH)
        } == 400)
    }
}

@Suite struct GiteaTests {
    @Test func publishedVectorsForGiteaForgejoAndGogs() async throws {
        let body = Fixtures.data("gitea-push.json")
        let key = "IsWishesWereHorsesWedAllBeEatingSteak!"
        let signature = "60fe446c74fa0cb9474f98cc557db79e10c7aaf22cf324ad65239600b9e4d915"
        for header in ["X-Gitea-Signature", "X-Forgejo-Signature", "X-Gogs-Signature"] {
            let events = try await receive(.gitea, key: key, headers: ["X-Gitea-Event": "push", header: signature], body: body)
            #expect(fluxBodies(events) == [#"{"Kind":"git","Source":{"URL":"git@localhost:example/example.git","Branch":"master"}}"#])
        }
        let gogs = try await receive(.gitea, key: "sampleToken!", headers: [
            "X-Gogs-Event": "push", "X-Gogs-Signature": "83d4163fb936904aeb9ffd6ce22cf86e4b36273b2e1c63a57f5a6ddc371ce3ba"], body: Fixtures.data("gogs-push.json"))
        #expect(fluxBodies(gogs) == [#"{"Kind":"git","Source":{"URL":"ssh://unknwon@localhost:2222/unknwon/webhooks.git","Branch":"develop"}}"#])
    }

    @Test func formModeSignsTheJSONNotTheForm() async throws {
        let json = Fixtures.data("github-push-tag-deleted.json")
        let form = Fixtures.data("github-push-tag-deleted.form-urlencoded.body")
        let key = "423be8373b98a9ffccc10402cc033e77263e1cdf"
        let events = try await receive(.gitea, key: key, headers: [
            "X-Gitea-Event": "push", "Content-Type": "application/x-www-form-urlencoded",
            "X-Gitea-Signature": Python.hmacHex(key: key, body: json)], body: form)
        #expect(fluxBodies(events) == [#"{"Kind":"git","Source":{"URL":"git@github.com:Codertocat/Hello-World.git","Branch":"refs/tags/simple-tag"}}"#])
        #expect(await status { () async throws(HookFailure) in
            try await receive(.gitea, key: key, headers: ["X-Gitea-Event": "push", "Content-Type": "application/x-www-form-urlencoded",
                                                         "X-Gitea-Signature": Python.hmacHex(key: key, body: form)], body: form)
        } == 401)
    }

    @Test func otherEventsAndMissingSignature() async throws {
        let body = Fixtures.data("gitea-pull_request-opened.json")
        let key = "IsWishesWereHorsesWedAllBeEatingSteak!"
        let events = try await receive(.gitea, key: key, headers: ["X-Gitea-Event": "pull_request", "X-Gitea-Signature": Python.hmacHex(key: key, body: body)], body: body)
        #expect(events == [HookEvent(name: "pull_request", kind: .pullRequest(PullRequest(
            action: .opened, number: 2, url: "http://localhost:3000/example/example/pulls/2", fullName: "example/example",
            repoURL: "http://localhost:3000/example/example.git", headRef: "master", headSHA: "48e773f892a831faa47c0a160d1b7f0cd369ae2a",
            headRepoURL: "http://localhost:3000/example2/example.git", baseRef: "master", title: "update", author: "example2", fromFork: true)))])
        #expect(await status { () async throws(HookFailure) in try await receive(.gitea, key: key, headers: ["X-Gitea-Event": "push"], body: body) } == 401)
    }
}

@Suite struct RegistryTests {
    @Test func dockerHubAndQuayNeedNoSignature() async throws {
        let hub = try await receive(.dockerHub, key: "k", headers: [:], body: Fixtures.data("dockerhub-push.json"))
        #expect(fluxBodies(hub) == [#"{"Kind":"image","Source":{"Name":{"Domain":"","Image":"svendowideit/testhook"}}}"#])
        let quay = try await receive(.quay, key: "k", headers: [:], body: Fixtures.data("quay-repo_push.json"))
        #expect(fluxBodies(quay) == [#"{"Kind":"image","Source":{"Name":{"Domain":"quay.io","Image":"hiddeco/foo"}}}"#])
        guard case .imagePush(let push) = quay.first?.kind else { Issue.record("not an image push"); return }
        #expect(push.image.tag == "3.10")
        #expect(await status { () async throws(HookFailure) in try await receive(.dockerHub, key: "k", headers: [:], body: Data("{}".utf8)) } == 400)
    }

    @Test func harborV1AndV2() async throws {
        let v1 = try await receive(.harbor, key: "vvvwn9icwe1u4xv56ok8gboaatuqlgyua9ucl5nm", headers: ["Authorization": "vvvwn9icwe1u4xv56ok8gboaatuqlgyua9ucl5nm"], body: Fixtures.data("harbor_v1-pushImage.json"))
        #expect(fluxBodies(v1) == [#"{"Kind":"image","Source":{"Name":{"Domain":"demo.goharbor.io","Image":"test123/alpine"}}}"#])
        guard case .imagePush(let push) = v1.first?.kind else { Issue.record("not an image push"); return }
        #expect(push.digest == "sha256:e4355b66995c96b4b468159fc5c7e3540fcef961189ca13fee877798649f531a")
        let v2 = try await receive(.harbor, key: "secret", headers: ["Authorization": "secret"], body: Fixtures.data("harbor_v2-PUSH_ARTIFACT.json"))
        #expect(fluxBodies(v2) == [#"{"Kind":"image","Source":{"Name":{"Domain":"hub.harbor.com","Image":"test-webhook/debian"}}}"#])
    }

    @Test func harborRefusals() async {
        let body = Fixtures.data("harbor_v2-PUSH_ARTIFACT.json")
        #expect(await status { () async throws(HookFailure) in try await receive(.harbor, key: "secret", headers: [:], body: body) } == 401)
        #expect(await status { () async throws(HookFailure) in try await receive(.harbor, key: "secret", headers: ["Authorization": "Secret"], body: body) } == 401)
        let empty = Data(#"{"type":"PUSH_ARTIFACT","event_data":{"resources":[]}}"#.utf8)
        #expect(await status { () async throws(HookFailure) in try await receive(.harbor, key: "secret", headers: ["Authorization": "secret"], body: empty) } == 400)
        let pulled = Data(#"{"type":"PULL_ARTIFACT","event_data":{"resources":[]}}"#.utf8)
        #expect(await status { () async throws(HookFailure) in try await receive(.harbor, key: "secret", headers: ["Authorization": "secret"], body: pulled) } == nil)
    }

    @Test func nexusPublishedVector() async throws {
        let body = Fixtures.data("nexus-rm_repository_component-CREATED.json")
        let headers = ["X-Nexus-Webhook-Id": "rm:repository:component", "X-Nexus-Webhook-Signature": "d06eea380d4631e8c1180b689d10d9ba83ab68f6"]
        let key = "gk0qp4u98xy0vntojv81i8zcjr4zw7xd6c4ugzad"
        let events = try await receive(.nexus, key: key, headers: headers, body: body, registryHost: "nexus.example.com:8443/")
        #expect(fluxBodies(events) == [#"{"Kind":"image","Source":{"Name":{"Domain":"nexus.example.com:8443","Image":"app1/alpine"}}}"#])
        let bare = try await receive(.nexus, key: key, headers: headers, body: body)
        #expect(fluxBodies(bare) == [#"{"Kind":"image","Source":{"Name":{"Domain":"","Image":"app1/alpine"}}}"#])
        #expect(await status { () async throws(HookFailure) in
            try await receive(.nexus, key: key, headers: ["X-Nexus-Webhook-Id": "rm:repository:component", "X-Nexus-Webhook-Signature": "d06eea380d4631e8c1180b689d10d9ba83ab68f7"], body: body)
        } == 401)
        #expect(await status { () async throws(HookFailure) in
            try await receive(.nexus, key: key, headers: ["X-Nexus-Webhook-Signature": "d06eea380d4631e8c1180b689d10d9ba83ab68f6"], body: body)
        } == 400)
    }

    @Test func gcrWithoutAuthentication() async throws {
        let events = try await receive(.googleContainerRegistry, key: "gcr", headers: [:], body: Fixtures.data("gcr-pubsub_push-INSERT.json"))
        #expect(fluxBodies(events) == [#"{"Kind":"image","Source":{"Name":{"Domain":"us.gcr.io","Image":"am/am.kebab.api"}}}"#])
        let deleted = Data(#"{"message":{"data":"\#(Data(#"{"action":"DELETE","digest":"gcr.io/p/i@sha256:aa"}"#.utf8).base64EncodedString())"}}"#.utf8)
        #expect(try await receive(.googleContainerRegistry, key: "gcr", headers: [:], body: deleted) == [HookEvent(name: "DELETE", kind: .other)])
        #expect(await status { () async throws(HookFailure) in
            try await receive(.googleContainerRegistry, key: "gcr", headers: [:], body: Fixtures.data("gcr-pubsub_push-INSERT.raw-fixture.txt"))
        } == 400)
        #expect(await status { () async throws(HookFailure) in
            try await receive(.googleContainerRegistry, key: "gcr", headers: [:], body: Data(#"{"message":{"data":"%%%"}}"#.utf8))
        } == 400)
    }
}

@Suite struct ImageReferenceTests {
    @Test(arguments: [
        ("alpine", "", "alpine", nil),
        ("library/alpine:3.19", "", "library/alpine", "3.19"),
        ("localhost/app", "localhost", "app", nil),
        ("localhost:5000/app:1", "localhost:5000", "app", "1"),
        ("quay.io/hiddeco/foo", "quay.io", "hiddeco/foo", nil),
        ("us.gcr.io/am/am.kebab.api:test", "us.gcr.io", "am/am.kebab.api", "test"),
        ("registry/ns/app@sha256:abc", "registry", "ns/app", nil),
        ("demo.goharbor.io/test123/alpine:3.10", "demo.goharbor.io", "test123/alpine", "3.10"),
    ] as [(String, String, String, String?)])
    func parses(_ text: String, _ domain: String, _ repository: String, _ tag: String?) {
        #expect(ImageReference.parse(text) == ImageReference(domain: domain, repository: repository, tag: tag))
    }

    @Test(arguments: ["", "/", "a//b", "app:", ":tag"])
    func rejects(_ text: String) {
        #expect(ImageReference.parse(text) == nil)
    }
}

@Suite struct FluxChangeTests {
    @Test func escapesLikeGo() {
        let push = GitPush(fullName: "a/b", sshURL: "git@h:a/<b>&\"c\".git", httpsURL: nil, ref: "refs/heads/x\ny\u{2028}")
        #expect(FluxChange.json(for: HookEvent(name: "push", kind: .gitPush(push)))
            == #"{"Kind":"git","Source":{"URL":"git@h:a/\u003cb\u003e\u0026\"c\".git","Branch":"x\ny\u2028"}}"#)
        #expect(FluxChange.json(for: HookEvent(name: "ping", kind: .ping)) == nil)
    }
}

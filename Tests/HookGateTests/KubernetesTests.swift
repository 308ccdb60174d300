import AsyncHTTPClient
import Foundation
import HookGate
import HookGateTestSupport
import Testing

/// The Flux v2 and Tekton example against a real kube-apiserver (started by `scripts/test` with
/// `scripts/kube-up`), with the built binary running as the least-privileged service account.
@Suite(.serialized, .enabled(if: KubeAdmin.current != nil, "needs the API server that scripts/test starts"))
struct KubernetesTests {
    static let example = try! Fixtures.example("flux2-tekton", keys: ["keys/github.key"])
    let kube = KubeAdmin.current!

    /// A signed GitHub push of `branch` with delivery id `delivery`.
    static func push(_ server: HookGateProcess, branch: String, delivery: String) async throws -> (Int, String) {
        let key = String(decoding: FileManager.default.contents(atPath: example + "/keys/github.key")!, as: UTF8.self)
        let body = Data(String(decoding: Fixtures.data("github-push-branch-created-with-installation.json"), as: UTF8.self)
            .replacingOccurrences(of: "\"ref\": \"refs/heads/master\"", with: "\"ref\": \"refs/heads/\(branch)\"").utf8)
        return try await EndToEndTests.post(server.baseURL + "/hook/" + Python.sha256Hex(Data(key.utf8)), headers: [
            "Content-Type": "application/json", "X-GitHub-Event": "push", "X-GitHub-Delivery": delivery,
            "X-Hub-Signature-256": "sha256=" + Python.hmacHex(key: key, body: body)], body: body)
    }

    func requestedAt(_ path: String) -> String? {
        ((kube.get(path)?["metadata"] as? [String: Any])?["annotations"] as? [String: String])?[ReconcileNotifier.annotation]
    }

    func pipelineRuns() -> [[String: Any]] {
        kube.get("/apis/tekton.dev/v1/namespaces/ci/pipelineruns")?["items"] as? [[String: Any]] ?? []
    }

    func deliveries(_ dataDir: String) -> String {
        HookGateProcess.run(["deliveries", "--data-dir", dataDir]).stdout
    }

    @Test func pushesReconcileFluxAndStartOnePipelineRun() async throws {
        for namespace in ["flux-system", "ci"] {
            try kube.create(["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": namespace]])
        }
        for kind in ["GitRepository", "Kustomization"] {
            let group = kind == "GitRepository" ? "source.toolkit.fluxcd.io/v1" : "kustomize.toolkit.fluxcd.io/v1"
            try kube.create(["apiVersion": group, "kind": kind, "metadata": ["name": "app", "namespace": "flux-system"], "spec": ["interval": "10m"]])
        }
        let gitRepository = "/apis/source.toolkit.fluxcd.io/v1/namespaces/flux-system/gitrepositories/app"
        let kustomization = "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations/app"
        try kube.delete(file: Self.example + "/rbac.yaml")

        // As the pod's service account, without the example's RBAC: the errors name what is missing.
        let dataDir = Fixtures.temporaryDirectory()
        let server = try await HookGateProcess.start(serve: [
            "serve", "--config", Self.example + "/hookgate.yaml", "--listen", "127.0.0.1:0", "--data-dir", dataDir,
            "--service-account-dir", kube.serviceAccountDir], unsetting: ["KUBECONFIG"])
        defer { server.stop() }
        #expect(server.stderr.contains("in-cluster service account"))
        #expect(try await Self.push(server, branch: "main", delivery: "k8s-1").1 == "queued")
        try await waitUntil { deliveries(dataDir).hasPrefix("pending 0, failed 2") }
        let refused = deliveries(dataDir)
        #expect(refused.contains("may not create pipelineruns.tekton.dev in namespace ci"), "\(refused)")
        #expect(refused.contains(#"{apiGroups: ["tekton.dev"], resources: ["pipelineruns"], verbs: ["create"]}"#))
        #expect(refused.contains("may not patch gitrepositories.source.toolkit.fluxcd.io in namespace flux-system"))
        #expect(pipelineRuns().isEmpty)

        // With the example's RBAC, the same deliveries go through when retried.
        try kube.apply(file: Self.example + "/rbac.yaml")
        #expect(HookGateProcess.run(["deliveries", "retry", "--all-failed", "--data-dir", dataDir]).stdout.contains("requeued 2"))
        try await waitUntil { deliveries(dataDir).hasPrefix("pending 0, failed 0, delivered 2") }
        let firstGit = try #require(requestedAt(gitRepository))
        #expect(requestedAt(kustomization) != nil)
        let runs = pipelineRuns()
        #expect(runs.count == 1)
        let run = try #require(runs.first)
        let metadata = try #require(run["metadata"] as? [String: Any])
        let name = try #require(metadata["name"] as? String)
        #expect(name.wholeMatch(of: /build-[0-9a-f]{10}/) != nil, "\(name)")
        let labels = try #require(metadata["labels"] as? [String: String])
        #expect(labels["hookgate.io/endpoint"] == "app")
        #expect(labels["hookgate.io/event"] == "push")
        #expect(labels["hookgate.io/delivery"] == "k8s-1")
        #expect(labels["app.kubernetes.io/part-of"] == "app")
        let params = try #require((run["spec"] as? [String: Any])?["params"] as? [[String: Any]])
        let values = Dictionary(uniqueKeysWithValues: params.map { ($0["name"] as! String, $0["value"]!) })
        #expect(values["repo-url"] as? String == "https://github.com/Codertocat/Hello-World.git")
        #expect(values["revision"] as? String == "6113728f27ae82c7b1a177c8d03f9e96e0adf246")
        #expect(values["branch"] as? String == "main")
        #expect(values["changed-files"] as? [String] == ["README.md"])

        // The same delivery again: a duplicate for this replica …
        #expect(try await Self.push(server, branch: "main", delivery: "k8s-1").1 == "duplicate")
        // … and, at a second replica with its own queue (using the admin kubeconfig), the run
        // exists already: still one PipelineRun.
        let replicaData = Fixtures.temporaryDirectory()
        let replica = try await HookGateProcess.start(serve: [
            "serve", "--config", Self.example + "/hookgate.yaml", "--listen", "127.0.0.1:0", "--data-dir", replicaData, "--kubeconfig", kube.kubeconfig])
        defer { replica.stop() }
        #expect(replica.stderr.contains("via kubeconfig"))
        #expect(try await Self.push(replica, branch: "main", delivery: "k8s-1").1 == "queued")
        try await waitUntil { deliveries(replicaData).hasPrefix("pending 0, failed 0, delivered 2") }
        #expect(pipelineRuns().count == 1)
        #expect(replica.stderr.contains("exists already"))

        // A branch outside the rule: Flux reconciles, no PipelineRun.
        try await Task.sleep(for: .milliseconds(20))
        #expect(try await Self.push(server, branch: "feature/x", delivery: "k8s-2").1 == "queued")
        try await waitUntil { deliveries(dataDir).hasPrefix("pending 0, failed 0, delivered 3") }
        #expect(requestedAt(gitRepository) != firstGit)
        #expect(pipelineRuns().count == 1)

        // Objects that are missing are reported, and the others still reconciled.
        kube.call("DELETE", kustomization)
        #expect(try await Self.push(server, branch: "feature/y", delivery: "k8s-3").1 == "queued")
        try await waitUntil { deliveries(dataDir).hasPrefix("pending 0, failed 0, delivered 4") }
        #expect(server.stderr.contains("Kustomization flux-system/app not found"))
    }

    /// Issue 12, items 3 and 10: every accepted request creates exactly one object, named from the
    /// delivery id it was given at acceptance, also when it is retried after a restart. Twenty
    /// identical DockerHub pushes (no sender id) make twenty runs, three Generic calls with an
    /// empty `X-Request-Id` three, and a branch `feature/x` in a label is made label-safe.
    @Test func everyAcceptedRequestCreatesOneRun() async throws {
        try kube.create(["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "hardening"]])
        let folder = Fixtures.temporaryDirectory()
        func write(_ name: String, _ text: String) { _ = FileManager.default.createFile(atPath: folder + "/" + name, contents: Data(text.utf8)) }
        let keys = ["hub": "hub-key-0123456789abcdef", "generic": "generic-key-0123456789abcdef", "gh": "gh-key-0123456789abcdef"]
        for (name, key) in keys { write(name + ".key", key) }
        for (name, labels) in [("hub", "{tag: \"$(hook.imageTag)\"}"), ("generic", "{kind: trigger}"), ("gh", "{branch: \"$(hook.branch)\"}")] {
            write(name + ".yaml", """
                apiVersion: tekton.dev/v1
                kind: PipelineRun
                metadata: {generateName: \(name)-, labels: \(labels)}
                spec: {pipelineRef: {name: build}}
                """)
        }
        write("hookgate.yaml", """
            hookgateVersion: 1
            endpoints:
              - {name: hub, source: DockerHub, keyPath: hub.key, notify: [{tekton: {namespace: hardening, template: hub.yaml}}]}
              - {name: generic, source: Generic, keyPath: generic.key, notify: [{tekton: {namespace: hardening, template: generic.yaml}}]}
              - {name: gh, source: GitHub, keyPath: gh.key, notify: [{tekton: {namespace: hardening, template: gh.yaml}}]}
            """)
        func url(_ endpoint: String, _ server: HookGateProcess) -> String {
            server.baseURL + "/hook/" + Python.sha256Hex(Data(keys[endpoint]!.utf8))
        }
        func runs(_ endpoint: String) -> [[String: Any]] {
            let list = kube.get("/apis/tekton.dev/v1/namespaces/hardening/pipelineruns?labelSelector=hookgate.io/endpoint%3D" + endpoint)
            return list?["items"] as? [[String: Any]] ?? []
        }
        func metadata(_ run: [String: Any]) -> [String: Any] { run["metadata"] as? [String: Any] ?? [:] }

        // Accepted while the cluster refuses (the service account has no rights in the namespace).
        let dataDir = folder + "/data"
        var server = try await HookGateProcess.start(serve: [
            "serve", "--config", folder + "/hookgate.yaml", "--listen", "127.0.0.1:0", "--data-dir", dataDir,
            "--service-account-dir", kube.serviceAccountDir], unsetting: ["KUBECONFIG"])
        let hub = Fixtures.data("dockerhub-push.json")
        for _ in 0..<20 {
            #expect(try await EndToEndTests.post(url("hub", server), headers: ["Content-Type": "application/json"], body: hub).1 == "queued")
        }
        for _ in 0..<3 {
            #expect(try await EndToEndTests.post(url("generic", server), headers: ["X-Request-Id": ""], body: Data("{}".utf8)).1 == "queued")
        }
        let push = Data(String(decoding: Fixtures.data("github-push-branch-created-with-installation.json"), as: UTF8.self)
            .replacingOccurrences(of: "\"ref\": \"refs/heads/master\"", with: "\"ref\": \"refs/heads/feature/x\"").utf8)
        #expect(try await EndToEndTests.post(url("gh", server), headers: [
            "Content-Type": "application/json", "X-GitHub-Event": "push", "X-GitHub-Delivery": "label-1",
            "X-Hub-Signature-256": "sha256=" + Python.hmacHex(key: keys["gh"]!, body: push)], body: push).1 == "queued")
        try await waitUntil(timeout: .seconds(30)) { deliveries(dataDir).hasPrefix("pending 0, failed 24") }
        #expect(runs("hub").isEmpty)

        // Restarted with rights, the same rows are retried: one run each, named from their stored ids.
        server.stop()
        _ = await server.waitForExit()
        server = try await HookGateProcess.start(serve: [
            "serve", "--config", folder + "/hookgate.yaml", "--listen", "127.0.0.1:0", "--data-dir", dataDir, "--kubeconfig", kube.kubeconfig])
        defer { server.stop() }
        #expect(HookGateProcess.run(["deliveries", "retry", "--all-failed", "--data-dir", dataDir]).stdout.contains("requeued 24"))
        try await waitUntil(timeout: .seconds(30)) { deliveries(dataDir).hasPrefix("pending 0, failed 0, delivered 24") }
        let hubRuns = runs("hub")
        #expect(hubRuns.count == 20)
        #expect(Set(hubRuns.compactMap { metadata($0)["name"] as? String }).count == 20)
        let hubDeliveries = Set(hubRuns.compactMap { (metadata($0)["labels"] as? [String: String])?["hookgate.io/delivery"] })
        #expect(hubDeliveries.count == 20 && hubDeliveries.allSatisfy { $0.hasPrefix("hookgate-") }, "\(hubDeliveries)")
        #expect(hubRuns.allSatisfy { (metadata($0)["labels"] as? [String: String])?["tag"] == "latest" })
        #expect(runs("generic").count == 3)
        let branch = try #require(runs("gh").first.flatMap { metadata($0)["labels"] as? [String: String] })
        #expect(branch["branch"] == "feature-x")
        #expect(branch["hookgate.io/delivery"] == "label-1")
        #expect(HookGateProcess.run(["deliveries", "retry", "--all-failed", "--data-dir", dataDir]).stdout.contains("requeued 0"))
    }

    /// Issue 14 against the real API server: an opened pull request from a branch starts a
    /// PipelineRun at its head commit, a published release a TaskRun with its tag; the same pull
    /// request from a fork, or a deleted branch, starts nothing.
    @Test func pullRequestsAndReleasesStartRunsForksAndDeletionsDoNot() async throws {
        try kube.create(["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "pulls"]])
        let folder = Fixtures.temporaryDirectory()
        let key = "pull-request-key-0123456789"
        func write(_ name: String, _ text: String) { _ = FileManager.default.createFile(atPath: folder + "/" + name, contents: Data(text.utf8)) }
        write("gh.key", key)
        write("pr.yaml", """
            apiVersion: tekton.dev/v1
            kind: PipelineRun
            metadata: {generateName: pr-, labels: {pull-request: "$(hook.pullRequest)"}}
            spec:
              pipelineRef: {name: check}
              params:
                - {name: revision, value: "$(hook.revision)"}
                - {name: head, value: "$(hook.headRef)"}
                - {name: base, value: "$(hook.baseRef)"}
                - {name: repo-url, value: "$(hook.headRepoURL)"}
                - {name: label, value: "$(hook.body.pull_request.labels[0].name)"}
            """)
        write("release.yaml", """
            apiVersion: tekton.dev/v1
            kind: TaskRun
            metadata: {generateName: ship-}
            spec:
              taskRef: {name: ship}
              params:
                - {name: tag, value: "$(hook.tag)"}
                - {name: title, value: "$(hook.releaseName)"}
            """)
        write("hookgate.yaml", """
            hookgateVersion: 1
            endpoints:
              - name: gh
                source: GitHub
                keyPath: gh.key
                notify:
                  - tekton: {namespace: pulls, template: pr.yaml}
                    when: {events: [pullRequest, push], actions: [opened, updated], baseBranches: [master], branches: ["*"]}
                  - tekton: {namespace: pulls, template: release.yaml}
                    when: {events: [release]}
            """)
        let server = try await HookGateProcess.start(serve: [
            "serve", "--config", folder + "/hookgate.yaml", "--listen", "127.0.0.1:0", "--data-dir", folder + "/data", "--kubeconfig", kube.kubeconfig])
        defer { server.stop() }
        let url = server.baseURL + "/hook/" + Python.sha256Hex(Data(key.utf8))
        func send(_ event: String, _ body: Data, delivery: String) async throws -> String {
            try await EndToEndTests.post(url, headers: [
                "Content-Type": "application/json", "X-GitHub-Event": event, "X-GitHub-Delivery": delivery,
                "X-Hub-Signature-256": "sha256=" + Python.hmacHex(key: key, body: body)], body: body).1
        }
        let opened = Fixtures.data("github-pull_request-opened.json")
        #expect(try await send("pull_request", opened, delivery: "pr-1") == "queued")
        #expect(try await send("pull_request", Self.fork(of: opened), delivery: "pr-fork") == "event pull_request accepted; no action's rule matches it")
        #expect(try await send("push", Fixtures.data("github-push-tag-deleted.json"), delivery: "deleted") == "event push accepted; no action's rule matches it")
        #expect(try await send("release", Fixtures.data("github-release-published.json"), delivery: "release-1") == "queued")
        try await waitUntil { deliveries(folder + "/data").hasPrefix("pending 0, failed 0, delivered 2") }
        let taskRuns = kube.get("/apis/tekton.dev/v1/namespaces/pulls/taskruns")?["items"] as? [[String: Any]] ?? []
        #expect(taskRuns.count == 1)
        let taskParams = (taskRuns.first?["spec"] as? [String: Any])?["params"] as? [[String: Any]] ?? []
        #expect(Dictionary(uniqueKeysWithValues: taskParams.map { ($0["name"] as! String, $0["value"] as? String ?? "") }) == ["tag": "0.0.1", "title": "0.0.1"])
        let runs = kube.get("/apis/tekton.dev/v1/namespaces/pulls/pipelineruns")?["items"] as? [[String: Any]] ?? []
        #expect(runs.count == 1)
        let run = try #require(runs.first)
        let params = try #require((run["spec"] as? [String: Any])?["params"] as? [[String: Any]])
        let values = Dictionary(uniqueKeysWithValues: params.map { ($0["name"] as! String, $0["value"] as? String ?? "") })
        #expect(values == ["revision": "ec26c3e57ca3a959ca5aad62de7213c562f8c821", "head": "changes", "base": "master",
                           "repo-url": "https://github.com/Codertocat/Hello-World.git", "label": "bug"])
        #expect(((run["metadata"] as? [String: Any])?["labels"] as? [String: String])?["pull-request"] == "2")
    }

    /// `original` with only the pull request's head repository renamed: a pull request from a fork.
    static func fork(of original: Data) -> Data {
        var json = try! JSONSerialization.jsonObject(with: original) as! [String: Any]
        var pull = json["pull_request"] as! [String: Any]
        var head = pull["head"] as! [String: Any]
        var repo = head["repo"] as! [String: Any]
        repo["full_name"] = "Stranger/Hello-World"
        repo["clone_url"] = "https://github.com/Stranger/Hello-World.git"
        head["repo"] = repo
        pull["head"] = head
        json["pull_request"] = pull
        return try! JSONSerialization.data(withJSONObject: json)
    }
}

import Foundation
import HookGate
import HookGateTestSupport
import Testing

/// `report:` on a `create` action, with the built binary, the real API server and fake git
/// hosts: a pull request creates a PipelineRun whose state goes pending → success (or error) on
/// the head commit, and a restart reports what settled while hookgate was stopped.
@Suite(.serialized, .enabled(if: KubeAdmin.current != nil, "needs the API server that scripts/test starts"))
struct RunStatusTests {
    let kube = KubeAdmin.current!
    static let context = "hookgate/tekton"

    struct Case: Sendable, CustomTestStringConvertible {
        var flavor: FakeGitHost.Flavor
        var fixture: String
        var headers: [String: String]
        var repository: String
        var sha: String
        /// The host's names for pending, success and error.
        var states: (pending: String, success: String, error: String)
        var testDescription: String { "\(flavor)" }
    }

    static let cases = [
        Case(flavor: .gitHub, fixture: "github-pull_request-opened.json", headers: ["X-GitHub-Event": "pull_request"],
             repository: "Codertocat/Hello-World", sha: "ec26c3e57ca3a959ca5aad62de7213c562f8c821", states: ("pending", "success", "error")),
        Case(flavor: .gitLab, fixture: "gitlab-merge_request_hook.json", headers: ["X-Gitlab-Event": "Merge Request Hook"],
             repository: "gitlabhq/gitlab-test", sha: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", states: ("running", "success", "canceled")),
    ]

    func runs(_ namespace: String) -> [[String: Any]] {
        kube.get("/apis/tekton.dev/v1/namespaces/\(namespace)/pipelineruns")?["items"] as? [[String: Any]] ?? []
    }

    func settle(_ namespace: String, _ name: String, status: String, reason: String) {
        let patch = #"{"status":{"conditions":[{"type":"Succeeded","status":"\#(status)","reason":"\#(reason)","message":"set by the test"}]}}"#
        let (code, body) = kube.call("PATCH", "/apis/tekton.dev/v1/namespaces/\(namespace)/pipelineruns/\(name)", json: patch,
                                     contentType: "application/merge-patch+json")
        #expect(code == 200, "\(body)")
    }

    func send(_ test: Case, to server: HookGateProcess, key: String, delivery: String) async throws -> (Int, String) {
        // The same pull request sent again: a trailing space makes the body (hashed for
        // duplicates) a new one.
        let body = Fixtures.data(test.fixture) + Data(String(repeating: " ", count: delivery == "run-1" ? 0 : 1).utf8)
        var headers = test.headers.merging(["Content-Type": "application/json"]) { $1 }
        if test.flavor == .gitHub {
            headers["X-GitHub-Delivery"] = delivery
            headers["X-Hub-Signature-256"] = "sha256=" + Python.hmacHex(key: key, body: body)
        } else {
            headers["X-Gitlab-Token"] = key
            headers["X-Gitlab-Event-UUID"] = delivery
        }
        return try await EndToEndTests.post(server.baseURL + "/hook/run-status-endpoint", headers: headers, body: body)
    }

    /// A namespace for the runs and a config folder holding `hook.key` and `files`.
    func prepare(namespace: String, key: String, files: [String: String]) throws -> String {
        try kube.create(["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": namespace]])
        let folder = Fixtures.temporaryDirectory()
        for (name, contents) in files.merging(["hook.key": key], uniquingKeysWith: { $1 }) {
            try contents.write(toFile: folder + "/" + name, atomically: true, encoding: .utf8)
        }
        return folder
    }

    /// `hookgate serve` of the config in `folder`, with the API server's admin kubeconfig.
    func serveArguments(_ folder: String) -> [String] {
        ["serve", "--config", folder + "/hookgate.yaml", "--listen", "127.0.0.1:0", "--data-dir", folder + "/data", "--kubeconfig", kube.kubeconfig]
    }

    @Test("a pull request's run is reported pending, then success; a run that settles while hookgate is stopped is reported after the restart",
          arguments: cases)
    func pendingThenSuccess(_ test: Case) async throws {
        let namespace = "reports-\(test.flavor.rawValue.lowercased())"
        let host = try await FakeGitHost.start(test.flavor)
        let key = "run-status-key-0123456789abcdef"
        let folder = try prepare(namespace: namespace, key: key, files: ["host.token": host.token])
        try """
            hookgateVersion: 1
            delivery: {initialBackoff: 100ms, maxBackoff: 1s}
            endpoints:
              - name: app
                id: run-status-endpoint
                source: \(GitHostTests.source(test.flavor))
                keyPath: hook.key
                gitAPI: {url: "\(host.apiURL)", tokenPath: host.token}
                notify:
                  - create:
                      namespace: \(namespace)
                      object:
                        apiVersion: tekton.dev/v1
                        kind: PipelineRun
                        metadata: {generateName: pr-}
                        spec: {pipelineRef: {name: build}, params: [{name: revision, value: "$(hook.revision)"}]}
                      report:
                        context: \(Self.context)
                        url: "https://dashboard.example.com/#/namespaces/$(object.namespace)/pipelineruns/$(object.name)?repo=$(hook.repository)"
                    when: {events: [pullRequest]}
            """.write(toFile: folder + "/hookgate.yaml", atomically: true, encoding: .utf8)
        let arguments = serveArguments(folder)
        var server = try await HookGateProcess.start(serve: arguments)
        let outcome = await Result {
            #expect(try await send(test, to: server, key: key, delivery: "run-1").0 == 200)
            try await waitUntil(timeout: .seconds(20)) { runs(namespace).count == 1 && !host.statuses.isEmpty }
            let name = (runs(namespace)[0]["metadata"] as? [String: Any])?["name"] as? String ?? ""
            let pending = host.statuses[0]
            #expect(pending.state == test.states.pending)
            #expect(pending.sha == test.sha)
            #expect(pending.repository == test.repository)
            #expect(pending.context == Self.context)
            #expect(pending.url == "https://dashboard.example.com/#/namespaces/\(namespace)/pipelineruns/\(name)?repo=\(test.repository)")
            settle(namespace, name, status: "True", reason: "Succeeded")
            try await waitUntil(timeout: .seconds(20)) { host.statuses.last?.state == test.states.success }
            #expect(host.statuses.map(\.state) == [test.states.pending, test.states.success])

            // A second run; it settles (timed out) while hookgate is stopped.
            #expect(try await send(test, to: server, key: key, delivery: "run-2").0 == 200)
            try await waitUntil(timeout: .seconds(20)) { runs(namespace).count == 2 && host.statuses.count == 3 }
            #expect(await server.terminate() == 0)
            let second = runs(namespace).compactMap { ($0["metadata"] as? [String: Any])?["name"] as? String }.first { $0 != name } ?? ""
            settle(namespace, second, status: "False", reason: "PipelineRunTimeout")
            server = try await HookGateProcess.start(serve: arguments)
            try await waitUntil(timeout: .seconds(20)) { host.statuses.last?.state == test.states.error }
            // What was reported before the restart is not reported again.
            try await Task.sleep(for: .seconds(1))
            #expect(host.statuses.map(\.state) == [test.states.pending, test.states.success, test.states.pending, test.states.error])
            #expect(host.refusedTokens == 0)
            #expect(!server.stderr.contains(host.token))
        }
        #expect(await server.terminate() == 0)
        await host.stop()
        try outcome.get()
    }

    @Test("a GitHub App endpoint without gitAPI reports its runs as check runs, made with the installation's token")
    func checkRunsWithAppToken() async throws {
        let namespace = "reports-app"
        let pair = FakeGitHubAPI.makeKey()
        let api = try await FakeGitHubAPI.start(publicKey: pair.publicKey, issuer: "4343")
        api.setInstallations([.init(id: 1, account: "Codertocat")])
        let key = "run-status-app-key-0123456789abcdef"
        let folder = try prepare(namespace: namespace, key: key, files: ["app.pem": pair.pkcs1])
        try """
            hookgateVersion: 1
            delivery: {initialBackoff: 100ms, maxBackoff: 1s}
            githubApps: [{name: my-app, appID: 4343, privateKeyPath: app.pem, apiURL: "\(api.baseURL)", secrets: {namespace: \(namespace)}}]
            endpoints:
              - name: app
                id: run-status-endpoint
                source: GitHub
                keyPath: hook.key
                app: my-app
                notify:
                  - create:
                      namespace: \(namespace)
                      object:
                        apiVersion: tekton.dev/v1
                        kind: PipelineRun
                        metadata: {generateName: pr-}
                        spec: {pipelineRef: {name: build}}
                      report: {context: \(Self.context), url: "https://dashboard.example.com/$(object.name)"}
                    when: {events: [pullRequest]}
            """.write(toFile: folder + "/hookgate.yaml", atomically: true, encoding: .utf8)
        let server = try await HookGateProcess.start(serve: serveArguments(folder))
        let outcome = await Result {
            #expect(try await send(Self.cases[0], to: server, key: key, delivery: "run-1").0 == 200)
            try await waitUntil(timeout: .seconds(20)) { runs(namespace).count == 1 && !api.checkRuns.isEmpty }
            let name = (runs(namespace)[0]["metadata"] as? [String: Any])?["name"] as? String ?? ""
            let uid = (runs(namespace)[0]["metadata"] as? [String: Any])?["uid"] as? String
            settle(namespace, name, status: "False", reason: "Failed")
            try await waitUntil(timeout: .seconds(20)) { api.checkRuns.count == 2 }
            let made = api.checkRuns
            #expect(made.map(\.status) == ["in_progress", "completed"])
            #expect(made.map(\.conclusion) == [nil, "failure"])
            #expect(made.allSatisfy { $0.installation == 1 && $0.repository == "Codertocat/Hello-World" && $0.name == Self.context })
            #expect(made.allSatisfy { $0.headSHA == Self.cases[0].sha && $0.externalID == uid })
            #expect(made.first?.detailsURL == "https://dashboard.example.com/\(name)")
            // One installation token serves both reports, and none is written to the log.
            #expect(api.issued.filter { $0.installation == 1 }.allSatisfy { !server.stderr.contains($0.token) })
            #expect(api.refusedJWTs == 0)
        }
        #expect(await server.terminate() == 0)
        await api.stop()
        try outcome.get()
    }
}

import AsyncHTTPClient
import Foundation
import HTTPTypes
import HookGate
import HookGateTestSupport
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Prometheus
import Testing

/// GitHub App mode against the real API server (`scripts/kube-up`) and a fake GitHub API that
/// checks every JWT with Python's `cryptography`: install → Secret with the token; a short-lived
/// token → replaced before it lapses; uninstall → Secret gone; installations added or removed while
/// no webhook came → reconciled; GitHub failing → Secrets untouched, failures counted.
@Suite(.serialized, .enabled(if: KubeAdmin.current != nil, "needs the API server that scripts/test starts"))
struct GitHubAppKubernetesTests {
    let kube = KubeAdmin.current!
    static let webhookKey = "github-app-webhook-key-0123"
    static let installed = Fixtures.data("github-installation-created.json")

    func secret(_ name: String) -> [String: Any]? {
        kube.get("/api/v1/namespaces/apps/secrets/\(name)")
    }

    func token(in secret: [String: Any]?) -> String? {
        ((secret?["data"] as? [String: String])?["password"]).flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) }
    }

    static func send(_ client: any TestClientProtocol, _ path: String, body: Data, event: String) async throws -> String {
        try await client.execute(uri: path, method: .post, headers: [
            .contentType: "application/json", HTTPField.Name("X-GitHub-Event")!: event, HTTPField.Name("X-GitHub-Delivery")!: UUID().uuidString,
            HTTPField.Name("X-Hub-Signature-256")!: "sha256=" + Python.hmacHex(key: webhookKey, body: body)], body: ByteBuffer(bytes: body)) { String(buffer: $0.body) }
    }

    @Test func installationSecretsFollowTheAppsInstallations() async throws {
        try kube.create(["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "apps"]])
        let keys = FakeGitHubAPI.makeKey()
        let api = try await FakeGitHubAPI.start(publicKey: keys.publicKey, issuer: "31337")
        // Twenty minutes: under the half hour that makes hookgate renew, so every check renews it.
        api.setTokenLifetime(.seconds(1200))
        let config = try loadConfig("""
            hookgateVersion: 1
            githubApps:
              - {name: peribolos, appID: 31337, privateKeyPath: app.pem, apiURL: "\(api.baseURL)", secrets: {namespace: apps, name: "gh-{installation}"}}
            delivery: {initialBackoff: 100ms, maxBackoff: 500ms}
            endpoints:
              - {name: app, source: GitHub, keyPath: github.key, app: peribolos}
            """, files: ["github.key": Self.webhookKey, "app.pem": keys.pkcs1])
        let client = try KubeClient(connection: KubeConnection(
            server: kube.url, certificateAuthority: Array(try Data(contentsOf: URL(fileURLWithPath: kube.caFile))), credentials: .token(kube.adminToken),
            namespace: "apps", origin: "the test's admin"))
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let store = try await DeliveryStore.open(directory: Fixtures.temporaryDirectory(), logger: logger)
        let registry = PrometheusCollectorRegistry()
        var options = ServerOptions(listen: ListenAddress(host: "127.0.0.1", port: 0))
        options.appRenewEvery = .milliseconds(500)
        options.appReconcileEvery = .seconds(2)
        options.appRetryPeriod = .milliseconds(300)
        options.appLeaseDuration = .seconds(3)
        let app = try buildApplication(config: config, options: options, client: .shared, kube: KubeAccess(client: client), store: store, metrics: registry, logger: logger)
        let outcome = await Result { () async throws -> Void in try await app.test(.live) { http in
            let path = config.endpoints[0].path
            // Installed: the webhook writes the Secret.
            api.setInstallations([.init(id: 957387, account: "Codertocat")])
            #expect(try await Self.send(http, path, body: Self.installed, event: "installation") == "queued")
            try await waitUntil { token(in: secret("gh-957387")) != nil }
            let written = try #require(secret("gh-957387"))
            #expect(written["type"] as? String == "kubernetes.io/basic-auth")
            let metadata = written["metadata"] as? [String: Any]
            #expect((metadata?["annotations"] as? [String: String])?["tekton.dev/git-0"] == api.baseURL, "the App's host, from its apiURL")
            #expect((metadata?["labels"] as? [String: String])?["hookgate.io/installation"] == "957387")
            let data = (written["data"] as? [String: String] ?? [:]).mapValues { String(decoding: Data(base64Encoded: $0) ?? Data(), as: UTF8.self) }
            #expect(data["username"] == "x-access-token" && data["account"] == "Codertocat" && data["installationID"] == "957387")
            #expect(data["token"] == data["password"] && api.issued.map(\.token).contains(data["token"] ?? "-"))

            // A token with under half an hour left is replaced.
            let first = token(in: secret("gh-957387"))
            try await waitUntil { let now = token(in: secret("gh-957387")); return now != nil && now != first }
            #expect(api.issued.last?.token == token(in: secret("gh-957387")) || api.issued.count > 2)

            // GitHub failing: the Secret stays as it is, and failures are counted.
            api.setMode(.status(500))
            // A renewal already past the API when it started failing may still land: let it.
            try await Task.sleep(for: .milliseconds(800))
            let kept = token(in: secret("gh-957387"))
            try await Task.sleep(for: .milliseconds(1500))
            #expect(token(in: secret("gh-957387")) == kept)
            let metrics = String(decoding: registry.emitToBuffer(), as: UTF8.self)
            #expect(metrics.contains(#"hookgate_github_app_failures_total{app="peribolos",cause="server_error"}"#))
            // … and said where the Secret is, as a Warning Event on it.
            let events = kube.get("/api/v1/namespaces/apps/events")?["items"] as? [[String: Any]] ?? []
            #expect(events.contains { event in
                (event["involvedObject"] as? [String: Any])?["name"] as? String == "gh-957387" && event["reason"] as? String == "TokenRenewalFailed"
                    && (event["message"] as? String)?.contains("answered 500") == true
            })
            api.setMode(.normal)

            // Uninstalled: the Secret is deleted.
            let deleted = Data(String(decoding: Self.installed, as: UTF8.self).replacingOccurrences(of: #""action": "created""#, with: #""action": "deleted""#).utf8)
            api.setInstallations([])
            #expect(try await Self.send(http, path, body: deleted, event: "installation") == "queued")
            try await waitUntil { secret("gh-957387") == nil }

            // Installed and uninstalled while no webhook came: reconcile follows the App's list.
            api.setInstallations([.init(id: 4242, account: "quiet-org")])
            try await waitUntil(timeout: .seconds(15)) { token(in: secret("gh-4242")) != nil }
            api.setInstallations([])
            try await waitUntil(timeout: .seconds(15)) { secret("gh-4242") == nil }
            #expect(api.refusedJWTs == 0)
        } }
        await store.close()
        try await client.shutdown()
        await api.stop()
        try outcome.get()
    }

    /// Two replicas: exactly one holds the Lease; when it stops renewing (it died), the other takes
    /// over once the lease duration has passed; one that stops cleanly hands over at once.
    @Test func oneReplicaHoldsTheLeaseAndAnotherTakesOver() async throws {
        try kube.create(["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "lease-test"]])
        let client = try KubeClient(connection: KubeConnection(
            server: kube.url, certificateAuthority: Array(try Data(contentsOf: URL(fileURLWithPath: kube.caFile))), credentials: .token(kube.adminToken),
            namespace: "lease-test", origin: "the test's admin"))
        let name = "lease-\(UUID().uuidString.prefix(8).lowercased())"
        let first = LeaderLease(name: name, namespace: "lease-test", kube: client, identity: "replica-a", leaseDuration: .seconds(2))
        let second = LeaderLease(name: name, namespace: "lease-test", kube: client, identity: "replica-b", leaseDuration: .seconds(2))
        #expect(try await first.acquireOrRenew())
        #expect(try await !second.acquireOrRenew())
        #expect(try await first.acquireOrRenew())
        #expect(try await !second.acquireOrRenew())
        // replica-a dies: it renews no more.
        let died = ContinuousClock.now
        try await waitUntil(timeout: .seconds(5)) { try await second.acquireOrRenew() }
        let tookOver = ContinuousClock.now - died
        print("lease test: replica-b took over \(tookOver) after replica-a stopped renewing (lease duration 2 s)")
        #expect(tookOver >= .seconds(1) && tookOver < .seconds(4))
        #expect(try await !first.acquireOrRenew())
        let lease = kube.get("/apis/coordination.k8s.io/v1/namespaces/lease-test/leases/\(name)")?["spec"] as? [String: Any]
        #expect(lease?["holderIdentity"] as? String == "replica-b" && lease?["leaseTransitions"] as? Int == 1)
        // replica-b stops cleanly: replica-a need not wait.
        try await second.release()
        #expect(try await first.acquireOrRenew())
        try await client.shutdown()
    }

    /// examples/github-app as shipped, run as the service account its rbac.yaml grants (and nothing
    /// more): the installation's Secret is written, and a push from it starts a TaskRun that mounts it.
    @Test func theExampleRunsWithItsLeastPrivilege() async throws {
        let example = Fixtures.packageRoot + "/examples/github-app"
        for namespace in ["hookgate-system", "ci"] { try kube.create(["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": namespace]]) }
        try kube.apply(file: example + "/rbac.yaml")
        let publicKey = Python.run("""
            import sys
            from cryptography.hazmat.primitives import serialization
            key = serialization.load_pem_private_key(open(sys.argv[1], "rb").read(), None)
            sys.stdout.write(key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode())
            """, arguments: [example + "/keys/peribolos.pem"])
        let api = try await FakeGitHubAPI.start(publicKey: publicKey, issuer: "123456")
        // The push fixture comes from installation 1.
        api.setInstallations([.init(id: 1, account: "Codertocat")])
        let folder = Fixtures.temporaryDirectory()
        try FileManager.default.copyItem(atPath: example + "/keys", toPath: folder + "/keys")
        try FileManager.default.copyItem(atPath: example + "/taskrun.yaml", toPath: folder + "/taskrun.yaml")
        try String(contentsOfFile: example + "/hookgate.yaml", encoding: .utf8)
            .replacingOccurrences(of: "    appID: 123456\n", with: "    appID: 123456\n    apiURL: \"\(api.baseURL)\"\n")
            .write(toFile: folder + "/hookgate.yaml", atomically: true, encoding: .utf8)
        let config = try ConfigLoader.load(path: folder + "/hookgate.yaml")
        let token = try String(contentsOfFile: kube.serviceAccountDir + "/token", encoding: .utf8)
        let client = try KubeClient(connection: KubeConnection(
            server: kube.url, certificateAuthority: Array(try Data(contentsOf: URL(fileURLWithPath: kube.caFile))), credentials: .token(token),
            namespace: "hookgate-system", origin: "the example's service account"))
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let store = try await DeliveryStore.open(directory: Fixtures.temporaryDirectory(), logger: logger)
        var options = ServerOptions(listen: ListenAddress(host: "127.0.0.1", port: 0))
        options.appRetryPeriod = .milliseconds(300)
        let app = try buildApplication(config: config, options: options, client: .shared, kube: KubeAccess(client: client), store: store, metrics: PrometheusCollectorRegistry(), logger: logger)
        let webhookKey = try String(contentsOfFile: example + "/keys/webhook.key", encoding: .utf8)
        let outcome = await Result { () async throws -> Void in try await app.test(.live) { http in
            // Reconcile at start writes the Secret of the installation that exists.
            try await waitUntil { kube.get("/api/v1/namespaces/ci/secrets/gh-1") != nil }
            let body = Fixtures.data("github-push-branch-created-with-installation.json")
            let answer = try await http.execute(uri: config.endpoints[0].path, method: .post, headers: [
                .contentType: "application/json", HTTPField.Name("X-GitHub-Event")!: "push", HTTPField.Name("X-GitHub-Delivery")!: "app-push-1",
                HTTPField.Name("X-Hub-Signature-256")!: "sha256=" + Python.hmacHex(key: webhookKey, body: body)], body: ByteBuffer(bytes: body)) { String(buffer: $0.body) }
            #expect(answer == "queued")
            try await waitUntil { !(kube.get("/apis/tekton.dev/v1/namespaces/ci/taskruns")?["items"] as? [[String: Any]] ?? []).isEmpty }
            let run = (kube.get("/apis/tekton.dev/v1/namespaces/ci/taskruns")?["items"] as? [[String: Any]])?.first
            let workspaces = (run?["spec"] as? [String: Any])?["workspaces"] as? [[String: Any]]
            #expect((workspaces?.first?["secret"] as? [String: Any])?["secretName"] as? String == "gh-1")
        } }
        await store.close()
        try await client.shutdown()
        await api.stop()
        try outcome.get()
    }
}

import AsyncHTTPClient
import Foundation
import HTTPTypes
import HookGateTestSupport
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Prometheus
import Testing

@testable import HookGate

/// Issue 13: the server and `hookgate verify` answer from one decision (``Verdict``), so they
/// cannot drift; and queued work belongs to its action by id, not by position.
@Suite(.serialized) struct VerdictTests {
    static let key = "verdict-key-0123456789abcdef"
    /// Long enough to be the only guard of an unsigned endpoint.
    static let id = "verdict0123456789abcdef0123456789ab"

    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var source: String
        var notify: String
        var headers: [String: String]
        var body: Data
        /// The answer both must give (for work, the server's; verify describes it).
        var answer: String
        var description: String { name }
    }

    static func signed(_ event: String, _ body: Data) -> [String: String] {
        ["Content-Type": "application/json", "X-GitHub-Event": event, "X-GitHub-Delivery": UUID().uuidString,
         "X-Hub-Signature-256": "sha256=" + Python.hmacHex(key: key, body: body)]
    }

    static let push = Fixtures.data("github-push-branch-created-with-installation.json")
    static let manyTags = Data(#"{"repository": "org/app", "docker_url": "quay.io/org/app", "updated_tags": [\#((0...1000).map { "\"t\($0)\"" }.joined(separator: ","))]}"#.utf8)

    static let cases: [Case] = [
        Case(name: "refused: signature", source: "GitHub", notify: "[log]", headers: ["X-GitHub-Event": "push", "X-Hub-Signature-256": "sha256=" + String(repeating: "0", count: 64)],
             body: push, answer: "401 invalid signature"),
        Case(name: "refused: body", source: "GitHub", notify: "[log]", headers: signed("push", Data("{not json".utf8)), body: Data("{not json".utf8),
             answer: "400 cannot parse the GitHub push payload"),
        Case(name: "refused: too many events", source: "Quay", notify: "[log]", headers: ["Content-Type": "application/json"], body: manyTags,
             answer: "413 too many events in one delivery (1001; at most 1000)"),
        Case(name: "pong", source: "GitHub", notify: "[log]", headers: signed("ping", Fixtures.data("github-ping-repo.json")),
             body: Fixtures.data("github-ping-repo.json"), answer: "200 Pong"),
        Case(name: "ignored", source: "GitHub", notify: "[log]", headers: signed("issues", Data("{}".utf8)), body: Data("{}".utf8),
             answer: "200 event issues accepted; nothing to notify"),
        Case(name: "unsupported (the drift)", source: "Generic", notify: "[fluxAPI]", headers: [:], body: Data("{}".utf8),
             answer: "200 event trigger accepted; flux-api cannot act on a trigger event; nothing to notify"),
        Case(name: "unmatched", source: "GitHub", notify: "[{log: null, when: {branches: [release]}}]", headers: signed("push", push), body: push,
             answer: "200 event push accepted; no action's rule matches it"),
        Case(name: "work", source: "GitHub", notify: "[log]", headers: signed("push", push), body: push, answer: "200 queued"),
    ]

    /// Every verdict, through the server (in process, Hummingbird's router tier) and through
    /// `hookgate verify`'s explanation: the same answer.
    @Test(arguments: cases) func serverAndVerifyAgree(_ test: Case) async throws {
        let config = try loadConfig("""
            hookgateVersion: 1
            api: http://127.0.0.1:1/api/flux
            endpoints:
              - {name: e, id: \(Self.id), source: \(test.source), keyPath: k, notify: \(test.notify)}
            """, files: ["k": Self.key])
        var fields = HTTPFields()
        for (name, value) in test.headers { fields[HTTPField.Name(name)!] = value }
        let explanation = await RequestExplanation.explain(
            WebhookRequest(headers: fields, body: test.body), endpoint: config.endpoints[0], googleKeys: GoogleKeyStore(client: .shared, logger: Logger(label: "t")))

        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let store = try await DeliveryStore.open(directory: Fixtures.temporaryDirectory(), logger: logger)
        let app = try buildApplication(
            config: config, options: ServerOptions(listen: ListenAddress(host: "127.0.0.1", port: 0)), client: .shared, store: store,
            metrics: nil, logger: logger, logNotifier: LineSink().notifier)
        let headers = fields
        let served = try await app.test(.router) { client in
            try await client.execute(uri: "/hook/" + Self.id, method: .post, headers: headers, body: ByteBuffer(bytes: test.body)) { response in
                "\(response.status.code) \(String(buffer: response.body))"
            }
        }
        await store.close()
        #expect(served == test.answer)
        if case .work = explanation.verdict {
            #expect(explanation.answer.hasPrefix(test.answer), "\(explanation.answer)")
        } else {
            #expect(explanation.answer == test.answer)
        }
    }

    /// Ids: explicit, or a hash of what the action is; reordering keeps them, collisions are
    /// refused where they would share a queue.
    @Test func actionsHaveStableIDs() throws {
        let files = ["k": Self.key, "run.yaml": "apiVersion: tekton.dev/v1\nkind: PipelineRun\nmetadata: {generateName: run-}\n"]
        func targets(_ notify: String) throws -> [String] {
            try loadConfig("hookgateVersion: 1\nendpoints:\n  - {name: gh, source: GitHub, keyPath: k, notify: \(notify)}\n", files: files)
                .endpoints[0].notify.map { $0.target(endpoint: "gh") }
        }
        let reconcile = "{reconcile: {namespace: flux-system, objects: [{kind: GitRepository, name: app}]}}"
        let create = "{tekton: {namespace: ci, template: run.yaml}, when: {branches: [main]}}"
        let forward = try targets("[\(reconcile), \(create)]")
        let backward = try targets("[\(create), log, \(reconcile)]")
        #expect(forward == [backward[2], backward[0]])
        #expect(forward[0].wholeMatch(of: /reconcile gh\/[0-9a-f]{10}/) != nil, "\(forward)")
        #expect(try targets("[{reconcile: {objects: [{kind: GitRepository, name: app}]}, id: flux}]") == ["reconcile gh/flux"])
        // Only the rule differs: the same queue, which would make the same objects twice.
        let twice = problems("hookgateVersion: 1\nendpoints:\n  - {source: GitHub, keyPath: k, notify: [\(create), {tekton: {namespace: ci, template: run.yaml}}]}\n", files: files)
        #expect(twice.contains { $0.description.contains("has the id") && $0.description.contains("give one of them its own `id:`") }, "\(twice)")
        #expect(try targets("[\(create), {tekton: {namespace: ci, template: run.yaml}, id: all-branches}]").count == 2)
        #expect(try targets("[log, {log: null, when: {branches: [main]}}]") == ["log", "log"])
    }

    /// A reload that reorders actions keeps their pending work; one that removes an action turns
    /// its pending work into dead letters, with the reason; rows queued under positional names
    /// are taken over. The worker follows without a restart.
    @Test func reloadsFollowActionsByID() async throws {
        let directory = Fixtures.temporaryDirectory()
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let store = try await DeliveryStore.open(directory: directory, logger: logger)
        let event = HookEvent(name: "push", kind: .gitPush(GitPush(fullName: "a/b", sshURL: "s", httpsURL: nil, ref: "refs/heads/main")))
        func row(_ target: String) -> NewDelivery {
            NewDelivery(endpoint: "gh", source: "GitHub", deliveryID: UUID().uuidString, target: target, notifier: "reconcile", events: [event])
        }
        _ = try await store.enqueue([row("reconcile gh#1"), row("reconcile gh/kept"), row("reconcile gh/gone")], dedupeKeys: [], window: .seconds(60),
                                    now: Date().addingTimeInterval(3600))
        let registry = NotifierRegistry(["reconcile gh/kept": LogNotifier(write: { _ in })], renamed: ["reconcile gh#1": "reconcile gh/kept"])
        let metrics = PrometheusCollectorRegistry()
        let worker = DeliveryWorker(
            store: store, notifiers: registry, settings: { DeliverySettings() }, metrics: HookMetrics(factory: PrometheusMetricsFactory(registry: metrics)), logger: logger)
        let running = Task { try await worker.run() }
        try await waitUntil {
            try await store.list(states: [.failed], limit: 10).count == 1
        }
        let failed = try await store.list(states: [.failed], limit: 10)
        #expect(failed.map(\.target) == ["reconcile gh/gone"])
        #expect(failed.first?.lastError?.contains("no longer in the config") == true)
        let pending = try await store.list(states: [.pending], limit: 10)
        #expect(pending.map(\.target) == ["reconcile gh/kept", "reconcile gh/kept"])

        // A reload that drops the kept action too.
        registry.replace(with: [:], renamed: [:])
        try await waitUntil { try await store.list(states: [.failed], limit: 10).count == 3 }
        // This worker's own registry: no other test's counts in it.
        let text = String(decoding: metrics.emitToBuffer(), as: UTF8.self)
        #expect(text.contains(#"hookgate_dead_letters_total{target="removed"} 3"#), "\(text)")
        running.cancel()
        await store.close()
    }
}

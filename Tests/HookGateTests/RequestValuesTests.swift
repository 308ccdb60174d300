import AsyncHTTPClient
import Foundation
import HTTPTypes
import HookGateTestSupport
import Logging
import NIOCore
import Testing

@testable import HookGate

/// Issue 14's rest: `when: {body: {PATH: GLOB}}`, `$(hook.header.NAME)`, and `required:` values.
@Suite struct RequestValuesTests {
    static let key = "request-values-key-0123456789"
    static let pullRequest = Fixtures.data("github-pull_request-opened.json")

    static func request(_ body: Data, event: String = "pull_request", extra: [String: String] = [:]) -> WebhookRequest {
        var headers: HTTPFields = [
            .contentType: "application/json", HTTPField.Name("X-GitHub-Event")!: event, HTTPField.Name("X-GitHub-Delivery")!: "d-1",
            HTTPField.Name("X-Hub-Signature-256")!: "sha256=" + Python.hmacHex(key: key, body: body)]
        for (name, value) in extra { headers[HTTPField.Name(name)!] = value }
        return WebhookRequest(headers: headers, body: body)
    }

    static func endpoint(_ notify: String) throws -> Endpoint {
        try loadConfig("""
            hookgateVersion: 1
            endpoints:
              - name: gh
                source: GitHub
                keyPath: github.key
                notify: \(notify)
            """, files: ["github.key": key]).endpoints[0]
    }

    static func decide(_ endpoint: Endpoint, _ request: WebhookRequest) async -> Verdict {
        await Verdict.decide(request, endpoint: endpoint, provider: ProviderFactory.make(for: endpoint, googleKeys: GoogleKeyStore(client: .shared, logger: Logger(label: "t"))),
                             maxEvents: 1000)
    }

    @Test func bodyRulesChooseByValue() async throws {
        // The fixture's pull request carries the label "bug".
        let labelled = try Self.endpoint("[{log: , when: {events: [pullRequest], body: {'pull_request.labels[0].name': ['deploy-*', bug]}}}]")
        guard case .work(let work) = await Self.decide(labelled, Self.request(Self.pullRequest)) else { Issue.record("no work"); return }
        #expect(work.choices.count == 1)
        // The log action reads no body path: its queued events keep none.
        #expect(work.choices[0].events[0].bodyValues.isEmpty)

        let other = try Self.endpoint("[{log: , when: {events: [pullRequest], body: {'pull_request.labels[0].name': deploy}}}]")
        guard case .unmatched = await Self.decide(other, Self.request(Self.pullRequest)) else { Issue.record("a label that differs matched"); return }
        let missing = try Self.endpoint("[{log: , when: {events: [pullRequest], body: {'pull_request.labels[7].name': '*'}}}]")
        guard case .unmatched = await Self.decide(missing, Self.request(Self.pullRequest)) else { Issue.record("a missing path matched"); return }

        // `hookgate verify` says why.
        let explanation = await RequestExplanation.explain(Self.request(Self.pullRequest), endpoint: other, googleKeys: GoogleKeyStore(client: .shared, logger: Logger(label: "t")))
        #expect(explanation.report.contains("body pull_request.labels[0].name is bug, matching none of deploy"))
        let absent = await RequestExplanation.explain(Self.request(Self.pullRequest), endpoint: missing, googleKeys: GoogleKeyStore(client: .shared, logger: Logger(label: "t")))
        #expect(absent.report.contains("the body has no pull_request.labels[7].name"))
        #expect(other.notify[0].rule.summary.contains("body pull_request.labels[0].name deploy"))
    }

    @Test func bodyRuleProblemsNameTheLine() {
        let files = ["github.key": Self.key]
        func rule(_ when: String) -> String {
            "hookgateVersion: 1\nendpoints:\n  - {name: gh, source: GitHub, keyPath: github.key, notify: [{log: , when: \(when)}]}\n"
        }
        #expect(problems(rule("{body: {'a..b': x}}"), files: files).contains { $0.message.contains("is not a body path") && $0.line == 3 })
        #expect(problems(rule("{body: {a: []}}"), files: files).contains { $0.message.contains("must be a value") })
        #expect(problems(rule("{body: [a]}"), files: files).contains { $0.message.contains("must be a mapping") })
    }

    @Test func headerPlaceholdersAreReadAtAcceptanceAndNeverSecrets() async throws {
        let object = "{apiVersion: tekton.dev/v1, kind: TaskRun, metadata: {generateName: t-}, spec: {params: [{name: hook, value: '$(hook.header.X-GitHub-Hook-ID)'}, {name: gone, value: '$(hook.header.X-Absent)'}]}}"
        let endpoint = try Self.endpoint("[{create: {namespace: ci, object: \(object)}, when: {events: [pullRequest]}}]")
        #expect(endpoint.notify[0].spec.headerNames == ["X-GitHub-Hook-ID", "X-Absent"])
        guard case .work(let work) = await Self.decide(endpoint, Self.request(Self.pullRequest, extra: ["X-GitHub-Hook-ID": "4711"])) else {
            Issue.record("no work"); return
        }
        let event = work.choices[0].events[0]
        #expect(event.headerValues == ["X-GitHub-Hook-ID": "4711"])
        // Through the queue's stored form, and rendered.
        let stored = try JSONDecoder().decode([HookEvent].self, from: Data(HookEvent.storedJSON([event]).utf8))
        #expect(stored == [event])
        let spec = try #require(endpoint.notify[0].spec as? CreateAction)
        let rendered = spec.template.render(CreateNotifier.variables(stored[0], context: NotifyContext(endpoint: "gh", source: .gitHub, deliveryID: "d", logger: Logger(label: "t"))))
        let params = String(decoding: rendered["spec"]?["params"]?.json ?? Data(), as: UTF8.self)
        #expect(params.contains(#""value":"4711""#))
        for secret in ["X-Hub-Signature-256", "Authorization", "X-Gitlab-Token", "Cookie", "X-Api-Secret", "webhook-signature"] {
            #expect(throws: TemplateError.self, "\(secret)") { try ObjectTemplate(yaml: "kind: TaskRun\nspec: {x: \"$(hook.header.\(secret))\"}\n") }
        }
    }

    /// `required:` values: an event without one fails the action (a dead letter that says which),
    /// and nothing is created.
    @Test func requiredValuesFailTheActionWhenMissing() async throws {
        let api = try await RecordingServer.start { _ in .init(status: .created, body: "{}") }
        let kube = try KubeClient(connection: KubeConnection(
            server: api.baseURL, certificateAuthority: nil, credentials: .token("test-token"), namespace: "ci", origin: "a recording server"))
        let endpoint = try Self.endpoint("""
            [{create: {namespace: ci, required: ['body.pull_request.labels[0].name', header.X-GitHub-Hook-ID], object: {apiVersion: tekton.dev/v1, kind: TaskRun, metadata: {generateName: t-}, spec: {}}}, when: {events: [pullRequest]}}]
            """)
        #expect(endpoint.notify[0].spec.bodyPaths == [BodyPath("pull_request.labels[0].name")!])
        let notifier = try #require(try endpoint.notify[0].spec.makeNotifiers(
            target: "create gh/x", resources: ActionResources(client: .shared, kube: kube, notifyTimeout: .seconds(5), logNotifier: LogNotifier(), endpoint: endpoint, file: "f", line: 1)).first)
        let context = NotifyContext(endpoint: "gh", source: .gitHub, deliveryID: "d-1", logger: Logger(label: "t"))
        guard case .work(let without) = await Self.decide(endpoint, Self.request(Self.pullRequest)) else { Issue.record("no work"); return }
        do {
            try await notifier.notify(without.choices[0].events, context: context)
            Issue.record("created without a required value")
        } catch {
            #expect(error.isPermanent && error.detail.contains("$(hook.header.X-GitHub-Hook-ID)"))
        }
        #expect(await api.requests.isEmpty)
        guard case .work(let with) = await Self.decide(endpoint, Self.request(Self.pullRequest, extra: ["X-GitHub-Hook-ID": "1"])) else { Issue.record("no work"); return }
        try await notifier.notify(with.choices[0].events, context: context)
        #expect(await api.requests.count == 1)
        #expect(problems("hookgateVersion: 1\nendpoints:\n  - {name: gh, source: GitHub, keyPath: github.key, notify: [{create: {required: [nope], object: {kind: TaskRun, apiVersion: tekton.dev/v1}}}]}\n",
                         files: ["github.key": Self.key]).contains { $0.message.contains("is not body.PATH") })
        try await kube.shutdown()
        await api.stop()
    }
}

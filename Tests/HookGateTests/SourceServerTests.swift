import AsyncHTTPClient
import Foundation
import HTTPTypes
import HookGate
import HookGateTestSupport
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// Each newer source through a live server on loopback, with a real client, as a sender meets it.
@Suite(.serialized) struct SourceServerTests {
    static let whsec = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    static let gitlabSigningToken = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

    static func fields(_ headers: [String: String]) -> HTTPFields {
        var fields = HTTPFields()
        for (name, value) in headers { fields[HTTPField.Name(name)!] = value }
        return fields
    }

    /// Standard Webhooks headers for `body`, signed now (or `age` seconds ago) by CPython's hmac.
    static func signed(_ body: Data, id: String, secret: String = whsec, age: TimeInterval = 0) -> [String: String] {
        let timestamp = String(Int(Date().timeIntervalSince1970 - age))
        return ["webhook-id": id, "webhook-timestamp": timestamp, "webhook-signature": standardSignature(secret: secret, id: id, timestamp: timestamp, body: body)]
    }

    func metrics(_ client: any TestClientProtocol) async throws -> String {
        try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
    }

    @Test func standardWebhooksTriggerReplayAndClock() async throws {
        let flux = try await RecordingServer.start()
        defer { Task { await flux.stop() } }
        let sink = LineSink()
        try await Harness.withServer(downstream: flux, extraYAML: """
              - name: sw-live
                source: StandardWebhooks
                keyPath: sw.key
                notify: [log]
                delivery: sync
            """, sink: sink, files: ["sw.key": Self.whsec + "\n"]) { client, config in
            let path = config.endpoints[2].path
            let body = Data(#"{"type":"deploy.requested","timestamp":"2024-05-01T10:00:00Z","data":{"env":"staging"}}"#.utf8)
            let headers = Self.fields(Self.signed(body, id: "msg_live_1"))
            try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(bytes: body)) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "OK")
            }
            // The same request again, inside the tolerance: the replay is a duplicate.
            try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(bytes: body)) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "duplicate")
            }
            // Its signature under another webhook-id does not verify.
            var otherID = headers
            otherID[HTTPField.Name("webhook-id")!] = "msg_live_2"
            try await client.execute(uri: path, method: .post, headers: otherID, body: ByteBuffer(bytes: body)) { response in
                #expect(response.status == .unauthorized)
                #expect(String(buffer: response.body) == "invalid signature")
            }
            // A correctly signed request from ten minutes ago is refused, saying how far off it is.
            try await client.execute(uri: path, method: .post, headers: Self.fields(Self.signed(body, id: "msg_live_3", age: 600)), body: ByteBuffer(bytes: body)) { response in
                #expect(response.status == .unauthorized)
                let text = String(buffer: response.body)
                #expect(text.hasPrefix("webhook-timestamp is 10 min") && text.hasSuffix("in the past, outside the 5 min tolerance"), "\(text)")
            }
            try await client.execute(uri: path, method: .post, headers: Self.fields(["webhook-id": "msg_live_4"]), body: ByteBuffer(bytes: body)) {
                #expect($0.status == .unauthorized)
            }
            let text = try await metrics(client)
            #expect(text.contains(#"hookgate_requests_total{endpoint="sw-live",source="StandardWebhooks",outcome="notified"} 1"#))
            #expect(text.contains(#"hookgate_requests_total{endpoint="sw-live",source="StandardWebhooks",outcome="duplicate"} 1"#))
            #expect(text.contains(#"hookgate_requests_total{endpoint="sw-live",source="StandardWebhooks",outcome="unauthorized"} 3"#))
        }
        #expect(sink.all.count == 1)
        let line = try #require(try JSONSerialization.jsonObject(with: Data(sink.all[0].utf8)) as? [String: Any])
        #expect(line["event"] as? String == "deploy.requested")
        #expect(line["kind"] as? String == "trigger")
        #expect(line["delivery"] as? String == "msg_live_1")
        #expect(line["source"] as? String == "StandardWebhooks")
        #expect(await flux.requests.isEmpty)
    }

    @Test func gitLabSigningTokenBesideClassicTokens() async throws {
        let flux = try await RecordingServer.start()
        defer { Task { await flux.stop() } }
        let sink = LineSink()
        try await Harness.withServer(downstream: flux, extraYAML: """
              - name: gl-signed
                source: GitLab
                keyPath: gl-signing.key
                notify: [log]
                delivery: sync
            """, sink: sink, files: ["gl-signing.key": Self.gitlabSigningToken]) { client, config in
            let body = Fixtures.data("gitlab-push_hook.json")
            var headers = Self.signed(body, id: "gl-delivery-1", secret: Self.gitlabSigningToken)
            headers["X-Gitlab-Event"] = "Push Hook"
            headers["Idempotency-Key"] = "gl-delivery-1"
            try await client.execute(uri: config.endpoints[2].path, method: .post, headers: Self.fields(headers), body: ByteBuffer(bytes: body)) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "OK")
            }
            // Only a token, at the endpoint whose key is a signing token: refused.
            let tokenOnly = Self.fields(["X-Gitlab-Token": Self.gitlabSigningToken, "X-Gitlab-Event": "Push Hook"])
            try await client.execute(uri: config.endpoints[2].path, method: .post, headers: tokenOnly, body: ByteBuffer(bytes: body)) { response in
                #expect(response.status == .unauthorized)
                #expect(String(buffer: response.body) == "signature required")
            }
            // The classic endpoint still takes X-Gitlab-Token.
            let classic = Self.fields(["X-Gitlab-Token": "gitlab-token", "X-Gitlab-Event": "Push Hook", "Idempotency-Key": "gl-delivery-2"])
            try await client.execute(uri: config.endpoints[1].path, method: .post, headers: classic, body: ByteBuffer(bytes: body)) {
                #expect($0.status == .ok)
            }
        }
        #expect(sink.all.count == 2)
        let signed = try #require(try JSONSerialization.jsonObject(with: Data(sink.all[0].utf8)) as? [String: Any])
        #expect(signed["endpoint"] as? String == "gl-signed")
        #expect(signed["branch"] as? String == "master")
        #expect(signed["delivery"] as? String == "gl-delivery-1")
    }

    @Test func genericHMACTriggersTheLogAction() async throws {
        let flux = try await RecordingServer.start()
        defer { Task { await flux.stop() } }
        let sink = LineSink()
        try await Harness.withServer(downstream: flux, extraYAML: """
              - name: hmac-live
                source: GenericHMAC
                keyPath: hmac.key
                signature: {header: X-Hub-Signature-256, algorithm: sha256, prefix: "sha256="}
                notify: [log]
                delivery: sync
            """, sink: sink, files: ["hmac.key": "generic-hmac-secret"]) { client, config in
            let body = Data(#"{"pipeline":"nightly"}"#.utf8)
            let good = Self.fields(["X-Hub-Signature-256": "sha256=" + Python.hmacHex(key: "generic-hmac-secret", body: body), "X-Request-Id": "ci-1"])
            try await client.execute(uri: config.endpoints[2].path, method: .post, headers: good, body: ByteBuffer(bytes: body)) {
                #expect($0.status == .ok)
            }
            let wrong = Self.fields(["X-Hub-Signature-256": "sha256=" + Python.hmacHex(key: "another-secret", body: body)])
            try await client.execute(uri: config.endpoints[2].path, method: .post, headers: wrong, body: ByteBuffer(bytes: body)) { response in
                #expect(response.status == .unauthorized)
                #expect(String(buffer: response.body) == "invalid signature")
            }
            try await client.execute(uri: config.endpoints[2].path, method: .post, body: ByteBuffer(bytes: body)) { response in
                #expect(response.status == .unauthorized)
                #expect(String(buffer: response.body) == "missing signature")
            }
        }
        #expect(sink.all.count == 1)
        let line = try #require(try JSONSerialization.jsonObject(with: Data(sink.all[0].utf8)) as? [String: Any])
        #expect(line["kind"] as? String == "trigger")
        #expect(line["event"] as? String == "trigger")
        #expect(line["delivery"] as? String == "ci-1")
    }

    /// A Generic trigger reconciles a Flux object and creates a PipelineRun (against a recording
    /// stand-in for the Kubernetes API); `fluxAPI` alone answers with a note instead.
    @Test func genericTriggerReconcilesAndCreates() async throws {
        let flux = try await RecordingServer.start()
        let api = try await RecordingServer.start()
        defer { Task { await flux.stop(); await api.stop() } }
        let kube = try KubeClient(connection: KubeConnection(
            server: api.baseURL, certificateAuthority: nil, credentials: .token("test-token"), namespace: "default", origin: "a recording server"))
        try await Harness.withServer(downstream: flux, extraYAML: """
              - name: nightly
                source: Generic
                keyPath: generic.key
                delivery: sync
                notify:
                  - reconcile: {namespace: flux-system, objects: [{kind: GitRepository, name: app}]}
                  - create:
                      namespace: ci
                      object:
                        apiVersion: tekton.dev/v1
                        kind: PipelineRun
                        metadata: {generateName: nightly-}
                        spec:
                          pipelineRef: {name: build}
                          params:
                            - {name: event, value: "$(hook.event)"}
                            - {name: delivery, value: "$(hook.deliveryID)"}
                            - {name: source, value: "$(hook.source)"}
                    when: {events: [trigger]}
                  - fluxAPI
              - name: generic-flux
                source: Generic
                keyPath: generic-flux.key
                delivery: sync
            """, files: ["generic.key": "generic-url-secret", "generic-flux.key": "another-url-secret"], kube: kube) { client, config in
            try await client.execute(uri: config.endpoints[2].path, method: .post, headers: [HTTPField.Name("X-Request-Id")!: "nightly-2024-05-01"], body: ByteBuffer()) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "OK")
            }
            try await client.execute(uri: config.endpoints[3].path, method: .post, body: ByteBuffer(string: "anything")) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "event trigger accepted; flux-api cannot act on a trigger event; nothing to notify")
            }
            #expect(try await metrics(client).contains(#"hookgate_requests_total{endpoint="generic-flux",source="Generic",outcome="ignored"} 1"#))
        }
        try await kube.shutdown()
        #expect(await flux.requests.isEmpty)
        let calls = await api.requests
        #expect(calls.count == 2)
        let patch = try #require(calls.first { $0.method == .patch })
        #expect(patch.path == "/apis/source.toolkit.fluxcd.io/v1/namespaces/flux-system/gitrepositories/app")
        #expect(patch.headers[.authorization] == "Bearer test-token")
        #expect(patch.body.contains(#"{"metadata":{"annotations":{"reconcile.fluxcd.io/requestedAt":"#))
        let create = try #require(calls.first { $0.method == .post })
        #expect(create.path == "/apis/tekton.dev/v1/namespaces/ci/pipelineruns")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(create.body.utf8)) as? [String: Any])
        let metadata = try #require(object["metadata"] as? [String: Any])
        #expect((metadata["name"] as? String)?.wholeMatch(of: /nightly-[0-9a-f]{10}/) != nil)
        #expect((metadata["labels"] as? [String: String])?["hookgate.io/event"] == "trigger")
        let params = try #require((object["spec"] as? [String: Any])?["params"] as? [[String: String]])
        #expect(params == [["name": "event", "value": "trigger"], ["name": "delivery", "value": "nightly-2024-05-01"], ["name": "source", "value": "Generic"]])
    }

    @Test func acrAndArtifactoryNotifyTheFluxAPI() async throws {
        let flux = try await RecordingServer.start()
        defer { Task { await flux.stop() } }
        try await Harness.withServer(downstream: flux, extraYAML: """
              - name: acr-live
                source: ACR
                keyPath: acr.key
                delivery: sync
              - name: jfrog-live
                source: Artifactory
                keyPath: jfrog.key
                registryHost: artifactory.example.com
                delivery: sync
            """, files: ["acr.key": "acr-bearer-key", "jfrog.key": "tell no one"]) { client, config in
            let acr = Fixtures.data("acr-push.json")
            try await client.execute(uri: config.endpoints[2].path, method: .post, headers: [.authorization: "Bearer acr-bearer-key", .contentType: "application/json"],
                                     body: ByteBuffer(bytes: acr)) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "OK")
            }
            try await client.execute(uri: config.endpoints[2].path, method: .post, body: ByteBuffer(bytes: acr)) { response in
                #expect(response.status == .unauthorized)
                #expect(String(buffer: response.body) == "missing token")
            }
            let docker = Fixtures.data("jfrog-docker-pushed-envelope.json")
            let signature = Python.hmacHex(key: "tell no one", body: docker)
            try await client.execute(uri: config.endpoints[3].path, method: .post, headers: [HTTPField.Name("X-JFrog-Event-Auth")!: signature],
                                     body: ByteBuffer(bytes: docker)) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: config.endpoints[3].path, method: .post, headers: [HTTPField.Name("X-JFrog-Event-Auth")!: "tell every one"],
                                     body: ByteBuffer(bytes: docker)) { response in
                #expect(response.status == .unauthorized)
            }
        }
        #expect(await flux.requests.map(\.body) == [
            #"{"Kind":"image","Source":{"Name":{"Domain":"myregistry.azurecr.io","Image":"hello-world"}}}"#,
            #"{"Kind":"image","Source":{"Name":{"Domain":"artifactory.example.com","Image":"library/ubuntu"}}}"#,
        ])
    }
}

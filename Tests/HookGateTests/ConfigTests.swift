import AsyncHTTPClient
import Foundation
import HTTPTypes
import HookGate
import HookGateTestSupport
import Logging
import Testing

/// Writes `files` (name → content) into a fresh folder and loads `config.yaml` from it.
@Suite struct ConfigTests {
    @Test func fluxRecvConfigKeepsFluxRecvURLs() throws {
        let config = try loadConfig("""
            fluxRecvVersion: 1
            endpoints:
            - source: GitHub
              keyPath: github.key
            - source: Nexus
              keyPath: nexus.key
              registryHost: nexus.example.com
            """, files: ["github.key": "secret\n", "nexus.key": "other"])
        #expect(config.format == .fluxRecv)
        #expect(config.api == "http://localhost:3030/api/flux")
        #expect(config.endpoints[0].fingerprint == Python.sha256Hex(Data("secret\n".utf8)))
        #expect(config.endpoints[1].fingerprint == Python.sha256Hex(Data("othernexus.example.com".utf8)))
        #expect(config.endpoints[0].settings(GitHubSettings.self)?.allowLegacySignature == true)
        #expect(config.endpoints[0].notify.map(\.spec.definition) == ["fluxAPI http://localhost:3030/api/flux"])
        #expect(config.warnings.contains { $0.message.contains("ends with a newline") })
    }

    @Test func sourcesMatchCaseInsensitivelyWithAliases() throws {
        let config = try loadConfig("""
            hookgateVersion: 1
            endpoints:
              - {source: github, keyPath: a}
              - {source: FORGEJO, keyPath: b}
              - {source: gogs, keyPath: c}
            """, files: ["a": "1", "b": "2", "c": "3"])
        #expect(config.endpoints.map(\.source) == [.gitHub, .gitea, .gitea])
        #expect(config.endpoints[0].settings(GitHubSettings.self)?.allowLegacySignature == false)
    }

    @Test func everyProblemAtOnceWithLines() {
        let found = problems("""
            hookgateVersion: 1
            endpionts: []
            endpoints:
              - source: GitHbu
                keyPath: missing.key
              - source: GitLab
                keyPath: empty.key
                colour: blue
              - source: Quay
                keyPath: same1
              - source: DockerHub
                keyPath: same2
              - source: DockerHub
                keyPath: a
                notify: [fluxapi]
            """, files: ["empty.key": "", "same1": "k", "same2": "k", "a": "z"])
        let text = found.map(\.description)
        #expect(found.count == 7, "\(text)")
        #expect(text.contains { $0.contains(":2: unknown key `endpionts`") && $0.contains("did you mean `endpoints`?") })
        #expect(text.contains { $0.contains(":4: `endpoints[0].source`: unknown source \"GitHbu\"") && $0.contains("did you mean `GitHub`?") })
        #expect(text.contains { $0.contains(":5: key file \"missing.key\"") && $0.contains("does not exist") })
        #expect(text.contains { $0.contains(":7: key file \"empty.key\"") && $0.contains("is empty") })
        #expect(text.contains { $0.contains(":8: unknown key `endpoints[1].colour`") })
        #expect(text.contains { $0.contains(":11: endpoints[3] has the same URL as the endpoint at line 9") })
        #expect(text.contains { $0.contains(":15: `endpoints[4].notify[0]`: unknown action \"fluxapi\"") && $0.contains("did you mean `fluxAPI`?") })
    }

    @Test(arguments: [
        ("endpoints: []", "does not say which version"),
        ("fluxRecvVersion: 2\nendpoints: []", "unsupported `fluxRecvVersion: 2`"),
        ("hookgateVersion: 7\nendpoints: []", "unsupported `hookgateVersion: 7`"),
        ("fluxRecvVersion: 1\nhookgateVersion: 1", "both"),
        ("", "empty"),
        ("hookgateVersion: 1\nendpoints: [", "not valid YAML"),
    ])
    func versionsAndSyntax(_ yaml: String, _ expected: String) {
        let found = problems(yaml)
        #expect(found.count == 1)
        #expect(found.first?.description.contains(expected) == true, "\(found)")
        if expected != "empty" && expected != "not valid YAML" {
            #expect(found.first?.fix?.contains("hookgateVersion: 1") == true)
        }
    }

    /// Found by fuzzing (Fixtures/fuzz/regressions/config-duration-beyond-int64.txt): a duration
    /// beyond 64-bit milliseconds crashed the loader instead of being reported.
    @Test(arguments: ["1e300s", "1e19", "99999999999999999m", "inf", "infs"])
    func durationsBeyondRangeAreProblems(_ text: String) {
        #expect(DurationText.parse(text) == nil)
        let found = problems("hookgateVersion: 1\ndelivery: {duplicateWindow: \(text)}\nendpoints: []\n")
        #expect(found.map(\.message) == ["`delivery.duplicateWindow` must be a duration such as 500ms, 30s, 5m, 1h or 2d"])
    }

    @Test func keepDeliveredIsADuration() {
        #expect(DeliverySettings().keepDelivered == .seconds(86400))
        let found = problems("hookgateVersion: 1\ndelivery: {keepDelivered: forever}\nendpoints: []\n")
        #expect(found.map(\.message) == ["`delivery.keepDelivered` must be a duration such as 500ms, 30s, 5m, 1h or 2d"])
        #expect(problems("hookgateVersion: 1\ndelivery: {keepDelivered: 2h}\nendpoints: []\n").isEmpty)
    }

    @Test func largestDurations() {
        #expect(DurationText.parse("9e15") == .milliseconds(9_000_000_000_000_000_000))
        #expect(DurationText.parse("106751991167d") == .milliseconds(9_223_372_036_828_800_000))
    }

    @Test func fluxRecvConfigsRejectHookgateKeys() {
        let found = problems("""
            fluxRecvVersion: 1
            endpoints:
            - source: GitHub
              keyPath: k
              notify: [log]
            """, files: ["k": "x"])
        #expect(found.map(\.description).contains { $0.contains(":5: unknown key `endpoints[0].notify`") })
    }

    @Test func hookgateOptions() throws {
        let config = try loadConfig("""
            hookgateVersion: 1
            api: http://flux:3030/api/flux
            limits:
              maxBodySize: 1MiB
            endpoints:
              - name: gh
                source: GitHub
                keyPath: k
                allowLegacySignature: true
                notify:
                  - log
                  - fluxAPI:
                      url: http://other:3030/api/flux
                  - fluxAPI
              - source: GoogleContainerRegistry
                keyPath: g
                gcr: {audience: aud, email: pub@example.iam.gserviceaccount.com, keysURL: "http://127.0.0.1:1/certs"}
            """, files: ["k": "x", "g": "y"])
        #expect(config.limits.maxBodyBytes == 1 << 20)
        #expect(config.endpoints[0].name == "gh")
        #expect(config.endpoints[0].notify.map(\.spec.definition) == ["log", "fluxAPI http://other:3030/api/flux", "fluxAPI http://flux:3030/api/flux"])
        #expect(config.endpoints[1].settings(GoogleContainerRegistrySettings.self)?.auth == GoogleAuthSettings(audience: "aud", email: "pub@example.iam.gserviceaccount.com", keysURL: "http://127.0.0.1:1/certs"))
        #expect(config.endpoints[1].name.hasPrefix("googlecontainerregistry-"))
    }

    @Test func unreadableConfigFile() {
        do {
            _ = try ConfigLoader.load(path: "/nonexistent/hookgate.yaml")
            Issue.record("loaded a missing file")
        } catch {
            #expect(error.problems.first?.description.contains("cannot read the config file") == true)
        }
    }

    @Test func keysNeverShowInDescriptions() {
        let key = EndpointKey("topsecret")
        #expect(!"\(key)".contains("topsecret"))
    }

    @Test func idAndKeyPathsMakeAStableURLThatAnyKeyVerifies() async throws {
        let config = try loadConfig("""
            hookgateVersion: 1
            endpoints:
              - {name: app, id: org-app, source: GitHub, keyPaths: [old.key, new.key], notify: [log]}
              - {name: plain, source: GitHub, keyPaths: [new.key, old.key], notify: [log]}
            """, files: ["old.key": "old-secret", "new.key": "new-secret\n"])
        #expect(config.endpoints[0].path == "/hook/org-app")
        #expect(config.endpoints[0].key.fileCount == 2)
        // Without `id`, the URL is flux-recv's: the first key file's fingerprint.
        #expect(config.endpoints[1].path == "/hook/" + Python.sha256Hex(Data("new-secret\n".utf8)))
        #expect(config.warnings.contains { $0.message.contains("`endpoints[1].keyPaths` without `id`") })
        #expect(config.warnings.contains { $0.file.hasSuffix("new.key") && $0.message.contains("ends with a newline") })
        #expect(config.files.count == 3)

        let body = Data(#"{"zen":"rotate"}"#.utf8)
        let provider = ProviderFactory.make(for: config.endpoints[0], googleKeys: GoogleKeyStore(client: .shared, logger: Logger(label: "test")))
        func verify(signedWith key: String) async -> Bool {
            let request = WebhookRequest(
                headers: [HTTPField.Name("X-GitHub-Event")!: "ping", HTTPField.Name("X-Hub-Signature-256")!: "sha256=" + Python.hmacHex(key: key, body: body)],
                body: body)
            do {
                try await provider.verify(request)
                return true
            } catch {
                return false
            }
        }
        for key in ["old-secret", "new-secret", "new-secret\n"] {
            #expect(await verify(signedWith: key), "signed with \(key.debugDescription)")
        }
        #expect(await !verify(signedWith: "another-secret"))
    }

    @Test func idAndKeyPathsMistakes() {
        let found = problems("""
            hookgateVersion: 1
            endpoints:
              - {name: a, source: GitHub, keyPath: k1, keyPaths: [k2]}
              - {name: b, source: GitHub, keyPaths: []}
              - {name: c, source: GitHub, keyPaths: [k1, k1]}
              - {name: d, id: "has/slash", source: GitHub, keyPath: k1}
              - {name: e, id: registry, source: DockerHub, keyPath: k2}
              - {name: f, id: shared, source: GitHub, keyPath: k1}
              - {name: g, id: shared, source: GitLab, keyPath: k2}
            """, files: ["k1": "one", "k2": "two"])
        let text = found.map(\.description)
        #expect(text.count == 6, "\(text)")
        #expect(text.contains { $0.contains(":3: `endpoints[0].keyPath` and `keyPaths` are both set") })
        #expect(text.contains { $0.contains(":4: `endpoints[1].keyPaths` must be a list of one or more key files") })
        #expect(text.contains { $0.contains(":5: `endpoints[2].keyPaths` lists \"k1\" twice") })
        #expect(text.contains { $0.contains(":6: `endpoints[3].id` \"has/slash\" cannot be a URL segment") })
        #expect(text.contains { $0.contains(":7: `endpoints[4].id` is the only guard of a DockerHub endpoint") && $0.contains("openssl rand -hex 16") })
        #expect(text.contains { $0.contains(":9: endpoints[6] has the same URL as the endpoint at line 8 (same `id`)") })
    }
}

import AsyncHTTPClient
import Foundation
import HTTPTypes
import HookGate
import HookGateTestSupport
import Testing

/// The settings of the newer sources: read, checked with file:line and a fix, warned about.
@Suite struct SourceConfigTests {
    static let whsec = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

    @Test func settingsAreRead() throws {
        let config = try loadConfig("""
            hookgateVersion: 1
            endpoints:
              - source: StandardWebhooks
                keyPath: sw.key
                timestampTolerance: 90s
                notify: [log]
              - source: gitlab
                keyPath: gl.key
                timestampTolerance: 2m
              - source: GenericHMAC
                keyPath: hmac.key
                notify: [log]
                signature: {header: X-Hub-Signature-256, algorithm: SHA256, prefix: "sha256=", encoding: hex}
              - source: genericHMAC
                keyPath: hmac2.key
                notify: [log]
              - source: AzureContainerRegistry
                keyPath: acr.key
                token: {header: X-Hook-Token}
              - source: ACR
                keyPath: acr2.key
                token: {prefix: "Token "}
              - source: acr
                keyPath: acr3.key
              - source: JFrog
                keyPath: jfrog.key
                registryHost: jfrog.example.com
              - source: Generic
                keyPath: generic.key
                notify: [log]
            """, files: ["sw.key": Self.whsec + "\n", "gl.key": "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", "hmac.key": "h", "hmac2.key": "h2",
                         "acr.key": "a", "acr2.key": "a2", "acr3.key": "a3", "jfrog.key": "j", "generic.key": "g"])
        let endpoints = config.endpoints
        #expect(endpoints.map(\.source) == [.standardWebhooks, .gitLab, .genericHMAC, .genericHMAC, .acr, .acr, .acr, .artifactory, .generic])
        #expect(endpoints[0].settings(SigningTimestampSettings.self)?.tolerance == .seconds(90))
        #expect(endpoints[1].settings(SigningTimestampSettings.self)?.tolerance == .seconds(120))
        #expect(endpoints[2].settings(GenericHMACSettings.self)?.format == SignatureFormat(header: HTTPField.Name("X-Hub-Signature-256")!, algorithm: .sha256, prefix: "sha256=", encoding: .hex))
        #expect(endpoints[3].settings(GenericHMACSettings.self)?.format == SignatureFormat())
        #expect(endpoints[4].settings(ACRSettings.self)?.token == TokenHeader(header: HTTPField.Name("X-Hook-Token")!, prefix: ""))
        #expect(endpoints[5].settings(ACRSettings.self)?.token == TokenHeader(header: .authorization, prefix: "Token "))
        #expect(endpoints[6].settings(ACRSettings.self)?.token == TokenHeader.bearer)
        #expect(endpoints[7].registryHost == "jfrog.example.com")
        #expect(endpoints[0].settings(SigningTimestampSettings.self)!.tolerance * 2 <= config.delivery.duplicateWindow)
        #expect(!config.warnings.contains { $0.message.contains("duplicateWindow") })
        #expect(!config.warnings.contains { $0.message.contains("registryHost") || $0.message.contains("carry no host") })
    }

    @Test func mistakesNameTheLineAndTheFix() {
        let found = problems("""
            hookgateVersion: 1
            endpoints:
              - source: StandardWebhooks
                keyPath: hex.key
              - source: GitLab
                keyPath: broken.key
              - source: GitHub
                keyPath: gh.key
                timestampTolerance: 5m
              - source: StandardWebhooks
                keyPath: sw.key
                timestampTolerance: soon
              - source: GenericHMAC
                keyPath: h1
                signature: {algoritm: sha256}
              - source: GenericHMAC
                keyPath: h2
                signature: {algorithm: md5, encoding: hex}
              - source: GenericHMAC
                keyPath: h3
                signature: {prefix: "sha256=", header: "bad header", encoding: base32}
              - source: ACR
                keyPath: acr
                token: {header: X-Token, scheme: Bearer}
              - source: GitLab
                keyPath: gl
                signature: {header: X-Gitlab-Token}
            """, files: ["hex.key": "423be8373b98a9ffccc10402cc033e77263e1cdf", "broken.key": "whsec_%%%", "gh.key": "k", "sw.key": Self.whsec,
                         "h1": "1", "h2": "2", "h3": "3", "acr": "a", "gl": "g"])
        let text = found.map(\.description)
        #expect(text.contains { $0.contains(":4: key file \"hex.key\"") && $0.contains("does not hold a signing secret written `whsec_<base64>`")
            && $0.contains("hookgate keygen --source StandardWebhooks --out hex.key") }, "\(text)")
        #expect(text.contains { $0.contains(":6: key file \"broken.key\"") && $0.contains("starts with `whsec_` but what follows is not base64") })
        #expect(text.contains { $0.contains(":9: `endpoints[2].timestampTolerance` only applies to GitLab and StandardWebhooks endpoints") })
        #expect(text.contains { $0.contains(":12: `endpoints[3].timestampTolerance` must be a duration") })
        #expect(text.contains { $0.contains(":15: unknown key `endpoints[4].signature.algoritm`") && $0.contains("did you mean `algorithm`?") })
        #expect(text.contains { $0.contains(":18: `endpoints[5].signature.algorithm` must be sha1, sha256 or sha512, not \"md5\"") })
        #expect(text.contains { $0.contains(":21: `endpoints[6].signature.prefix` needs `algorithm`") })
        #expect(text.contains { $0.contains(":21: `endpoints[6].signature.header`: \"bad header\" is not a header name") })
        #expect(text.contains { $0.contains(":21: `endpoints[6].signature.encoding` must be hex or base64") })
        #expect(text.contains { $0.contains(":24: unknown key `endpoints[7].token.scheme`") })
        #expect(text.contains { $0.contains(":27: `endpoints[8].signature` only applies to GenericHMAC endpoints") })
        #expect(found.count == 11, "\(text)")
    }

    @Test func warnings() throws {
        let config = try loadConfig("""
            hookgateVersion: 1
            delivery: {duplicateWindow: 5m}
            endpoints:
              - source: StandardWebhooks
                keyPath: sw.key
              - source: Generic
                keyPath: g.key
              - source: ACR
                keyPath: acr.key
                token: false
                notify: [log]
              - source: Artifactory
                keyPath: jfrog.key
              - source: GitLab
                keyPath: gl.key
            """, files: ["sw.key": Self.whsec, "g.key": "g-key-0123456789", "acr.key": "a-key-0123456789", "jfrog.key": "j-key-0123456789",
                      "gl.key": "plain-token-0123456789"])
        let text = config.warnings.map(\.description)
        #expect(config.endpoints[2].settings(ACRSettings.self)?.token == nil)
        #expect(text.contains { $0.contains(":4: `delivery.duplicateWindow` is shorter than twice") && $0.contains("at least 10 min") }, "\(text)")
        #expect(text.contains { $0.contains(":4: StandardWebhooks deliveries name no git or image change, so `fluxAPI` has nothing to send") })
        #expect(text.contains { $0.contains(":6: Generic deliveries name no git or image change") && $0.contains("`reconcile`, `create` or `log`") })
        #expect(text.contains { $0.contains(":8: ACR endpoint with `token: false`: ACR signs nothing, so the URL is the only guard") })
        #expect(text.contains { $0.contains(":12: Artifactory does not say which registry it serves") && $0.contains("registryHost") })
        #expect(!text.contains { $0.contains(":14:") }, "a GitLab token key has no timestamp, so no replay window to warn about")
        #expect(config.warnings.count == 5, "\(text)")
    }

    /// `keygen --source StandardWebhooks` writes a secret the config takes and Python's hmac signs with.
    @Test func keygenMakesAStandardWebhooksSecret() async throws {
        let folder = Fixtures.temporaryDirectory()
        let result = HookGateProcess.run(["keygen", "--out", "sw.key", "--source", "standardwebhooks"], currentDirectory: folder)
        #expect(result.status == 0)
        #expect(result.stdout.contains("source: StandardWebhooks"))
        let secret = String(decoding: try #require(FileManager.default.contents(atPath: folder + "/sw.key")), as: UTF8.self)
        #expect(secret.hasPrefix("whsec_") && !secret.hasSuffix("\n"))
        #expect(Python.run("import base64, sys; sys.stdout.write(str(len(base64.b64decode(sys.argv[1][6:]))))", arguments: [secret]) == "32")
        let config = try loadConfig("hookgateVersion: 1\nendpoints: [{source: StandardWebhooks, keyPath: k, notify: [log]}]", files: ["k": secret])
        let body = Data(#"{"type":"ping"}"#.utf8)
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let headers = ["webhook-id": "m1", "webhook-timestamp": "1700000000",
                       "webhook-signature": standardSignature(secret: secret, id: "m1", timestamp: "1700000000", body: body)]
        #expect(try await deliver(to: config.endpoints[0], headers: headers, body: body, now: now) == [HookEvent(name: "ping", kind: .trigger)])
    }

    @Test func triggerRulesInConfig() throws {
        let config = try loadConfig("""
            hookgateVersion: 1
            endpoints:
              - source: Generic
                keyPath: g.key
                notify:
                  - log:
                    when: {events: [trigger]}
            """, files: ["g.key": "g"])
        let rule = config.endpoints[0].notify[0].rule
        #expect(rule.matches(HookEvent(name: "trigger", kind: .trigger)))
        #expect(!rule.matches(gitPush("refs/heads/main")))
    }
}

@Suite struct TriggerTests {
    let trigger = HookEvent(name: "invoice.paid", kind: .trigger)

    @Test func rulesWithoutGitOrImageConditionsMatchTriggers() {
        #expect(Rule.any.matches(trigger))
        #expect(Rule(events: [.trigger]).matches(trigger))
        #expect(Rule(events: [.trigger, .push]).matches(trigger))
        #expect(!Rule(events: [.push, .tag, .image]).matches(trigger))
        #expect(!Rule(events: [.trigger]).matches(gitPush("refs/heads/main")))
        #expect(!Rule(events: [.trigger]).matches(imagePush("ghcr.io/org/app:1")))
        for rule in [Rule(branches: [Glob("*")]), Rule(tags: [Glob("*")]), Rule(repositories: [Glob("**")]), Rule(paths: [Glob("**")]), Rule(images: [Glob("**")])] {
            #expect(!rule.matches(trigger), "a rule about git or image facts never matches a trigger")
        }
    }

    @Test func storedInTheQueueAndBack() throws {
        let data = try JSONEncoder().encode(trigger)
        #expect(String(decoding: data, as: UTF8.self).contains(#""kind":"trigger""#))
        #expect(try JSONDecoder().decode(HookEvent.self, from: data) == trigger)
        #expect(trigger.isNotifiable)
        #expect(trigger.kindName == "trigger")
    }

    @Test func fluxAPITakesOnlyGitAndImagePushes() {
        let flux = FluxAPIAction(url: "http://127.0.0.1:1/api/flux")
        #expect(!flux.accepts(trigger))
        #expect(flux.accepts(gitPush("refs/heads/main")))
        #expect(flux.accepts(imagePush("ghcr.io/org/app:1")))
        #expect(LogAction().accepts(trigger))
        #expect(FluxChange.json(for: trigger) == nil)
    }
}

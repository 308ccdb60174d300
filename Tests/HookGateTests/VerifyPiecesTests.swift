import Foundation
import HTTPTypes
import HookGate
import HookGateTestSupport
import Testing

/// The pieces of `hookgate verify`: reading a captured header block, finding the endpoint,
/// and saying why a rule does not act on an event.
@Suite struct CapturedHeadersTests {
    @Test func githubRecentDeliveriesPage() throws {
        let text = """
            Request URL: https://hooks.example.com/hook/abc123
            Request method: POST
            Accept: */*
            content-type: application/json
            User-Agent: GitHub-Hookshot/044aadd
            X-GitHub-Delivery: 6b5e8c1a-0d39-11ef-8e4b-2c7a6a1a7c6e
            X-GitHub-Event: push
            X-Hub-Signature-256: sha256=abcd
            """
        let captured = try CapturedHeaders.parse(text, file: "h.txt")
        #expect(captured.target == "https://hooks.example.com/hook/abc123")
        #expect(captured.method == "POST")
        #expect(captured.fields[.contentType] == "application/json")
        #expect(captured.fields[HTTPField.Name("x-github-event")!] == "push")
        #expect(captured.fields[HTTPField.Name("X-HUB-SIGNATURE-256")!] == "sha256=abcd")
        #expect(captured.fields.count == 6)
    }

    @Test func curlVerboseOutput() throws {
        let text = """
            *   Trying 127.0.0.1:8080...
            * Connected to 127.0.0.1 (127.0.0.1) port 8080
            > POST /hook/5aead63e HTTP/1.1\r
            > Host: 127.0.0.1:8080\r
            > User-Agent: curl/8.5.0\r
            > X-Gitlab-Event: Push Hook\r
            > X-Gitlab-Token: t0ken:with:colons\r
            > Content-Length: 12\r
            >\r
            } [12 bytes data]
            < HTTP/1.1 200 OK
            < Content-Type: text/plain
            """
        let captured = try CapturedHeaders.parse(text, file: "curl.txt")
        #expect(captured.method == "POST")
        #expect(captured.target == "/hook/5aead63e")
        #expect(captured.fields[HTTPField.Name("X-Gitlab-Token")!] == "t0ken:with:colons")
        #expect(captured.fields[.contentLength] == "12")
        #expect(captured.fields[.contentType] == nil, "response headers are not request headers")
        #expect(captured.fields.count == 5)
    }

    @Test func http2PseudoHeadersAndFoldedValues() throws {
        let text = ":method: POST\n:path: /hook/ff00\n:authority: h\nX-Long: part one\n\tpart two\nx-long-2: b"
        let captured = try CapturedHeaders.parse(text, file: "h2.txt")
        #expect(captured.method == "POST")
        #expect(captured.target == "/hook/ff00")
        #expect(captured.fields[HTTPField.Name("X-Long")!] == "part one part two")
        #expect(captured.fields.count == 2)
    }

    @Test func aBodyInTheHeadersFileIsAnErrorWithItsLine() {
        let text = "Content-Type: application/json\nX-GitHub-Event: push\n\n{\n  \"ref\": \"refs/heads/main\"\n}"
        #expect(throws: CaptureError.self) { try CapturedHeaders.parse(text, file: "h.txt") }
        do {
            _ = try CapturedHeaders.parse(text, file: "h.txt")
        } catch {
            #expect(error.line == 4)
            #expect(error.description.hasPrefix("h.txt:4: not a header line (`Name: value`)"))
            #expect(error.description.contains("the body goes in --body"))
        }
        do {
            _ = try CapturedHeaders.parse("\n\n", file: "empty.txt")
            Issue.record("an empty file parsed")
        } catch {
            #expect(error.description.hasPrefix("empty.txt: no headers found"))
        }
    }
}

@Suite struct EndpointLookupTests {
    @Test func byNamePathURLAndFingerprint() throws {
        let config = try loadConfig("""
            hookgateVersion: 1
            endpoints:
              - {name: gh, source: GitHub, keyPath: a.key}
              - {source: GitLab, keyPath: b.key}
              - {name: stable, id: team-app-hook, source: Gitea, keyPaths: [c.key, d.key]}
            """, files: ["a.key": "first key", "b.key": "second key", "c.key": "third key", "d.key": "fourth key"])
        let github = config.endpoints[0], gitlab = config.endpoints[1], stable = config.endpoints[2]
        #expect(try config.endpoint(identifiedBy: "/hook/team-app-hook").name == stable.name)
        #expect(try config.endpoint(identifiedBy: "https://hooks.example.com/hook/team-app-hook").name == stable.name)
        #expect(try config.endpoint(identifiedBy: String(stable.fingerprint.prefix(10))).name == stable.name)
        #expect(try config.endpoint(identifiedBy: "gh").fingerprint == github.fingerprint)
        #expect(try config.endpoint(identifiedBy: gitlab.name).fingerprint == gitlab.fingerprint)
        #expect(try config.endpoint(identifiedBy: gitlab.path).fingerprint == gitlab.fingerprint)
        #expect(try config.endpoint(identifiedBy: "https://hooks.example.com" + github.path + "?x=1").fingerprint == github.fingerprint)
        #expect(try config.endpoint(identifiedBy: String(github.fingerprint.prefix(8)).uppercased()).fingerprint == github.fingerprint)
        #expect(throws: EndpointLookupError.self) { try config.endpoint(identifiedBy: String(github.fingerprint.prefix(7))) }
        do {
            _ = try config.endpoint(identifiedBy: "nothing")
            Issue.record("found an endpoint")
        } catch {
            #expect(error.description.contains("no endpoint is named nothing"))
            #expect(error.description.contains("gh (GitHub, \(github.path))"))
            #expect(!error.description.contains("first key"))
        }
    }
}

@Suite struct RuleExplanationTests {
    static let push = HookEvent(name: "push", kind: .gitPush(GitPush(
        fullName: "org/app", sshURL: "git@h:org/app.git", httpsURL: nil, ref: "refs/heads/main", changedFiles: ["docs/a.md"])))
    static let tag = HookEvent(name: "push", kind: .gitPush(GitPush(fullName: "org/app", sshURL: "git@h:org/app.git", httpsURL: nil, ref: "refs/tags/v1")))
    static let odd = HookEvent(name: "push", kind: .gitPush(GitPush(fullName: "org/app", sshURL: "git@h:org/app.git", httpsURL: nil, ref: "refs/notes/x")))
    static let image = HookEvent(name: "push", kind: .imagePush(ImagePush(image: ImageReference(domain: "ghcr.io", repository: "org/app", tag: "1"))))
    static let ping = HookEvent(name: "ping", kind: .ping)

    static let rules: [Rule] = [
        .any,
        Rule(events: [.tag]), Rule(events: [.push, .tag]), Rule(events: [.image]),
        Rule(branches: [Glob("main")]), Rule(branches: [Glob("release/*")]), Rule(tags: [Glob("v*")]), Rule(tags: [Glob("x*")]),
        Rule(branches: [Glob("main")], tags: [Glob("v*")]),
        Rule(repositories: [Glob("org/*")]), Rule(repositories: [Glob("other/*")]),
        Rule(paths: [Glob("src/**")]), Rule(paths: [Glob("docs/**")]),
        Rule(images: [Glob("ghcr.io/org/*")]), Rule(images: [Glob("docker.io/*")]),
    ]

    /// `mismatch` and `matches` never disagree, over every rule and event above.
    @Test func mismatchAgreesWithMatches() {
        for rule in Self.rules {
            for event in [Self.push, Self.tag, Self.odd, Self.image, Self.ping] {
                #expect((rule.mismatch(event) == nil) == rule.matches(event), "\(rule.summary) on \(event)")
            }
        }
    }

    @Test func reasonsAndSummaries() {
        #expect(Rule.any.summary == "every git and image push and every trigger")
        #expect(Rule(events: [.tag, .push], branches: [Glob("main"), Glob("release/*")]).summary == "when: events push, tag; branches main, release/*")
        #expect(Rule(branches: [Glob("release/*")]).mismatch(Self.push) == "branch main matches none of its branches")
        #expect(Rule(branches: [Glob("main")]).mismatch(Self.tag) == "it names branches only, and this pushes tag v1")
        #expect(Rule(paths: [Glob("src/**")]).mismatch(Self.push) == "none of the 1 changed files matches its paths")
        #expect(Rule(images: [Glob("docker.io/*")]).mismatch(Self.image) == "image ghcr.io/org/app matches none of its images")
        #expect(Rule.any.mismatch(Self.ping) == "only git and image pushes and triggers are acted on")
    }
}

import AsyncHTTPClient
import Foundation
import HookGate
import HookGateTestSupport
import NIOCore
import NIOHTTP1
import Testing

/// `hookgate verify` and `hookgate send`, run as the built binary, as an operator runs them.
@Suite(.serialized) struct DiagnosticsCommandTests {
    static let githubKey = "423be8373b98a9ffccc10402cc033e77263e1cdf"

    /// A folder with `hookgate.yaml` and its key files.
    static func folder(_ yaml: String, keys: [String: String]) throws -> String {
        let folder = Fixtures.temporaryDirectory()
        for (name, key) in keys { try key.write(toFile: folder + "/" + name, atomically: true, encoding: .utf8) }
        try yaml.write(toFile: folder + "/hookgate.yaml", atomically: true, encoding: .utf8)
        return folder
    }

    static func write(_ text: String, to path: String) throws -> String {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func verifyExplainsAGoodAndATamperedGitHubCapture() throws {
        let folder = try Self.folder("""
            hookgateVersion: 1
            endpoints:
              - name: github
                source: GitHub
                keyPath: github.key
                notify:
                  - log
                  - fluxAPI: {url: http://flux.example:3030/api/flux}
                    when: {branches: ["release/*"]}
            """, keys: ["github.key": Self.githubKey])
        let config = folder + "/hookgate.yaml"
        let path = "/hook/" + Python.sha256Hex(Data(Self.githubKey.utf8))
        let body = Fixtures.data("github-push-branch-created-with-installation.json")
        let signature = "sha256=" + Python.hmacHex(key: Self.githubKey, body: body)
        // As GitHub's "Recent Deliveries" page shows it; the Request URL names the endpoint.
        let headers = try Self.write("""
            Request URL: https://hooks.example.com\(path)
            Request method: POST
            Accept: */*
            content-type: application/json
            User-Agent: GitHub-Hookshot/044aadd
            X-GitHub-Delivery: 8a5e3c20-0d39-11ef-9a0a-b5d1b3c4a5f6
            X-GitHub-Event: push
            X-GitHub-Hook-ID: 12345
            X-Hub-Signature-256: \(signature)
            Content-Length: \(body.count)
            """, to: folder + "/headers.txt")
        try body.write(to: URL(fileURLWithPath: folder + "/body.json"))

        let good = HookGateProcess.run(["verify", "--config", config, "--headers", headers, "--body", folder + "/body.json"])
        #expect(good.status == 0, "\(good.stdout)\(good.stderr)")
        #expect(good.stdout.contains("endpoint  github (GitHub, key file \(folder)/github.key, \(path))"))
        #expect(good.stdout.contains("checks    X-Hub-Signature-256: HMAC-SHA256 of the raw body"))
        #expect(good.stdout.contains("delivery  8a5e3c20-0d39-11ef-9a0a-b5d1b3c4a5f6"))
        #expect(good.stdout.contains("result    verified"))
        #expect(good.stdout.contains("event     push: git push of branch master in Codertocat/Hello-World"))
        #expect(good.stdout.contains("action    #1 log, for every git and image push and every trigger\n  acts on    push: git push of branch master"))
        #expect(good.stdout.contains("action    #2 fluxAPI http://flux.example:3030/api/flux/v11/notify, when: branches release/*"))
        #expect(good.stdout.contains("skips      push: git push of branch master in Codertocat/Hello-World at 6113728f27ae (git@github.com:Codertocat/Hello-World.git): branch master matches none of its branches"))
        #expect(good.stdout.contains("answer    200 queued"))

        var tampered = body
        tampered[tampered.startIndex + 20] ^= 0x01
        try tampered.write(to: URL(fileURLWithPath: folder + "/tampered.json"))
        let bad = HookGateProcess.run(["verify", "--config", config, "--endpoint", "github", "--headers", headers, "--body", folder + "/tampered.json"])
        #expect(bad.status == 1)
        #expect(bad.stdout.contains("result    NOT VERIFIED: X-Hub-Signature-256 (HMAC-SHA256) over the \(body.count)-byte body is valid for none of the endpoint's keys (1 key file, 1 candidate)"))
        #expect(bad.stdout.contains("hint      otherwise the secret set in GitHub differs from the key file"))
        #expect(bad.stdout.contains("answer    401 invalid signature"))
        #expect(!bad.stdout.contains("event "))
        #expect(!bad.stdout.contains(Self.githubKey))
        #expect(!bad.stdout.contains(String(Python.hmacHex(key: Self.githubKey, body: tampered).prefix(8))))

        // Saved by an editor that added a final newline: the capture's Content-Length and the signature both say so.
        try (body + Data("\n".utf8)).write(to: URL(fileURLWithPath: folder + "/newline.json"))
        let newline = HookGateProcess.run(["verify", "--config", config, "--headers", headers, "--body", folder + "/newline.json"])
        #expect(newline.status == 1)
        #expect(newline.stdout.contains("note      the headers say Content-Length \(body.count), but the body file has \(body.count + 1) bytes"))
        #expect(newline.stdout.contains("hint      the secret is right: the signature matches the body without its final newline"))
    }

    /// A published vector (go-playground's Bitbucket Server test), captured with `curl -v`.
    @Test func verifyReadsCurlVerboseOutput() throws {
        let folder = try Self.folder("""
            hookgateVersion: 1
            endpoints:
              - {name: bitbucket, source: BitbucketServer, keyPath: bb.key, notify: [log]}
              - {name: other, source: GitHub, keyPath: other.key, notify: [log]}
            """, keys: ["bb.key": "secret", "other.key": "other"])
        let headers = try Self.write("""
            *   Trying 127.0.0.1:8080...
            * Connected to hooks.example.com (127.0.0.1) port 8080
            > POST /hook/\(Python.sha256Hex(Data("other".utf8))) HTTP/1.1\r
            > Host: hooks.example.com\r
            > X-Event-Key: repo:refs_changed\r
            > X-Request-Id: 4c1b9a0e-7d1e-4f6e-9a57-3f0c2d1e5b6a\r
            > X-Hub-Signature: sha256=8a60f7487d167f55886df87d4077192035d76f76a8e0b3a48fd8ae8cad25f391\r
            > Content-Type: application/json; charset=UTF-8\r
            >\r
            < HTTP/1.1 200 OK
            """, to: folder + "/curl.txt")
        let result = HookGateProcess.run([
            "verify", "--config", folder + "/hookgate.yaml", "--endpoint", "bitbucket", "--headers", headers,
            "--body", Fixtures.path("bitbucket_server-repo_refs_changed-goplayground.json")])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("note      the capture was sent to endpoint other, not bitbucket"))
        #expect(result.stdout.contains("delivery  4c1b9a0e-7d1e-4f6e-9a57-3f0c2d1e5b6a"))
        #expect(result.stdout.contains("event     repo:refs_changed: branch feature/wip deleted in ~gopher/webhook-test"))
        #expect(result.stdout.contains("a deleted ref is acted on only by rules with `events: [delete]`"))
    }

    @Test func verifyUsageErrorsExit2() throws {
        let folder = try Self.folder("hookgateVersion: 1\nendpoints:\n  - {name: gh, source: GitHub, keyPath: gh.key}\n", keys: ["gh.key": "k"])
        let config = folder + "/hookgate.yaml"
        let headers = try Self.write("X-GitHub-Event: push\n", to: folder + "/h.txt")
        let body = try Self.write("{}", to: folder + "/b.json")
        let withBody = try Self.write("X-GitHub-Event: push\n\n{\"ref\": 1}\n", to: folder + "/hb.txt")
        let cases: [([String], String)] = [
            (["--config", config, "--endpoint", "gh", "--headers", headers], "Missing expected argument '--body <file>'"),
            (["--config", config, "--endpoint", "gh", "--headers", headers, "--body", body, "--bogus"], "Unknown option '--bogus'"),
            (["--config", config, "--endpoint", "gh", "--headers", folder + "/none.txt", "--body", body], "cannot read --headers"),
            (["--config", config, "--endpoint", "gh", "--headers", withBody, "--body", body], "hb.txt:3: `{\"ref\"` is not a header name"),
            (["--config", config, "--headers", headers, "--body", body], "give --endpoint"),
            (["--config", config, "--endpoint", "nope", "--headers", headers, "--body", body], "no endpoint is named nope"),
            (["--config", folder + "/missing.yaml", "--endpoint", "gh", "--headers", headers, "--body", body], "missing.yaml"),
        ]
        for (arguments, said) in cases {
            let result = HookGateProcess.run(["verify"] + arguments)
            #expect(result.status == 2, "\(arguments)")
            #expect(result.stderr.contains(said), "\(arguments): \(result.stderr)")
        }
    }

    /// Every source that can be signed, sent to a live `hookgate serve` whose endpoints all log:
    /// each is accepted and logged; what cannot be signed exits 2; a refusal exits 1 and the
    /// server's log says why.
    @Test func sendToALiveServerForEverySource() async throws {
        let sources: [(String, String)] = [
            ("GitHub", ""), ("GitLab", ""), ("BitbucketCloud", ""), ("BitbucketServer", ""), ("Gitea", ""),
            ("DockerHub", ""), ("Quay", ""), ("Harbor", ""), ("Nexus", ", registryHost: nexus.example.com"), ("GoogleContainerRegistry", ""),
            ("ACR", ""), ("Artifactory", ", registryHost: jfrog.example.com"), ("StandardWebhooks", ""), ("GenericHMAC", ""), ("Generic", ""),
        ]
        var keys: [String: String] = ["gcr-auth.key": "gcr-auth-key"]
        var yaml = "hookgateVersion: 1\nendpoints:\n"
        for (source, extra) in sources {
            keys[source + ".key"] = source == "StandardWebhooks" ? "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" : "key-of-\(source)"
            yaml += "  - {name: \(source.lowercased()), source: \(source), keyPath: \(source).key, notify: [log]\(extra)}\n"
        }
        yaml += "  - {name: gcr-auth, source: GoogleContainerRegistry, keyPath: gcr-auth.key, gcr: {audience: https://hooks.example.com}, notify: [log]}\n"
        let folder = try Self.folder(yaml, keys: keys)
        let config = folder + "/hookgate.yaml"
        let server = try await HookGateProcess.start(serve: ["serve", "--config", config, "--listen", "127.0.0.1:0", "--data-dir", folder + "/data"])
        defer { server.stop() }

        for (source, _) in sources {
            let result = HookGateProcess.run(["send", "--config", config, "--endpoint", source.lowercased(), "--url", server.baseURL])
            #expect(result.status == 0, "\(source): \(result.stdout)\(result.stderr)")
            #expect(result.stdout.contains("200 queued"), "\(source): \(result.stdout)")
        }
        let lines = await server.waitForStdoutLines(sources.count)
        #expect(lines.count == sources.count)
        for (source, _) in sources {
            #expect(lines.contains { $0.contains(#""endpoint":"\#(source.lowercased())""#) && $0.contains(#""source":"\#(source)""#) }, "\(source) was not logged")
        }
        #expect(lines.contains { $0.contains(#""source":"GitHub""#) && $0.contains(#""ref":"refs/heads/main""#) && $0.contains(#""repository":"hookgate/sample""#) })

        let tag = HookGateProcess.run(["send", "--config", config, "--endpoint", "gitlab", "--url", server.baseURL, "--ref", "refs/tags/v2.0.0", "--repo", "team/app"])
        #expect(tag.status == 0)
        #expect(await server.waitForStdoutLines(sources.count + 1).last?.contains(#""tag":"v2.0.0""#) == true)

        let ping = HookGateProcess.run(["send", "--config", config, "--endpoint", "github", "--event", "ping", "--url", server.baseURL])
        #expect(ping.status == 0)
        #expect(ping.stdout.contains("200 Pong"))

        let google = HookGateProcess.run(["send", "--config", config, "--endpoint", "gcr-auth", "--url", server.baseURL])
        #expect(google.status == 2)
        #expect(google.stderr.contains("Google's private key"))
        #expect(HookGateProcess.run(["send", "--config", config, "--endpoint", "gitlab", "--event", "ping"]).status == 2)
        #expect(HookGateProcess.run(["send", "--config", config, "--url", server.baseURL]).status == 2)

        // A GitLab sample posted to the GitHub endpoint's URL: refused, and the log names the wrong source.
        let githubURL = server.baseURL + "/hook/" + Python.sha256Hex(Data("key-of-GitHub".utf8))
        let wrong = HookGateProcess.run(["send", "--config", config, "--endpoint", "gitlab", "--url", githubURL])
        #expect(wrong.status == 1)
        #expect(wrong.stdout.contains("401 missing signature"))
        #expect(server.stderr.contains("the request carries X-Gitlab-Token, which GitLab sends: is `source: GitHub` right for this endpoint?"))

        // A proxy that adds a final newline: refused, and the log says the secret is right.
        let body = Fixtures.data("github-push-tag-deleted.json")
        var request = HTTPClientRequest(url: githubURL)
        request.method = .POST
        for (name, value) in ["X-GitHub-Event": "push", "Content-Type": "application/json",
                              "X-Hub-Signature-256": "sha256=" + Python.hmacHex(key: "key-of-GitHub", body: body)] {
            request.headers.add(name: name, value: value)
        }
        request.body = .bytes(ByteBuffer(bytes: body + Data("\n".utf8)))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        #expect(response.status.code == 401)
        #expect(String(buffer: try await response.body.collect(upTo: 1024)) == "invalid signature")
        #expect(server.stderr.contains("the secret is right: the signature matches the body without its final newline"))
        #expect(!server.stderr.contains("key-of-"))

        // Nothing listening: exit 1.
        let closed = HookGateProcess.run(["send", "--config", config, "--endpoint", "github", "--url", "http://127.0.0.1:1"])
        #expect(closed.status == 1)
        #expect(closed.stderr.contains("no answer from http://127.0.0.1:1/hook/"))
        #expect(await server.terminate() == 0)
    }

    @Test func helpExplainsFormatsAndExitCodes() {
        let verify = HookGateProcess.run(["verify", "--help"])
        #expect(verify.status == 0)
        #expect(verify.stdout.contains("Exits 0 when the request verifies"))
        #expect(verify.stdout.contains("curl -v"))
        #expect(verify.stdout.contains("Example"))
        let send = HookGateProcess.run(["send", "--help"])
        #expect(send.status == 0)
        #expect(send.stdout.contains("gcr.audience"))
        #expect(send.stdout.contains("Example"))
    }
}

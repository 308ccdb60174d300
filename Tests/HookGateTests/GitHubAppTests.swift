import AsyncHTTPClient
import Foundation
import HookGateTestSupport
import NIOCore
import Testing

@testable import HookGate

/// Issue 16's foundation: `githubApps:` config, the App JWT (checked by Python's `cryptography`),
/// and the API calls, against a fake GitHub API.
@Suite(.serialized) struct GitHubAppTests {
    static let key = FakeGitHubAPI.makeKey()

    static func config(_ app: String, key: String = GitHubAppTests.key.pkcs1, extra: [String: String] = [:]) throws(ConfigError) -> Config {
        try loadConfig("""
            hookgateVersion: 1
            githubApps:
              - \(app)
            endpoints:
              - {name: gh, source: GitHub, keyPath: github.key, notify: [log]}
            """, files: ["github.key": "github-key-0123456789abcdef", "app.pem": key].merging(extra) { $1 })
    }

    @Test func configReadsTheAppAndRefusesWhatCannotWork() throws {
        let app = try Self.config(#"{name: my-app, appID: 123456, privateKeyPath: app.pem, secrets: {namespace: ci, name: "gh-{account}"}}"#).githubApps[0]
        #expect(app.issuer == "123456" && app.apiURL == GitHubApp.defaultAPIURL && app.gitHost == "https://github.com")
        #expect(app.secrets.name(installation: 42, account: "My_Org") == "gh-my-org")
        let enterprise = try Self.config(#"{name: e, clientID: Iv23abc, privateKeyPath: app.pem, apiURL: "https://ghe.example.com/api/v3/", secrets: {namespace: ci}}"#, key: Self.key.pkcs8)
            .githubApps[0]
        #expect(enterprise.issuer == "Iv23abc" && enterprise.apiURL == "https://ghe.example.com/api/v3" && enterprise.gitHost == "https://ghe.example.com")
        #expect(enterprise.secrets.name(installation: 7, account: "x") == "github-app-7")

        func problems(_ app: String, key: String = Self.key.pkcs1) -> [String] {
            do { _ = try Self.config(app, key: key); return [] } catch { return error.problems.map(\.message) }
        }
        #expect(problems(#"{name: a, appID: 1, privateKeyPath: missing.pem, secrets: {namespace: ci}}"#).contains { $0.contains("missing.pem") && $0.contains("cannot be read") })
        #expect(problems(#"{name: a, appID: 1, privateKeyPath: app.pem, secrets: {namespace: ci}}"#, key: "not a key").contains { $0.contains("is not a PEM file") })
        let ecKey = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBv5XyDqXBYh2b1Y0U3d9LZ2+X1c0G7qZ4VYzQxJ2vZ4oAoGCCqGSM49\nAwEHoUQDQgAE\n-----END EC PRIVATE KEY-----\n"
        #expect(problems(#"{name: a, appID: 1, privateKeyPath: app.pem, secrets: {namespace: ci}}"#, key: ecKey).contains { $0.contains("is not an RSA private key") })
        #expect(problems(#"{name: a, appID: 1, privateKeyPath: app.pem, secrets: {namespace: ci, name: "gh-{repo}"}}"#).contains { $0.contains("placeholder other than") })
        #expect(problems(#"{name: a, appID: 1, privateKeyPath: app.pem, secrets: {namespace: ci, name: "shared"}}"#).contains { $0.contains("every installation would share one Secret") })
        #expect(problems(#"{name: a, appID: 1, clientID: x, privateKeyPath: app.pem, secrets: {namespace: ci}}"#).contains { $0.contains("both `appID` and `clientID`") })
        #expect(problems(#"{name: a, appID: 1, privateKeyPath: app.pem}"#).contains { $0.contains("needs `secrets") })
        #expect(problems(#"{name: a, appID: x1, privateKeyPath: app.pem, secrets: {namespace: ci}}"#).contains { $0.contains("numeric id") })
        // An endpoint names an App that exists, and only a GitHub endpoint can.
        func endpointProblems(_ endpoint: String) -> [String] {
            HookGateTestSupport.problems("""
                hookgateVersion: 1
                githubApps: [{name: my-app, appID: 1, privateKeyPath: app.pem, secrets: {namespace: ci}}]
                endpoints: [\(endpoint)]
                """, files: ["app.pem": Self.key.pkcs1, "k": "key-0123456789abcdef"]).map(\.message)
        }
        #expect(endpointProblems("{name: e, source: GitHub, keyPath: k, app: other}").contains { $0.contains("no GitHub App named \"other\"") })
        #expect(endpointProblems("{name: e, source: GitLab, keyPath: k, app: my-app}").contains { $0.contains("only a `source: GitHub` endpoint") })
        #expect(endpointProblems("{name: e, source: GitHub, keyPath: k, app: my-app}").isEmpty)
    }

    @Test func theJWTVerifiesWithTheAppsPublicKeyAndIsReused() async throws {
        let app = try Self.config(#"{name: my-app, appID: 4242, privateKeyPath: app.pem, secrets: {namespace: ci}}"#).githubApps[0]
        let jwt = AppJWT(app: app)
        let now = Date()
        let first = try jwt.token(now: now)
        #expect(try jwt.token(now: now.addingTimeInterval(7 * 60)) == first, "reused while more than a minute is left")
        let renewed = try jwt.token(now: now.addingTimeInterval(8 * 60 + 30))
        #expect(renewed != first)
        let keyFile = Fixtures.temporaryDirectory() + "/app.pub"
        try Self.key.publicKey.write(toFile: keyFile, atomically: true, encoding: .utf8)
        #expect(Python.run(FakeGitHubAPI.verifier, arguments: [keyFile, first, "4242"]) == "ok")
        #expect(Python.run(FakeGitHubAPI.verifier, arguments: [keyFile, first, "4243"]) == "iss is not the App")
        let other = FakeGitHubAPI.makeKey()
        let otherFile = Fixtures.temporaryDirectory() + "/other.pub"
        try other.publicKey.write(toFile: otherFile, atomically: true, encoding: .utf8)
        #expect(Python.run(FakeGitHubAPI.verifier, arguments: [otherFile, first, "4242"]) == "signature does not verify")
        // The claims as GitHub wants them: iat a minute back, exp nine minutes ahead.
        let claims = try #require(first.split(separator: ".").dropFirst().first.flatMap { Base64Text.decode($0.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")) })
        let decoded = try #require(try JSONSerialization.jsonObject(with: Data(claims)) as? [String: Any])
        #expect(decoded["iss"] as? String == "4242")
        #expect((decoded["exp"] as? Int ?? 0) - (decoded["iat"] as? Int ?? 0) == 600)
    }

    @Test func installationsAndTokensFromTheAPIAndEveryFailureSaysWhy() async throws {
        let api = try await FakeGitHubAPI.start(publicKey: Self.key.publicKey, issuer: "99")
        api.setInstallations((1...150).map { FakeGitHubAPI.Installation(id: 1000 + $0, account: "org-\($0)", suspended: $0 == 3) })
        api.setTokenLifetime(.seconds(1800))
        let app = try Self.config(#"{name: my-app, appID: 99, privateKeyPath: app.pem, apiURL: "\#(api.baseURL)", secrets: {namespace: ci}}"#).githubApps[0]
        let client = GitHubAppClient(app: app, client: .shared)
        // For the hanging API only: the fake checks each new JWT with a Python process, which a busy machine may take a second to start.
        let impatient = GitHubAppClient(app: app, client: .shared, timeout: .milliseconds(800))
        let installations = try await client.installations()
        #expect(installations.count == 150 && installations[2] == .init(id: 1003, account: "org-3", suspended: true))
        let token = try await client.token(installation: 1001)
        #expect(token.token.hasPrefix("ghs_") && abs(token.expiresAt.timeIntervalSinceNow - 1800) < 5)
        #expect(api.verifiedJWTs == 1, "one JWT for every call within its lifetime")

        func failure(_ call: () async throws -> Void) async -> GitHubAppClient.Failure? {
            do { try await call(); return nil } catch { return error as? GitHubAppClient.Failure }
        }
        let missing = await failure { _ = try await client.token(installation: 5) }
        #expect(missing?.cause == .notFound && missing?.description.contains("answered 404") == true)
        let suspended = await failure { _ = try await client.token(installation: 1003) }
        #expect(suspended?.cause == .forbidden)
        for (mode, cause) in [(FakeGitHubAPI.Mode.status(401), GitHubAppClient.Failure.Cause.unauthorized), (.status(500), .serverError), (.slow(.seconds(2)), .timeout)] {
            api.setMode(mode)
            let failed = await failure { _ = try await (cause == .timeout ? impatient : client).token(installation: 1001) }
            #expect(failed?.cause == cause, "\(mode)")
            #expect(!(failed?.description.contains("ghs_") ?? true) && !(failed?.description.contains("eyJ") ?? true))
        }
        api.setMode(.normal)
        // A key GitHub does not know: refused as unauthorized, with the likely reasons.
        let stranger = try Self.config(#"{name: x, appID: 99, privateKeyPath: app.pem, apiURL: "\#(api.baseURL)", secrets: {namespace: ci}}"#, key: FakeGitHubAPI.makeKey().pkcs1).githubApps[0]
        let refused = await failure { _ = try await GitHubAppClient(app: stranger, client: .shared).installations() }
        #expect(refused?.cause == .unauthorized && refused?.description.contains("does not match the private key") == true)
        #expect(api.refusedJWTs == 1)
        await api.stop()
    }

    /// `hookgate app check` with the built binary: installations, expiries and Secret names, never a token.
    @Test func appCheckShowsExpiriesNeverTokens() async throws {
        let api = try await FakeGitHubAPI.start(publicKey: Self.key.publicKey, issuer: "77")
        api.setInstallations([.init(id: 11, account: "Acme"), .init(id: 12, account: "old", suspended: true)])
        let folder = Fixtures.temporaryDirectory()
        try Self.key.pkcs1.write(toFile: folder + "/app.pem", atomically: true, encoding: .utf8)
        try "github-key-0123456789abcdef".write(toFile: folder + "/github.key", atomically: true, encoding: .utf8)
        try """
            hookgateVersion: 1
            githubApps:
              - {name: my-app, appID: 77, privateKeyPath: app.pem, apiURL: "\(api.baseURL)", secrets: {namespace: ci, name: "gh-{account}"}}
            endpoints:
              - {name: gh, source: GitHub, keyPath: github.key, notify: [log]}
            """.write(toFile: folder + "/hookgate.yaml", atomically: true, encoding: .utf8)
        let result = HookGateProcess.run(["app", "check", "--config", folder + "/hookgate.yaml"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("my-app: 2 installations") && result.stdout.contains("ci/gh-acme") && result.stdout.contains("suspended: no token"))
        #expect(result.stdout.contains("token expires"))
        for (_, token) in api.issued { #expect(!result.stdout.contains(token) && !result.stderr.contains(token)) }
        api.setMode(.status(401))
        let refused = HookGateProcess.run(["app", "check", "--config", folder + "/hookgate.yaml"])
        #expect(refused.status == 1 && refused.stderr.contains("answered 401"))
        await api.stop()
    }
}

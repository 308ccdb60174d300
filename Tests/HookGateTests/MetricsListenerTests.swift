import Foundation
import HookGate
import HookGateTestSupport
import Testing

/// `--metrics-listen`, with the built binary: `/metrics` leaves the webhook port, so an Ingress for
/// that port exposes only the hooks; probes answer on both.
@Suite struct MetricsListenerTests {
    static func config() throws -> String {
        let folder = Fixtures.temporaryDirectory()
        try "metrics-listen-key-0123456789abcdef".write(toFile: folder + "/k.key", atomically: true, encoding: .utf8)
        try "hookgateVersion: 1\nendpoints: [{name: gh, source: GitHub, keyPath: k.key, notify: [log]}]\n"
            .write(toFile: folder + "/hookgate.yaml", atomically: true, encoding: .utf8)
        return folder
    }

    @Test("with --metrics-listen, /metrics answers there and 404 on the webhook port; /health and /readyz answer on both")
    func metricsOffThePublicPort() async throws {
        let folder = try Self.config()
        let server = try await HookGateProcess.start(serve: [
            "serve", "--config", folder + "/hookgate.yaml", "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
            "--data-dir", folder + "/data"])
        defer { server.stop() }
        try await waitUntil { server.stderr.firstMatch(of: /metrics on 127\.0\.0\.1:(\d+)/) != nil }
        let port = try #require(server.stderr.firstMatch(of: /metrics on 127\.0\.0\.1:(\d+)/)).1
        let metricsBase = "http://127.0.0.1:\(port)"
        #expect(try await HardeningTests.get(server.baseURL + "/metrics").0 == 404)
        let (status, exposition) = try await HardeningTests.get(metricsBase + "/metrics")
        #expect(status == 200)
        #expect(exposition.contains("hookgate_"), "\(exposition.prefix(500))")
        for path in ["/health", "/readyz"] {
            #expect(try await HardeningTests.get(server.baseURL + path).0 == 200, "\(path)")
            #expect(try await HardeningTests.get(metricsBase + path).0 == 200, "\(path)")
        }
        // The hooks stay on the webhook port only.
        #expect(try await HardeningTests.get(metricsBase + "/hook/x").0 == 404)
        #expect(!server.stderr.contains("/metrics is served on the webhook listener"))
    }

    @Test("without --metrics-listen, /metrics stays on the webhook port, as flux-recv had it, with a warning")
    func metricsOnTheWebhookPortWarns() async throws {
        let folder = try Self.config()
        let server = try await HookGateProcess.start(serve: [
            "serve", "--config", folder + "/hookgate.yaml", "--listen", "127.0.0.1:0", "--data-dir", folder + "/data"])
        defer { server.stop() }
        #expect(try await HardeningTests.get(server.baseURL + "/metrics").0 == 200)
        #expect(server.stderr.contains("/metrics is served on the webhook listener"))
    }

    @Test("a --metrics-listen that is not an address is refused before anything starts")
    func badAddress() async throws {
        let folder = try Self.config()
        let result = await HookGateProcess.runInBackground([
            "serve", "--config", folder + "/hookgate.yaml", "--listen", "127.0.0.1:8080", "--metrics-listen", "nowhere"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("--metrics-listen nowhere is not [host]:port"), "\(result.stderr)")
    }
}

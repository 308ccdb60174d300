import AsyncHTTPClient
import Dispatch
import Foundation
import HTTPTypes
import HookGate
import Logging
import Synchronization

/// Runs one fuzzer input through hookgate's parsers (see docs/fuzzing.md and ``FuzzInput``).
///
/// - A source's request goes to each of its endpoint variants: `deliveryID(of:)`, `verify` and,
///   whatever verification said, `parse`, then `RequestExplanation` (the `hookgate verify` path,
///   with its diagnosis of refusals). The request is then signed with the endpoint's key
///   (``FuzzSigner``) and verified and parsed again, so the code after verification is reached.
/// - `config` text goes to `ConfigLoader.parse`, with key paths resolved in ``keyFolder``; for each
///   endpoint of a valid config, `SampleWebhook` makes a signed sample that must verify and parse.
/// - `headers` text goes to `CapturedHeaders.parse`.
///
/// A crash is a finding. So is a broken invariant, returned in ``FuzzOutcome/problems``: a
/// correctly signed request that verification refuses, or a valid config whose sample is refused.
///
/// ```swift
/// let harness = try FuzzHarness()
/// let outcome = await harness.run(Data("GitHub\nX-GitHub-Event: push\n\n{}".utf8))
/// assert(outcome.problems.isEmpty)
/// ```
public struct FuzzHarness: Sendable {
    /// The clock every provider is given, so signed timestamps are judged the same in every run.
    public static let now = Date(timeIntervalSince1970: 1_750_000_000)

    /// The folder config inputs' key paths are resolved in: `fuzz.key`, `whsec.key`,
    /// `newline.key` (ending in a newline), `keys/github.key`, `empty.key`, and a Tekton template
    /// `pipelinerun.yaml`.
    public let keyFolder: String
    let googleKeys: GoogleKeyStore

    /// The files a config input may name, by path relative to ``keyFolder``.
    static let keyFiles: [String: String] = [
        "fuzz.key": FuzzEndpoints.secret,
        "whsec.key": FuzzEndpoints.signingSecret,
        "newline.key": FuzzEndpoints.secret + "\n",
        "keys/github.key": "hookgate-fuzz-github",
        "empty.key": "",
        "pipelinerun.yaml": """
            apiVersion: tekton.dev/v1
            kind: PipelineRun
            metadata: {generateName: build-}
            spec:
              pipelineRef: {name: build}
              params:
                - {name: repo-url, value: $(hook.repoURL)}
                - {name: revision, value: $(hook.revision)}
                - {name: branch, value: $(hook.branch)}
                - {name: changed-files, value: $(hook.changedFiles)}
            """,
    ]

    /// Writes the key files into a folder under the temporary directory (the same folder for every
    /// process of a user, written atomically, so parallel fuzzing jobs share it).
    public init() throws {
        let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("hookgate-fuzz-keys-\(getuid())")
        for (path, content) in Self.keyFiles {
            let url = folder.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            if (try? Data(contentsOf: url)) != Data(content.utf8) { try Data(content.utf8).write(to: url, options: .atomic) }
        }
        keyFolder = folder.path
        // Never reaches the network: FuzzEndpoints.offlineGoogleAuth's URL is refused before any I/O,
        // and config inputs' Google endpoints are never verified.
        googleKeys = GoogleKeyStore(client: .shared, logger: Logger(label: "hookgate-fuzz", factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    /// Runs `bytes`; the outcome lists every broken invariant.
    public func run(_ bytes: Data) async -> FuzzOutcome {
        var outcome = FuzzOutcome()
        guard let input = FuzzInput(bytes) else { return outcome }
        switch input.target {
        case .source(let source):
            for endpoint in FuzzEndpoints.variants(of: source) {
                await run(WebhookRequest(headers: input.headers, body: input.body), at: endpoint, into: &outcome)
            }
        case .config:
            await runConfig(String(decoding: input.body, as: UTF8.self), into: &outcome)
        case .capturedHeaders:
            do {
                let captured = try CapturedHeaders.parse(String(decoding: input.body, as: UTF8.self), file: "fuzz.headers")
                outcome.accepted += captured.fields.isEmpty ? 0 : 1
            } catch {
                _ = error.description
            }
        }
        return outcome
    }

    /// ``run(_:)`` for libFuzzer's synchronous entry point: runs it in a task and waits, on a
    /// thread that is not one of the concurrency pool's, so the wait cannot starve the task.
    public func runBlocking(_ bytes: Data) -> FuzzOutcome {
        let result = Result()
        let done = DispatchSemaphore(value: 0)
        Task {
            let outcome = await run(bytes)
            result.outcome.withLock { $0 = outcome }
            done.signal()
        }
        done.wait()
        return result.outcome.withLock { $0 }
    }

    private final class Result: Sendable {
        let outcome = Mutex(FuzzOutcome())
    }

    private func run(_ request: WebhookRequest, at endpoint: Endpoint, into outcome: inout FuzzOutcome) async {
        let provider = ProviderFactory.make(for: endpoint, googleKeys: googleKeys, now: { Self.now })
        _ = provider.deliveryID(of: request)
        _ = try? await provider.verify(request)
        _ = try? provider.parse(request)
        _ = await RequestExplanation.explain(request, endpoint: endpoint, googleKeys: googleKeys).report

        guard let signed = FuzzSigner.sign(request, for: endpoint) else { return }
        do {
            try await provider.verify(signed.request)
            outcome.verified += 1
        } catch {
            if signed.mustVerify {
                outcome.problems.append("\(endpoint.name) (\(endpoint.source.rawValue)) refused a request signed with its key: \(error.status.code) \(error.reason)")
            }
            return
        }
        if let events = try? provider.parse(signed.request) { outcome.accepted += events.isEmpty ? 0 : 1 }
        _ = await RequestExplanation.explain(signed.request, endpoint: endpoint, googleKeys: googleKeys).answer
    }

    private func runConfig(_ text: String, into outcome: inout FuzzOutcome) async {
        // Reading a device (`keyPath: /dev/zero`, `/dev/stdin`) never ends; that is not a parser bug.
        guard !["/dev/", "/proc/", "/sys/"].contains(where: text.contains) else { return }
        let config: Config
        do {
            config = try ConfigLoader.parse(text, file: "fuzz.yaml", folder: keyFolder)
        } catch {
            _ = error.description
            return
        }
        outcome.accepted += 1
        _ = config.warnings.map(\.description)
        for endpoint in config.endpoints where usesOnlyHarnessKeys(endpoint) {
            await checkSample(of: endpoint, into: &outcome)
        }
    }

    /// A sample of a valid config's endpoint must verify and parse to at least one event.
    private func checkSample(of endpoint: Endpoint, into outcome: inout FuzzOutcome) async {
        // Verifying a Pub/Sub token would fetch Google's keys from the fuzzed URL.
        guard endpoint.settings(GoogleContainerRegistrySettings.self)?.auth == nil else { return }
        let options = SampleWebhook.Options(deliveryID: "fuzz-delivery", date: Self.now)
        guard let sample = try? SampleWebhook.make(for: endpoint, options: options) else { return }
        let request = WebhookRequest(headers: sample.headers, body: sample.body)
        let provider = ProviderFactory.make(for: endpoint, googleKeys: googleKeys, now: { Self.now })
        let name = "the sample of config endpoint \(endpoint.name) (\(endpoint.source.rawValue))"
        do {
            try await provider.verify(request)
            outcome.verified += 1
            if try provider.parse(request).isEmpty { outcome.problems.append("\(name) parses to no event") }
        } catch {
            outcome.problems.append("\(name) is refused: \(error.status.code) \(error.reason)")
        }
    }

    /// True when every key file is one of the harness's (printable ASCII), which a sample can carry in a header.
    private func usesOnlyHarnessKeys(_ endpoint: Endpoint) -> Bool {
        endpoint.keyPaths.allSatisfy { path in
            path.hasPrefix(keyFolder + "/") && !path.contains("/.") && Self.keyFiles[String(path.dropFirst(keyFolder.count + 1))] != nil
        }
    }
}

/// What one input did: the invariants it broke, and how far it got (so tests can tell that the
/// harness reaches the code after verification).
public struct FuzzOutcome: Sendable, Equatable {
    /// Broken invariants, one sentence each; empty when all held.
    public var problems: [String] = []
    /// Signed requests and config samples that verified.
    public var verified = 0
    /// Verified requests that parsed to events, configs that loaded, header blocks that parsed.
    public var accepted = 0
}

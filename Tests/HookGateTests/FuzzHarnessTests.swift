import Foundation
import HTTPTypes
import HookGate
import HookGateFuzzing
import HookGateTestSupport
import Testing

/// The fuzz harness in the normal suite: every kept input (the seeds and the regressions under
/// Fixtures/fuzz) replayed through it, and its framing.
@Suite struct FuzzHarnessTests {
    static let harness: FuzzHarness = {
        do { return try FuzzHarness() } catch { fatalError("cannot make the fuzz harness: \(error)") }
    }()

    static let corpus: [FuzzCorpus.Entry] = {
        let folder = URL(fileURLWithPath: Fixtures.path("fuzz"))
        do {
            return try FuzzCorpus.entries(fuzzFolder: folder, repository: URL(fileURLWithPath: Fixtures.packageRoot))
        } catch {
            fatalError("cannot read the fuzz corpus: \(error)")
        }
    }()

    /// A crash here is a regression; so is a broken invariant (a signed request refused …).
    @Test(arguments: corpus)
    func replays(_ entry: FuzzCorpus.Entry) async {
        #expect(FuzzInput(entry.bytes) != nil, "the first line names no target")
        #expect(await Self.harness.run(entry.bytes).problems == [])
    }

    /// The harness signs what it can, so the fuzzer reaches the code after verification; and a
    /// valid config's samples verify.
    @Test func reachesVerifiedCode() async throws {
        let config = try #require(Self.corpus.first { $0.name == "seeds/config-everything.yaml" })
        let outcome = await Self.harness.run(config.bytes)
        #expect(outcome.problems == [])
        #expect(outcome.accepted == 1)
        // Every endpoint but the Pub/Sub one with `gcr` (whose token would need Google's keys).
        #expect(outcome.verified == 16)
    }

    @Test func corpusCoversEveryTarget() {
        let targets = Self.corpus.compactMap { FuzzInput($0.bytes)?.target }
        for source in Source.allCases {
            #expect(targets.contains(.source(source)), "no seed for \(source.rawValue)")
        }
        #expect(targets.contains(.config))
        #expect(targets.contains(.capturedHeaders))
    }

    @Test func decodesTheFraming() throws {
        let bytes = Data("gogs\r\nX-Gogs-Event: push\r\nnot a header\r\n: no name\r\nX-Empty:\n\n{\"a\":\r\n1}\n\n".utf8)
        let input = try #require(FuzzInput(bytes))
        #expect(input.target == .source(.gitea))
        #expect(input.headers[HTTPField.Name("X-Gogs-Event")!] == "push")
        #expect(input.headers[HTTPField.Name("X-Empty")!] == "")
        #expect(input.headers.count == 2)
        #expect(input.body == Data("{\"a\":\r\n1}\n\n".utf8))

        let config = try #require(FuzzInput(Data("Config\nhookgateVersion: 1\n\nendpoints: []\n".utf8)))
        #expect(config.target == .config)
        #expect(config.body == Data("hookgateVersion: 1\n\nendpoints: []\n".utf8))

        #expect(FuzzInput(Data("GitHib\n\n{}".utf8)) == nil)
        #expect(FuzzInput(Data()) == nil)
        #expect(FuzzInput(Data("headers".utf8))?.body == Data())
    }

    @Test(arguments: ["GitHub", "config", "headers"])
    func frameRoundTrips(_ target: String) throws {
        let body = Data("line 1\n\nline 3\r\n".utf8)
        let input = try #require(FuzzInput(FuzzInput.frame(target, headers: [("X-One", "1"), ("X-Two", "a: b")], body: body)))
        #expect(input.body == body)
        if case .source = input.target {
            #expect(input.headers[HTTPField.Name("X-Two")!] == "a: b")
        } else {
            #expect(input.headers.isEmpty)
        }
    }

    /// Every source's sample, framed as a fuzz input, passes (its endpoint variants include one
    /// whose key signed it only for some sources, so this runs the harness's signing for all).
    @Test(arguments: Source.allCases)
    func samplesPass(_ source: Source) async throws {
        let endpoint = Endpoint(source: source, keyPaths: ["k"], key: EndpointKey("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), notify: [Action(LogAction())])
        let sample = try SampleWebhook.make(for: endpoint, options: .init(date: FuzzHarness.now))
        let headers = sample.headers.map { ($0.name.rawName, $0.value) }
        let outcome = await Self.harness.run(FuzzInput.frame(source.rawValue, headers: headers, body: sample.body))
        #expect(outcome.problems == [])
        let unsigned: [Source] = [.dockerHub, .quay, .generic, .googleContainerRegistry]
        if !unsigned.contains(source) {
            // Every variant verifies but ACR's with `token: false`, which has nothing to sign.
            #expect(outcome.verified == FuzzEndpoints.variants(of: source).count - (source == .acr ? 1 : 0))
            #expect(outcome.accepted == outcome.verified)
        }
    }
}

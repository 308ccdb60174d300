import ArgumentParser
import AsyncHTTPClient
import Foundation
import HookGate
import HTTPTypes
import NIOCore
import NIOHTTP1

struct Send: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send a correctly signed sample webhook to a running hookgate and print its answer.",
        discussion: """
            Builds a realistic push of the endpoint's source (a ping with --event ping, where the
            source has one; a GitHub pull request with --event pullRequest), signs it the way that source signs with the endpoint's key, posts it
            and prints the answer: the "is it working?" check without a real push. Exits 0 on a 2xx
            answer, 1 on any other answer or no answer, 2 when nothing can be sent (usage, broken
            config, unknown endpoint, a GoogleContainerRegistry endpoint with gcr.audience, whose
            tokens only Google can sign).

            --url is the server's address (the endpoint's path is added when it has no path) or the
            whole URL; default http://127.0.0.1:8080 and the endpoint's path. Git sources take --ref
            (a bare name is a branch) and --repo owner/name; registry sources take --tag and --repo
            [host/]path. Samples list no changed files, so `paths:` rules let them through.

            Examples:
              hookgate send --config hookgate.yaml --endpoint github
              hookgate send --config hookgate.yaml --endpoint gitlab --ref refs/tags/v1.2.0 --repo team/app
              hookgate send --config hookgate.yaml --endpoint harbor --tag 1.4.2 --url https://hooks.example.com
            """
    )

    @OptionGroup var options: ConfigOptions

    @Option(help: ArgumentHelp("The endpoint: its name, its URL or /hook/ path, or its fingerprint (at least 8 hex digits).", valueName: "id"))
    var endpoint: String

    @Option(help: "push; ping for sources that have one (GitHub, BitbucketServer); pullRequest for GitHub.")
    var event = "push"

    @Option(help: ArgumentHelp("Where hookgate listens (its address, or the whole URL). Default: http://127.0.0.1:8080.", valueName: "url"))
    var url: String?

    @Option(help: ArgumentHelp("Git sources: the ref pushed. Default: refs/heads/main.", valueName: "ref"))
    var ref: String?

    @Option(help: ArgumentHelp("Registry sources: the tag pushed. Default: latest.", valueName: "tag"))
    var tag: String?

    @Option(help: ArgumentHelp("The repository (owner/name) or image ([host/]path). Default: hookgate/sample.", valueName: "name"))
    var repo: String?

    static let defaultBase = "http://127.0.0.1:8080"

    func run() async throws {
        let config: Config
        do { config = try options.load() } catch { throw ExitCode(2) }
        let chosen: Endpoint
        let sample: SampleWebhook
        do {
            chosen = try config.endpoint(identifiedBy: endpoint)
            sample = try SampleWebhook.make(for: chosen, options: .init(event: event, ref: ref, tag: tag, repository: repo))
        } catch let error as EndpointLookupError {
            throw usage(error.description)
        } catch let error as SampleWebhook.Problem {
            throw usage(error.description)
        }
        guard let target = Self.target(url ?? Self.defaultBase, path: chosen.path) else {
            throw usage("--url \(url ?? "") is not an http:// or https:// URL")
        }

        print("POST \(target)  (\(sample.summary))")
        var request = HTTPClientRequest(url: target)
        request.method = .POST
        for field in sample.headers { request.headers.add(name: field.name.rawName, value: field.value) }
        request.body = .bytes(ByteBuffer(bytes: sample.body))
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let status: UInt
        let answer: String
        do {
            let response = try await client.execute(request, timeout: .seconds(30))
            status = response.status.code
            answer = String(buffer: try await response.body.collect(upTo: 64 * 1024))
            try? await client.shutdown()
        } catch {
            try? await client.shutdown()
            printError("no answer from \(target): \(error); is hookgate serving there (hookgate serve --listen …)?")
            throw ExitCode(1)
        }
        print("\(status) \(answer.split(separator: "\n").first ?? "")")
        guard (200..<300).contains(status) else {
            switch status {
            case 401: printError("refused: hookgate's log (hook.reason) says why; is the server running with this config and key file?")
            case 404: printError("no endpoint at that path: is the server running with this config?")
            default: break
            }
            throw ExitCode(1)
        }
    }

    /// The URL to post to: `base` as given when it has a path, else `base` and the endpoint's path.
    static func target(_ base: String, path: String) -> String? {
        guard let components = URLComponents(string: base), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https", components.host?.isEmpty == false else { return nil }
        if components.path.isEmpty || components.path == "/" {
            var trimmed = base
            while trimmed.hasSuffix("/") { trimmed.removeLast() }
            return trimmed + path
        }
        return base
    }
}

import ArgumentParser
import AsyncHTTPClient
import Foundation
import HookGate
import Logging

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a captured request offline: would the endpoint accept it, and if not, why?",
        discussion: """
            Runs the endpoint's check and parsing on a saved request, as the server would, and shows
            the events and which actions would act on them. Refusals carry the same cause and hints
            as the server's log. Exits 0 when the request verifies and parses, 1 when it does not,
            2 when it cannot be checked (usage, unreadable file, broken config, unknown endpoint).

            --headers FILE holds the header block as a provider's "recent deliveries" page or
            `curl -v` shows it: `Name: value` lines (names in any case), optionally a request line
            (`POST /hook/… HTTP/1.1`) or GitHub's `Request URL:` line, which also name the endpoint
            when --endpoint is not given; curl's `> ` prefixes are removed and its `*`, `<`, `{`, `}`
            lines skipped. --body FILE holds the body's exact bytes: a body copied from a web page is
            usually re-indented and will not verify.

            Uses no network, except for GoogleContainerRegistry endpoints with gcr.audience, whose
            token check fetches Google's signing keys (and a token expires an hour after it was sent).

            Examples:
              hookgate verify --config hookgate.yaml --endpoint github --headers delivery.txt --body delivery.json
              hookgate verify --headers delivery.txt --body delivery.json   # endpoint from the request line
            """
    )

    @OptionGroup var options: ConfigOptions

    @Option(help: ArgumentHelp("The endpoint: its name, its URL or /hook/ path, or its fingerprint (at least 8 hex digits).", valueName: "id"))
    var endpoint: String?

    @Option(help: ArgumentHelp("The request's header block (see below).", valueName: "file"))
    var headers: String

    @Option(help: ArgumentHelp("The request's body, byte for byte.", valueName: "file"))
    var body: String

    func run() async throws {
        guard let headerText = FileManager.default.contents(atPath: headers) else { throw usage("cannot read --headers \(headers)") }
        guard let bodyData = FileManager.default.contents(atPath: body) else { throw usage("cannot read --body \(body)") }
        let captured: CapturedHeaders
        do {
            captured = try CapturedHeaders.parse(String(decoding: headerText, as: UTF8.self), file: headers)
        } catch {
            throw usage(error.description)
        }
        let config: Config
        do { config = try options.load() } catch { throw ExitCode(2) }

        var notes: [String] = []
        let sentTo = captured.target.flatMap { $0.contains("/hook/") ? $0 : nil }
        let chosen: Endpoint
        do {
            guard let id = endpoint ?? sentTo else {
                throw usage("give --endpoint (a name, a /hook/ URL or path, or a fingerprint); the headers file names no /hook/ URL")
            }
            chosen = try config.endpoint(identifiedBy: id)
        } catch let error as EndpointLookupError {
            throw usage(error.description)
        }
        if let sentTo, endpoint != nil {
            switch Result(catching: { () throws(EndpointLookupError) in try config.endpoint(identifiedBy: sentTo) }) {
            case .success(let other) where other.urlSegment != chosen.urlSegment:
                notes.append("the capture was sent to endpoint \(other.name), not \(chosen.name)")
            case .failure:
                notes.append("the capture was sent to a /hook/ URL that no endpoint of this config has; the server would answer 404 (is the provider's URL out of date?)")
            default:
                break
            }
        }
        if let method = captured.method, method != "POST" {
            notes.append("the capture's method is \(method); the server answers only POST (405 otherwise)")
        }
        if let auth = chosen.settings(GoogleContainerRegistrySettings.self)?.auth {
            notes.append("checking the token fetches Google's signing keys from \(auth.keysURL)")
        }

        var logger = Logger(label: "hookgate")
        logger.logLevel = .error
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let explanation = await RequestExplanation.explain(
            WebhookRequest(headers: captured.fields, body: bodyData), endpoint: chosen,
            googleKeys: GoogleKeyStore(client: client, logger: logger))
        try? await client.shutdown()

        for note in notes { print("note      " + note) }
        print(explanation.report)
        if !explanation.accepted { throw ExitCode(1) }
    }
}

/// Prints a usage problem and gives the exit code `verify` and `send` use for it.
func usage(_ message: String) -> ExitCode {
    printError("error: " + message)
    return ExitCode(2)
}

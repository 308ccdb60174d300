import ArgumentParser
import AsyncHTTPClient
import Foundation
import HookGate
import Logging

struct HooksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hooks",
        abstract: "Register an endpoint's webhook at its git host, list, remove, and recover missed deliveries (docs/git-hosts.md).",
        subcommands: [Register.self, List.self, Unregister.self, Recover.self])

    /// What every `hooks` subcommand needs: the endpoint, where the hook lives, the host's API.
    struct Target: ParsableArguments {
        @OptionGroup var options: ConfigOptions

        @Option(help: ArgumentHelp("The endpoint: its name, /hook/ path or fingerprint.", valueName: "name"))
        var endpoint: String

        @Option(help: ArgumentHelp("The URL the internet reaches hookgate at (default: the endpoint's register.publicURL).", valueName: "url"))
        var publicURL: String?

        @Option(help: ArgumentHelp("A repository (owner/name; GitLab group/project); repeatable. Default: the endpoint's register.repos and orgs.", valueName: "repo"))
        var repo: [String] = []

        @Option(help: ArgumentHelp("An organization (GitLab group, Bitbucket workspace); repeatable.", valueName: "org"))
        var org: [String] = []

        @Option(help: ArgumentHelp("The file holding the git host's API token (default: the endpoint's gitAPI.tokenPath).", valueName: "file"))
        var tokenFile: String?

        @Option(help: ArgumentHelp("The git host's API (default: the endpoint's gitAPI.url, else the public one: GitHub Enterprise https://HOST/api/v3, GitLab https://HOST/api/v4, Gitea https://HOST/api/v1).", valueName: "url"))
        var providerURL: String?

        /// The config and the endpoint named.
        func loadEndpoint() throws -> (config: Config, endpoint: Endpoint) {
            let config = try options.load()
            do { return (config, try config.endpoint(identifiedBy: self.endpoint)) } catch { throw ValidationError(error.description) }
        }

        /// The GitHub App whose webhook the endpoint receives, when nothing on the command line
        /// names repositories or a token instead.
        func app(of endpoint: Endpoint) -> GitHubApp? {
            guard repo.isEmpty, org.isEmpty, tokenFile == nil else { return nil }
            return endpoint.notify.lazy.compactMap { ($0.spec as? GitHubAppAction)?.app }.first
        }

        /// The endpoint, its host, its desired hook's URL base and its scopes; exits 1 (usage) when something is missing.
        func resolve() throws -> (config: Config, endpoint: Endpoint, kind: GitHostKind, api: GitAPI, publicURL: String, scopes: [HookScope]) {
            let (config, endpoint) = try loadEndpoint()
            guard let kind = GitHostKind.of(endpoint.source) else {
                throw ValidationError("\(endpoint.name) is a \(endpoint.source) endpoint; hookgate registers hooks with \(GitHostKind.all.map(\.source.rawValue).joined(separator: ", "))")
            }
            let settings = endpoint.gitHost
            guard let tokenPath = tokenFile ?? settings?.api?.tokenPath else {
                throw ValidationError("give --token-file, or `gitAPI: {tokenPath: FILE}` to the endpoint")
            }
            guard let url = providerURL ?? settings?.api?.url ?? kind.defaultAPIURL else {
                throw ValidationError("\(endpoint.source) has no public API: give --provider-url https://HOST/api/v1")
            }
            guard url.hasPrefix("https://") || url.hasPrefix("http://") else { throw ValidationError("--provider-url \(url) is not an http(s) URL") }
            guard let publicURL = publicURL ?? settings?.register?.publicURL else {
                throw ValidationError("give --public-url (the URL the internet reaches hookgate at), or `register: {publicURL: …}` to the endpoint")
            }
            guard publicURL.hasPrefix("https://") || publicURL.hasPrefix("http://") else { throw ValidationError("--public-url \(publicURL) is not an http(s) URL") }
            var scopes = repo.map(HookScope.repository) + org.map(HookScope.organization)
            if scopes.isEmpty { scopes = settings?.register?.scopes ?? [] }
            guard !scopes.isEmpty else { throw ValidationError("give --repo or --org, or `register: {repos: [...]}` to the endpoint") }
            return (config, endpoint, kind, GitAPI(url: url, tokenPath: tokenPath), publicURL, scopes)
        }
    }

    /// Runs `body` with an HTTP client that does not follow redirects (a token must not travel).
    static func withHost<T>(_ endpoint: Endpoint, _ api: GitAPI, _ body: (any GitHost) async throws -> T) async throws -> T {
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: HTTPClient.Configuration(redirectConfiguration: .disallow))
        do {
            let host = try GitHostKind.connect(endpoint, api: api, client: http, pacer: RateLimitPacer())
            let result = try await body(host)
            try? await http.shutdown()
            return result
        } catch let error as GitHostError {
            try? await http.shutdown()
            printError(error.description)
            throw ExitCode(1)
        } catch {
            try? await http.shutdown()
            throw error
        }
    }

    struct Register: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the endpoint's hook, or bring the one already pointing at its URL up to date.",
            discussion: """
                The hook gets the endpoint's URL, its secret (never printed), JSON content and the
                events its actions act on. Run it again at any time: it never makes a second hook.

                Example:
                  hookgate hooks register --config hookgate.yaml --endpoint github \\
                    --public-url https://hooks.example.com --repo acme/app --token-file github.token
                """)

        @OptionGroup var target: Target

        func run() async throws {
            let (_, endpoint, kind, api, publicURL, scopes) = try target.resolve()
            let desired: DesiredHook
            do { desired = try kind.desiredHook(for: endpoint, publicURL: publicURL) } catch { printError(error.description); throw ExitCode(1) }
            let changes = try await HooksCommand.withHost(endpoint, api) { host in
                await HookRegistrar().reconcile(desired, endpoint: endpoint.name, api: api.url, scopes: scopes, host: host)
            }
            for change in changes {
                print("\(change.scope): \(change.kind.rawValue) hook \(change.hookID ?? "-") → \(desired.url) (\(change.detail))")
            }
            if changes.contains(where: { $0.kind == .failed }) { throw ExitCode(1) }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the hooks that point at this hookgate (under the public URL's /hook/), with their last delivery.")

        @OptionGroup var target: Target

        func run() async throws {
            let (config, endpoint, kind, api, publicURL, scopes) = try target.resolve()
            let prefix = (publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL) + "/hook/"
            let mine = (try? kind.desiredHook(for: endpoint, publicURL: publicURL))?.url
            let failed = try await HooksCommand.withHost(endpoint, api) { host in
                var rows: [[String]] = []
                var failed = false
                for scope in scopes {
                    do {
                        for hook in try await host.hooks(in: scope) where hook.url.hasPrefix(prefix) {
                            let owner = hook.url == mine ? endpoint.name : config.endpoints.first { hook.url.hasSuffix($0.path) }?.name ?? "(no endpoint)"
                            rows.append([scope.description, hook.id, owner, hook.active ? "yes" : "no", hook.events.joined(separator: ","), hook.lastResult ?? "-", hook.url])
                        }
                    } catch {
                        failed = true
                        printError("\(scope): \(error)")
                    }
                }
                if rows.isEmpty { print("no hook points at \(prefix)") } else {
                    printTable(header: ["WHERE", "ID", "ENDPOINT", "ACTIVE", "EVENTS", "LAST DELIVERY", "URL"], rows: rows)
                }
                return failed
            }
            if failed { throw ExitCode(1) }
        }
    }

    struct Unregister: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove the hook pointing at the endpoint's URL (or the one --id names).")

        @OptionGroup var target: Target

        @Option(help: ArgumentHelp("Remove this hook (its id at the host) rather than the one at the endpoint's URL.", valueName: "id"))
        var id: String?

        func run() async throws {
            let (_, endpoint, _, api, publicURL, scopes) = try target.resolve()
            let url = GitHostKind.hookURL(publicURL: publicURL, endpoint: endpoint)
            let failed = try await HooksCommand.withHost(endpoint, api) { host in
                var failed = false
                for scope in scopes {
                    do {
                        let matching = try await host.hooks(in: scope).filter { id == nil ? $0.url == url : $0.id == id }
                        if matching.isEmpty { print("\(scope): no hook \(id.map { "with id \($0)" } ?? "points at \(url)")") }
                        for hook in matching {
                            try await host.delete(hook.id, in: scope)
                            print("\(scope): removed hook \(hook.id) → \(hook.url)")
                        }
                    } catch {
                        failed = true
                        printError("\(scope): \(error)")
                    }
                }
                return failed
            }
            if failed { throw ExitCode(1) }
        }
    }

    struct Recover: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ask the git host to send again the endpoint's failed deliveries that hookgate never accepted.",
            discussion: """
                Reads the accepted delivery ids from the queue in --data-dir (serve may be running).
                Prints each delivery asked for. GitHub keeps deliveries 3 days, GitLab 7.

                Example:
                  hookgate hooks recover --config hookgate.yaml --endpoint github --since 6h
                """)

        @OptionGroup var target: Target

        @Option(help: ArgumentHelp("How far back to look: 30m, 6h, 2d (default: the endpoint's recover.lookback, else 3h).", valueName: "duration"))
        var since: String?

        @Option(help: ArgumentHelp("The queue's folder, as given to serve.", valueName: "dir"))
        var dataDir: String = DataDirectory.default

        @Option(help: ArgumentHelp("Ask for at most this many deliveries.", valueName: "n"))
        var max: Int = 100

        @Flag(help: "Print what would be asked for; ask nothing.")
        var dryRun = false

        func run() async throws {
            let (_, endpoint) = try target.loadEndpoint()
            let lookback: Duration
            if let since {
                guard let parsed = DurationText.parse(since), parsed > .zero else { throw ValidationError("--since \(since) is not a duration such as 6h") }
                lookback = parsed
            } else {
                lookback = endpoint.gitHost?.recover?.lookback ?? .seconds(3 * 3600)
            }
            guard FileManager.default.fileExists(atPath: (dataDir as NSString).appendingPathComponent(DeliveryStore.fileName)) else {
                printError("no delivery queue in \(dataDir); pass the --data-dir that serve uses (it holds the ids hookgate accepted)")
                throw ExitCode(1)
            }
            var logger = Logger(label: "hookgate")
            logger.logLevel = .error
            let store = try await DeliveryStore.open(directory: dataDir, logger: logger)
            let name = endpoint.name, max = max, dryRun = dryRun
            let sinceDate = Date().addingTimeInterval(-Double(lookback.components.seconds))
            let run: @Sendable (any GitHost, String?, [HookScope]) async -> DeliveryRecovery.Report = { host, url, scopes in
                await DeliveryRecovery().run(
                    endpoint: name, hookURL: url, scopes: scopes, host: host, since: sinceDate, maxPerRun: max, dryRun: dryRun,
                    accepted: { id in await store.wasAccepted(endpoint: name, deliveryID: id, within: lookback) })
            }
            let report: DeliveryRecovery.Report
            if let app = target.app(of: endpoint) {
                // The App's own webhook, with its JWT.
                let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: HTTPClient.Configuration(redirectConfiguration: .disallow))
                do {
                    let host = try GitHostKind.connect(app: app, client: http, pacer: RateLimitPacer())
                    report = await run(host, nil, [.organization(app.name)])
                    try? await http.shutdown()
                } catch {
                    try? await http.shutdown()
                    await store.close()
                    printError("\(error)")
                    throw ExitCode(1)
                }
            } else {
                let (_, endpoint, _, api, publicURL, scopes) = try target.resolve()
                let url = GitHostKind.hookURL(publicURL: publicURL, endpoint: endpoint)
                report = try await HooksCommand.withHost(endpoint, api) { host in await run(host, url, scopes) }
            }
            await store.close()
            for (scope, delivery) in report.asked {
                let when = delivery.at.map { ISO8601DateFormatter().string(from: $0) } ?? "?"
                print("\(scope): \(dryRun ? "would ask" : "asked") for delivery \(delivery.deliveryID ?? delivery.id) (\(delivery.event ?? "event"), \(when), answered \(delivery.statusCode == 0 ? "nothing" : String(delivery.statusCode)))")
            }
            print("\(report.asked.count) \(dryRun ? "to ask for" : "asked for"), \(report.alreadyAccepted) failed at the host but accepted here, \(report.leftForLater) left over --max, \(report.examined) attempts looked at")
            for problem in report.problems { printError(problem) }
            if !report.problems.isEmpty { throw ExitCode(1) }
        }
    }
}


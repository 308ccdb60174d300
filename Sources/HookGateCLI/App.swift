import ArgumentParser
import AsyncHTTPClient
import Foundation
import HookGate

struct AppCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "app",
        abstract: "Work with the config's GitHub Apps (githubApps:).",
        subcommands: [CheckApp.self])

    struct CheckApp: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Sign in as each App, list its installations and mint a token for each; print expiries, never tokens.",
            discussion: """
                Shows that the App id, private key and API URL are right, and which Secret each
                installation's token will be kept in. Exits 1 when a call fails, saying why.

                Example:
                  hookgate app check --config hookgate.yaml --app my-app
                """)

        @OptionGroup var options: ConfigOptions

        @Option(help: ArgumentHelp("Only this App (its `name`).", valueName: "name"))
        var app: String?

        func run() async throws {
            let config = try options.load()
            let apps = config.githubApps.filter { app == nil || $0.name == app }
            guard !apps.isEmpty else {
                printError(app.map { "the config has no GitHub App named \($0)" } ?? "the config has no `githubApps:`")
                throw ExitCode(1)
            }
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            var failed = false
            let formatter = ISO8601DateFormatter()
            for app in apps {
                let client = GitHubAppClient(app: app, client: http)
                do {
                    let installations = try await client.installations()
                    print("\(app.name): \(installations.count) installation\(installations.count == 1 ? "" : "s") at \(app.apiURL)")
                    var rows: [[String]] = []
                    for installation in installations {
                        let secret = app.secrets.namespace + "/" + app.secrets.name(installation: installation.id, account: installation.account)
                        if installation.suspended {
                            rows.append([String(installation.id), installation.account, "suspended: no token", secret])
                            continue
                        }
                        do {
                            let token = try await client.token(installation: installation.id)
                            let minutes = Int(token.expiresAt.timeIntervalSinceNow / 60)
                            rows.append([String(installation.id), installation.account, "token expires \(formatter.string(from: token.expiresAt)) (in \(minutes) min)", secret])
                        } catch {
                            failed = true
                            rows.append([String(installation.id), installation.account, "FAILED: \(error)", secret])
                        }
                    }
                    if !rows.isEmpty { printTable(header: ["INSTALLATION", "ACCOUNT", "TOKEN", "SECRET"], rows: rows) }
                } catch {
                    failed = true
                    printError("\(app.name): \(error)")
                }
            }
            try? await http.shutdown()
            if failed { throw ExitCode(1) }
        }
    }
}

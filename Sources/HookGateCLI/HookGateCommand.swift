import ArgumentParser
import Foundation
import HookGate

@main
struct HookGateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hookgate",
        abstract: "Receive webhooks from git hosts and registries, verify them, and notify Flux.",
        discussion: """
            With no subcommand, hookgate serves, so it takes flux-recv's arguments unchanged:
              hookgate --config /etc/fluxrecv/fluxrecv.yaml --listen :8080
            """,
        version: HookGateVersion.current,
        subcommands: [Serve.self, Check.self, Endpoints.self, Keygen.self, DeliveriesCommand.self, Verify.self, Send.self, BackendsCommand.self, AppCommand.self, HooksCommand.self],
        defaultSubcommand: Serve.self
    )

    /// ArgumentParser's main, except that `verify` and `send`, which scripts call for a yes (0) or
    /// no (1), exit 2 on a usage error rather than 64.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure, let name = CommandLine.arguments.dropFirst().first, ["verify", "send"].contains(name) {
                printError(fullMessage(for: error))
                exit(withError: ExitCode(2))
            }
            exit(withError: error)
        }
    }
}

/// `--config`, shared by the commands that read one.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The config file (hookgateVersion: 1 or fluxRecvVersion: 1). Default: hookgate.yaml, or flux-recv's fluxrecv.yaml when only that exists.",
        valueName: "file"))
    var config: String?

    /// The file to read: `--config`, else `hookgate.yaml`, else flux-recv's default `fluxrecv.yaml`.
    var path: String {
        if let config { return config }
        if !FileManager.default.fileExists(atPath: "hookgate.yaml"), FileManager.default.fileExists(atPath: "fluxrecv.yaml") {
            return "fluxrecv.yaml"
        }
        return "hookgate.yaml"
    }

    /// Loads the config, or prints every problem to standard error and exits 1.
    func load() throws -> Config {
        let config = path
        do {
            return try ConfigLoader.load(path: config)
        } catch {
            printError("\(config): \(error.problems.count) problem\(error.problems.count == 1 ? "" : "s"); nothing was started:")
            for problem in error.problems { printError("  " + problem.description) }
            throw ExitCode(1)
        }
    }
}

func printError(_ text: String) {
    var standardError = StandardError()
    print(text, to: &standardError)
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        FileHandleWriter.writeToStandardError(string)
    }
}

/// The default `--data-dir`: relative, so it works both from a checkout and in the container
/// (whose working directory is /var/lib/hookgate).
enum DataDirectory {
    static let `default` = "hookgate-data"
}

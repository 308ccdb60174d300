import ArgumentParser
import HookGate

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a config and its key files; print every problem and exit 1, or exit 0.",
        discussion: """
            Warnings (a key file ending in a newline, a Nexus endpoint without registryHost …) are
            printed but do not fail the check.

            Example:
              hookgate check --config examples/quickstart/hookgate.yaml
            """
    )

    @OptionGroup var options: ConfigOptions

    func run() throws {
        let config = try options.load()
        for warning in config.warnings { printError("warning: " + warning.description) }
        let count = config.endpoints.count
        print("\(options.path): OK (\(config.format == .fluxRecv ? "fluxRecvVersion" : "hookgateVersion") 1, \(count) endpoint\(count == 1 ? "" : "s"))")
    }
}

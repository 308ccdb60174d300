import ArgumentParser
import HookGate

struct Endpoints: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print each endpoint's URL, ready to paste into the provider's webhook settings.",
        discussion: """
            Never prints a key. Without --base-url, prints URL paths.

            Example:
              hookgate endpoints --config fluxrecv.yaml --base-url https://hooks.example.com
            """
    )

    @OptionGroup var options: ConfigOptions

    @Option(help: ArgumentHelp("The public URL that routes to hookgate, for example https://hooks.example.com.", valueName: "url"))
    var baseURL: String?

    func run() throws {
        let config = try options.load()
        var base = baseURL ?? ""
        while base.hasSuffix("/") { base.removeLast() }
        printTable(header: ["SOURCE", "NAME", "KEY FILE", "URL"],
                   rows: config.endpoints.map { [$0.source.rawValue, $0.name, $0.keyPaths.joined(separator: ","), base + $0.path] })
    }
}

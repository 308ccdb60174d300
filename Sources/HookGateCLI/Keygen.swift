import ArgumentParser
import Foundation
import HookGate

struct Keygen: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make a new shared secret: 20 random bytes as hex (for StandardWebhooks, whsec_ and 32 bytes as base64), without a final newline.",
        discussion: """
            With --out, writes the key to FILE (mode 0600) and prints the config lines and the URL
            path; without it, prints the key on standard output and the rest on standard error.

            Examples:
              hookgate keygen --out keys/github.key
              kubectl create secret generic hookgate-keys --from-file=github.key=keys/github.key
            """
    )

    @Option(help: ArgumentHelp("Write the key to this file (mode 0600).", valueName: "file"))
    var out: String?

    @Option(help: "The source named in the printed config snippet.")
    var source: String = "GitHub"

    @Flag(help: "Replace --out if it exists.")
    var force = false

    func validate() throws {
        guard Source(configName: source) != nil else {
            throw ValidationError("unknown source \(source); sources: \(Source.allNames.joined(separator: ", "))")
        }
    }

    func run() throws {
        var generator = SystemRandomNumberGenerator()
        let sourceName = Source(configName: source)!.rawValue
        let signing = sourceName == Source.standardWebhooks.rawValue
        let bytes = (0..<(signing ? 32 : 20)).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let key = signing
            ? "whsec_" + Data(bytes).base64EncodedString()
            : bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
        let path = Endpoint.fingerprint(key: EndpointKey(key), registryHost: nil)
        var notes = ""
        if let out {
            if FileManager.default.fileExists(atPath: out), !force {
                throw ValidationError("\(out) exists; pass --force to replace it")
            }
            try? FileManager.default.removeItem(atPath: out)
            let folder = (out as NSString).deletingLastPathComponent
            if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
            guard FileManager.default.createFile(atPath: out, contents: Data(key.utf8), attributes: [.posixPermissions: 0o600]) else {
                throw ValidationError("cannot write \(out)")
            }
            notes += "wrote a new key to \(out) (mode 0600)\n"
        } else {
            print(key, terminator: "")
        }
        notes += """
            URL path: /hook/\(path)

            config lines (keyPath is relative to the config file's folder):
              endpoints:
                - source: \(sourceName)
                  keyPath: \(out ?? "<file holding the key>")

            """
        if out == nil { printError(notes) } else { print(notes, terminator: "") }
    }
}

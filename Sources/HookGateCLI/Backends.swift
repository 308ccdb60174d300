import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

struct BackendsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backends",
        abstract: "List, add and remove forward backends through a running hookgate's admin API.",
        discussion: """
            The server must run with --admin-listen and `admin: {tokenPath: …}` in its config.
            Added backends join a `backends:` group of the config, are stored in the queue's
            database, and survive restarts.

            Examples:
              hookgate backends list --admin-url http://127.0.0.1:9090 --token-file admin.token
              hookgate backends add https://cluster-c.example.com/hook --group clusters --admin-url http://127.0.0.1:9090 --token-file admin.token
              hookgate backends remove https://cluster-c.example.com/hook --group clusters --admin-url http://127.0.0.1:9090 --token-file admin.token
            """,
        subcommands: [List.self, Add.self, Remove.self])

    struct AdminOptions: ParsableArguments {
        @Option(help: ArgumentHelp("The admin API's base URL (the server's --admin-listen).", valueName: "url"))
        var adminURL: String

        @Option(help: ArgumentHelp("The file holding the admin token (the config's admin.tokenPath).", valueName: "file"))
        var tokenFile: String

        @Option(help: ArgumentHelp("The `backends:` group; needed when the config has more than one.", valueName: "name"))
        var group: String?

        /// Calls the admin API and prints its answer; exits 1 unless it is 2xx.
        func call(_ method: HTTPMethod, url backend: String? = nil) async throws {
            guard let token = FileManager.default.contents(atPath: tokenFile) else {
                printError("cannot read the token file \(tokenFile)")
                throw ExitCode(1)
            }
            let secret = String(decoding: token, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            var base = adminURL
            while base.hasSuffix("/") { base.removeLast() }
            var components = URLComponents(string: base + "/backends")
            if let group { components?.queryItems = [URLQueryItem(name: "group", value: group)] }
            guard let url = components?.string else {
                printError("--admin-url \(adminURL) is not a URL")
                throw ExitCode(1)
            }
            var request = HTTPClientRequest(url: url)
            request.method = method
            request.headers.add(name: "Authorization", value: "Bearer " + secret)
            if let backend {
                request.headers.add(name: "Content-Type", value: "application/json")
                let body = try JSONSerialization.data(withJSONObject: ["url": backend])
                request.body = .bytes(ByteBuffer(bytes: body))
            }
            let client = HTTPClient(eventLoopGroupProvider: .singleton)
            defer { _ = client.shutdown() }
            let response: HTTPClientResponse
            do {
                response = try await client.execute(request, timeout: .seconds(10))
            } catch {
                printError("cannot reach the admin API at \(adminURL): \(error)")
                throw ExitCode(1)
            }
            let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
            guard (200..<300).contains(response.status.code) else {
                printError("\(response.status.code): \(text)")
                throw ExitCode(1)
            }
            print(text)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a group's backends, from the config and added.")
        @OptionGroup var options: AdminOptions
        func run() async throws { try await options.call(.GET) }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a backend to a group (idempotent).")
        @Argument(help: "The backend's URL, exactly as requests should go to it.") var url: String
        @OptionGroup var options: AdminOptions
        func run() async throws { try await options.call(.POST, url: url) }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a backend added through the API.")
        @Argument(help: "The backend's URL, as it was added.") var url: String
        @OptionGroup var options: AdminOptions
        func run() async throws { try await options.call(.DELETE, url: url) }
    }
}

import Foundation
import Yams
import _CryptoExtras

/// One `githubApps:` entry: a GitHub App hookgate acts for, with the key it signs its JWTs with
/// and where its installations' Secrets go (docs/github-app.md).
public struct GitHubApp: Sendable, Equatable {
    public var name: String
    /// What the JWT's `iss` says: the App id, or its client id.
    public var issuer: String
    /// `https://api.github.com`, or `https://HOST/api/v3` on GitHub Enterprise Server; no final `/`.
    public var apiURL: String
    public var secrets: SecretNaming
    /// The key file, for messages.
    public var privateKeyPath: String
    let privateKey: PrivateKey

    /// The App's signing key; compared by its file's content, never printed.
    struct PrivateKey: Sendable, Equatable, CustomStringConvertible {
        let key: _RSA.Signing.PrivateKey
        let pem: String

        static func == (left: PrivateKey, right: PrivateKey) -> Bool { left.pem == right.pem }
        var description: String { "<redacted private key>" }
    }

    /// Where an installation's Secret goes: `namespace`, and `name` with `{installation}` (its id)
    /// and `{account}` (the organization's or user's login) filled in.
    public struct SecretNaming: Sendable, Equatable {
        public var namespace: String
        public var pattern: String

        static let placeholders = ["{installation}", "{account}"]

        /// The Secret's name for an installation: lowercase, characters a name cannot hold as `-`.
        public func name(installation: Int, account: String) -> String {
            let filled = pattern.replacingOccurrences(of: "{installation}", with: String(installation))
                .replacingOccurrences(of: "{account}", with: account)
            var name = String(filled.lowercased().map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") ? $0 : "-" }.prefix(253))
            while let last = name.last, !(last.isLetter || last.isNumber) { name.removeLast() }
            return name
        }

        /// Why `pattern` cannot name Secrets, or nil when it can.
        static func problem(with pattern: String) -> String? {
            var rest = pattern
            for placeholder in placeholders { rest = rest.replacingOccurrences(of: placeholder, with: "x1") }
            if rest.contains("{") || rest.contains("}") {
                return "\"\(pattern)\" has a placeholder other than {installation} and {account}"
            }
            if !placeholders.contains(where: pattern.contains) {
                return "\"\(pattern)\" has neither {installation} nor {account}, so every installation would share one Secret"
            }
            guard rest.count <= 253, rest.wholeMatch(of: /[a-z0-9]([a-z0-9.-]*[a-z0-9])?/) != nil else {
                return "\"\(pattern)\" does not make a Secret name (lowercase letters, digits, `-` and `.`, starting and ending with a letter or digit)"
            }
            return nil
        }
    }

    public static let defaultAPIURL = "https://api.github.com"

    /// The host tokens are for, as Tekton's `tekton.dev/git-0` annotation names it:
    /// `https://github.com`, or the Enterprise server's `https://HOST`.
    public var gitHost: String {
        guard let components = URLComponents(string: apiURL), let host = components.host else { return "https://github.com" }
        if host == "api.github.com" { return "https://github.com" }
        return "\(components.scheme ?? "https")://\(host)\(components.port.map { ":\($0)" } ?? "")"
    }

    public static func == (left: GitHubApp, right: GitHubApp) -> Bool {
        left.name == right.name && left.issuer == right.issuer && left.apiURL == right.apiURL && left.secrets == right.secrets
            && left.privateKey == right.privateKey
    }
}

/// Reads `githubApps:`.
enum GitHubAppLoader {
    static func read(_ object: YAMLObject, folder: String) -> [GitHubApp] {
        guard let nodes = object.sequence("githubApps") else { return [] }
        let reader = object.reader
        var apps: [GitHubApp] = []
        for (index, node) in nodes.enumerated() {
            guard let entry = reader.object(node, path: "githubApps[\(index)]") else { continue }
            if let app = readApp(entry, folder: folder) {
                if apps.contains(where: { $0.name == app.name }) {
                    reader.problem("`githubApps[\(index)].name` \(app.name) is used twice", at: entry["name"], fix: "give each App its own name")
                    continue
                }
                apps.append(app)
            }
        }
        return apps
    }

    private static func readApp(_ entry: YAMLObject, folder: String) -> GitHubApp? {
        let reader = entry.reader
        entry.rejectUnknownKeys(["name", "appID", "clientID", "privateKeyPath", "apiURL", "secrets"])
        let name = entry.string("name", required: true)
        if let name, name.wholeMatch(of: /[A-Za-z0-9][A-Za-z0-9._-]{0,62}/) == nil {
            reader.problem("`\(entry.qualified("name"))` must be letters, digits, `.`, `_` and `-`, starting with a letter or digit", at: entry["name"])
        }
        let issuer: String?
        switch (entry["appID"], entry["clientID"]) {
        case (let node?, nil):
            issuer = node.int.map(String.init)
            if issuer == nil { reader.problem("`\(entry.qualified("appID"))` must be the App's numeric id (its settings page shows it)", at: node) }
        case (nil, .some):
            issuer = entry.string("clientID", required: true)
        case (.some, .some):
            reader.problem("`\(entry.path)` has both `appID` and `clientID`", at: entry.node, fix: "keep one; GitHub accepts either as the JWT's issuer")
            issuer = nil
        case (nil, nil):
            reader.problem("`\(entry.path)` needs `appID` (or `clientID`)", at: entry.node, fix: "the App's settings page shows both")
            issuer = nil
        }
        let apiURL = (entry.string("apiURL") ?? GitHubApp.defaultAPIURL).trimmingSuffix("/")
        if URLComponents(string: apiURL).flatMap({ ["http", "https"].contains($0.scheme ?? "") && $0.host != nil ? $0 : nil }) == nil {
            reader.problem("`\(entry.qualified("apiURL"))` must be an http(s) URL", at: entry["apiURL"],
                fix: "`https://api.github.com`, or `https://HOST/api/v3` for GitHub Enterprise Server")
        }
        var secrets: GitHubApp.SecretNaming?
        if let object = reader.object(entry["secrets"], path: entry.qualified("secrets")) {
            object.rejectUnknownKeys(["namespace", "name"])
            let namespace = object.string("namespace", required: true)
            let pattern = object.string("name") ?? "github-app-{installation}"
            if let problem = GitHubApp.SecretNaming.problem(with: pattern) {
                reader.problem("`\(object.qualified("name"))`: \(problem)", at: object["name"], fix: "for example `github-app-{installation}` or `gh-{account}`")
            } else if let namespace {
                secrets = GitHubApp.SecretNaming(namespace: namespace, pattern: pattern)
            }
        } else if entry["secrets"] == nil {
            reader.problem("`\(entry.path)` needs `secrets: {namespace, name}`", at: entry.node, fix: "for example `secrets: {namespace: ci, name: \"github-app-{installation}\"}`")
        }
        let key = readKey(entry, folder: folder)
        guard let name, let issuer, let secrets, let key else { return nil }
        return GitHubApp(name: name, issuer: issuer, apiURL: apiURL, secrets: secrets, privateKeyPath: key.path, privateKey: key.key)
    }

    private static func readKey(_ entry: YAMLObject, folder: String) -> (path: String, key: GitHubApp.PrivateKey)? {
        let reader = entry.reader
        guard let configured = entry.string("privateKeyPath", required: true) else { return nil }
        let path = configured.hasPrefix("/") ? configured : (folder as NSString).appendingPathComponent(configured)
        reader.files.append(path)
        guard let data = FileManager.default.contents(atPath: path) else {
            reader.problem("private key file \"\(configured)\" (\(path)) cannot be read", at: entry["privateKeyPath"],
                fix: "mount the PEM GitHub gave when the key was generated; the path is relative to the config file's folder")
            return nil
        }
        let pem = String(decoding: data, as: UTF8.self)
        do {
            return (path, GitHubApp.PrivateKey(key: try _RSA.Signing.PrivateKey(pemRepresentation: pem), pem: pem))
        } catch {
            let what = pem.contains("-----BEGIN") ? "is not an RSA private key of 2048 bits or more" : "is not a PEM file"
            reader.problem("private key file \"\(configured)\" (\(path)) \(what)", at: entry["privateKeyPath"],
                fix: "use the .pem file from the App's settings (\"Generate a private key\"); PKCS#1 (BEGIN RSA PRIVATE KEY) and PKCS#8 (BEGIN PRIVATE KEY) both work")
            return nil
        }
    }
}

extension String {
    /// Without any trailing `suffix`es.
    func trimmingSuffix(_ suffix: String) -> String {
        var text = self
        while text.hasSuffix(suffix) { text.removeLast(suffix.count) }
        return text
    }
}

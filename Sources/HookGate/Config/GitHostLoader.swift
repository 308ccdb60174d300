import Foundation
import Yams

/// Reads an endpoint's `gitAPI`, `register` and `recover` (docs/git-hosts.md).
enum GitHostLoader {
    static let endpointKeys = ["gitAPI", "register", "recover"]

    static func read(_ item: YAMLObject, source: Source, app: Bool, folder: String) -> GitHostSettings? {
        guard item["gitAPI"] != nil || item["register"] != nil || item["recover"] != nil else { return nil }
        let reader = item.reader
        guard let kind = GitHostKind.of(source) else {
            let key = endpointKeys.first { item[$0] != nil } ?? "gitAPI"
            reader.problem("`\(item.qualified(key))`: hookgate registers hooks with \(GitHostKind.all.map(\.source.rawValue).joined(separator: ", ")) only, not \(source)",
                           at: item[key], fix: "remove `\(key)`, and register the hook in \(source)'s settings by hand")
            return nil
        }
        if app, item["register"] != nil {
            reader.problem("`\(item.qualified("register"))`: a GitHub App's webhook is the App's own, set in the App's settings, not a repository hook", at: item["register"],
                           fix: "remove `register` from the `app:` endpoint (`recover` works with the App's credentials)")
            return nil
        }
        var api: GitAPI?
        if item["gitAPI"] != nil {
            guard let read = readAPI(item, kind: kind, folder: folder) else { return nil }
            api = read
        } else if item["register"] != nil || (item["recover"] != nil && !app) {
            reader.problem("`\(item.qualified(item["register"] != nil ? "register" : "recover"))` calls the git host's API, and the endpoint has no `gitAPI`",
                           at: item["register"] ?? item["recover"], fix: "add `gitAPI: {tokenPath: FILE}` (a token with the scopes docs/git-hosts.md lists)")
            return nil
        }
        var settings = GitHostSettings(api: api)
        if let register = reader.object(item["register"], path: item.qualified("register")) {
            settings.register = readRegistration(register, source: source)
        }
        if let recover = reader.object(item["recover"], path: item.qualified("recover")) {
            settings.recover = readRecovery(recover, kind: kind, hasRegistration: settings.register != nil || app)
        }
        return settings
    }

    /// `gitAPI: {url, tokenPath}`; the token file must be readable now.
    private static func readAPI(_ item: YAMLObject, kind: GitHostKind, folder: String) -> GitAPI? {
        let reader = item.reader
        guard let apiObject = reader.object(item["gitAPI"], path: item.qualified("gitAPI")) else { return nil }
        apiObject.rejectUnknownKeys(["url", "tokenPath"])
        guard let url = apiObject.string("url") ?? kind.defaultAPIURL else {
            reader.problem("`\(apiObject.qualified("url"))` is missing: \(kind.source) has no public API to default to", at: apiObject.node,
                           fix: "add `url: https://HOST/api/v1`")
            return nil
        }
        guard url.hasPrefix("https://") || url.hasPrefix("http://"), URL(string: url)?.host != nil else {
            reader.problem("`\(apiObject.qualified("url"))` must be an http:// or https:// URL, not \"\(url)\"", at: apiObject["url"])
            return nil
        }
        guard let configured = apiObject.string("tokenPath", required: true) else { return nil }
        let tokenPath = configured.hasPrefix("/") ? configured : (folder as NSString).appendingPathComponent(configured)
        reader.files.append(tokenPath)
        let api = GitAPI(url: url, tokenPath: tokenPath)
        do {
            _ = try api.token()
        } catch {
            reader.problem("`\(apiObject.qualified("tokenPath"))`: \(error.description)", at: apiObject["tokenPath"],
                           fix: "mount the git host's token there (docs/git-hosts.md lists the scopes it needs)")
            return nil
        }
        return api
    }

    private static func readRegistration(_ object: YAMLObject, source: Source) -> GitHostSettings.Registration? {
        object.rejectUnknownKeys(["repos", "orgs", "publicURL", "every", "prune"])
        let reader = object.reader
        func names(_ key: String, repository: Bool) -> [String] {
            guard let nodes = object.sequence(key) else { return [] }
            var names: [String] = []
            for node in nodes {
                guard let name = node.string, node.scalar != nil, valid(name, repository: repository, source: source) else {
                    let shape = repository ? (source == .gitLab ? "group/project (groups may nest)" : "owner/name") : "a name"
                    reader.problem("`\(object.qualified(key))` entries must be \(shape) with letters, digits, `-`, `_` and `.`", at: node)
                    continue
                }
                names.append(name)
            }
            return names
        }
        let repos = names("repos", repository: true)
        let orgs = names("orgs", repository: false)
        if repos.isEmpty, orgs.isEmpty {
            reader.problem("`\(object.path)` names no repository or organization", at: object.node, fix: "add `repos: [owner/name]` or `orgs: [name]`")
        }
        guard let publicURL = object.string("publicURL", required: true) else { return nil }
        guard publicURL.hasPrefix("https://") || publicURL.hasPrefix("http://"), URL(string: publicURL)?.host != nil, !publicURL.contains("?") else {
            reader.problem("`\(object.qualified("publicURL"))` must be the http(s) URL the internet reaches hookgate at, not \"\(publicURL)\"", at: object["publicURL"],
                           fix: "for example `publicURL: https://hooks.example.com`")
            return nil
        }
        let every = duration(object, "every") ?? .seconds(600)
        guard !repos.isEmpty || !orgs.isEmpty else { return nil }
        return GitHostSettings.Registration(repos: repos, orgs: orgs, publicURL: publicURL, every: every, prune: object.bool("prune") ?? false)
    }

    private static func readRecovery(_ object: YAMLObject, kind: GitHostKind, hasRegistration: Bool) -> GitHostSettings.Recovery? {
        object.rejectUnknownKeys(["every", "lookback", "maxPerRun"])
        let reader = object.reader
        guard kind.recovers else {
            reader.problem("`\(object.path)`: \(kind.source) keeps no deliveries that its API can list or send again", at: object.node,
                           fix: "remove `recover`; \(GitHostKind.all.filter(\.recovers).map(\.source.rawValue).joined(separator: " and ")) offer it")
            return nil
        }
        guard hasRegistration else {
            reader.problem("`\(object.path)` looks for the hooks in `register`'s repos and orgs, and the endpoint has no `register`", at: object.node,
                           fix: "add `register: {repos: [...], publicURL: ...}`")
            return nil
        }
        let every = duration(object, "every") ?? .seconds(600)
        var lookback = duration(object, "lookback") ?? .seconds(3 * 3600)
        if lookback > kind.keepsDeliveries {
            reader.problem("`\(object.qualified("lookback"))` is longer than \(kind.source) keeps deliveries (\(DurationText.describe(kind.keepsDeliveries)))", at: object["lookback"])
            lookback = kind.keepsDeliveries
        }
        let maxPerRun = object.int("maxPerRun") ?? 50
        if maxPerRun < 1 { reader.problem("`\(object.qualified("maxPerRun"))` must be 1 or more", at: object["maxPerRun"]) }
        return GitHostSettings.Recovery(every: every, lookback: lookback, maxPerRun: max(1, maxPerRun))
    }

    private static func duration(_ object: YAMLObject, _ key: String) -> Duration? {
        guard let node = object[key] else { return nil }
        guard let value = DurationText.parse(node.string ?? ""), value > .zero else {
            object.reader.problem("`\(object.qualified(key))` must be a duration such as 30s, 10m or 3h", at: node)
            return nil
        }
        return value
    }

    /// A repository (`owner/name`; GitLab: nested groups) or organization name that is safe in a path.
    static func valid(_ name: String, repository: Bool, source: Source) -> Bool {
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        let shape = repository ? (source == .gitLab ? parts.count >= 2 : parts.count == 2) : (source == .gitLab ? parts.count >= 1 : parts.count == 1)
        return shape && parts.allSatisfy { part in
            !part.isEmpty && part != "." && part != ".." && part.count <= 100 && part.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
        }
    }
}

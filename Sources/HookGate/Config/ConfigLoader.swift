import Foundation
import Yams

/// Reads a config file, validates all of it, reads every key file, and reports every problem at
/// once. Nothing here binds a port or touches the network.
public enum ConfigLoader {
    /// The shortest `id` accepted for an endpoint whose URL is its only guard (128 bits as hex).
    static let minimumUnguardedIDLength = 32

    /// The versions a config may declare, for error messages.
    static let versionHelp = "start the file with `hookgateVersion: 1` (hookgate's schema) or `fluxRecvVersion: 1` (a flux-recv config)"

    /// Loads and validates the config at `path`.
    public static func load(path: String) throws(ConfigError) -> Config {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(problems: [
                ConfigProblem(file: path, line: nil, message: "cannot read the config file: \(describe(error))", fix: "check the path given to --config")
            ])
        }
        let folder = (path as NSString).deletingLastPathComponent
        return try parse(text, file: path, folder: folder.isEmpty ? "." : folder)
    }

    /// Validates config text; key paths are resolved against `folder`.
    public static func parse(_ text: String, file: String, folder: String) throws(ConfigError) -> Config {
        let reader = YAMLReader(file: file)
        let root: Node?
        do {
            try YAMLExpansion.check(text)
            root = try Yams.compose(yaml: text)
        } catch let error as YAMLExpansion.TooLarge {
            throw ConfigError(problems: [ConfigProblem(file: file, line: error.line, message: error.message, fix: YAMLExpansion.TooLarge.fix)])
        } catch let error as YamlError {
            throw ConfigError(problems: [yamlProblem(error, file: file)])
        } catch {
            throw ConfigError(problems: [ConfigProblem(file: file, line: nil, message: "not valid YAML: \(error)")])
        }
        guard let root else {
            throw ConfigError(problems: [ConfigProblem(file: file, line: nil, message: "the config file is empty", fix: versionHelp)])
        }
        guard let object = reader.object(root, path: "") else {
            throw ConfigError(problems: reader.problems)
        }
        guard let format = readVersion(object) else {
            throw ConfigError(problems: reader.problems)
        }
        var warnings: [ConfigProblem] = []
        let api = object.string("api") ?? Config.defaultAPI
        if !api.hasPrefix("http://") && !api.hasPrefix("https://") {
            reader.problem("`api` must be an http:// or https:// URL, not \"\(api)\"", at: object["api"], fix: "for example `api: \(Config.defaultAPI)`")
        }
        var limits = Limits()
        var delivery = DeliverySettings()
        var trustedProxies: [AddressRange] = []
        var groups: [String: [Backend]] = [:]
        var adminToken: AdminToken?
        var githubApps: [GitHubApp] = []
        switch format {
        case .fluxRecv:
            object.rejectUnknownKeys(["fluxRecvVersion", "api", "endpoints"])
        case .hookgate:
            object.rejectUnknownKeys(["hookgateVersion", "api", "endpoints", "limits", "delivery", "trustedProxies", "backends", "admin", "githubApps"])
            githubApps = GitHubAppLoader.read(object, folder: folder)
            groups = readBackendGroups(object, folder: folder)
            adminToken = readAdmin(object, folder: folder)
            trustedProxies = AdmissionLoader.readTrustedProxies(object)
            if let deliveryObject = reader.object(object["delivery"], path: "delivery") {
                delivery = readDelivery(deliveryObject)
            }
            if let limitsObject = reader.object(object["limits"], path: "limits") {
                limits = LimitsLoader.read(limitsObject)
            }
        }

        let endpointNodes = object.sequence("endpoints") ?? []
        if object["endpoints"] == nil {
            reader.problem("no `endpoints` listed", at: object.node, fix: "add `endpoints:` with at least one `- source: … keyPath: …`")
        }
        var endpoints: [Endpoint] = []
        var seen: [String: Int?] = [:]
        for (index, node) in endpointNodes.enumerated() {
            let path = "endpoints[\(index)]"
            guard let item = reader.object(node, path: path) else { continue }
            guard let endpoint = readEndpoint(item, format: format, api: api, groups: groups, apps: githubApps, folder: folder, reader: reader, warnings: &warnings) else { continue }
            if let firstLine = seen[endpoint.urlSegment] {
                let why = endpoint.id != nil ? "same `id`" : "same key file content\(endpoint.registryHost == nil ? "" : " and registryHost")"
                reader.problem(
                    "\(path) has the same URL as the endpoint at line \(firstLine.map(String.init) ?? "?") (\(why))",
                    at: node, fix: endpoint.id != nil ? "give each endpoint its own `id`" : "give each endpoint its own key (`hookgate keygen --out FILE`)")
                continue
            }
            seen[endpoint.urlSegment] = endpoint.line
            endpoints.append(endpoint)
        }
        let names = Dictionary(grouping: endpoints, by: \.name).filter { $0.value.count > 1 }
        for (name, group) in names {
            reader.problem("the endpoint name `\(name)` is used \(group.count) times", line: group[1].line, fix: "give each endpoint a distinct `name`")
        }
        guard reader.problems.isEmpty else { throw ConfigError(problems: reader.problems, files: [file] + reader.files) }
        warnings += replayWindowWarnings(for: endpoints, delivery: delivery, file: file)
        delivery.acceptedLookback = endpoints.compactMap { $0.gitHost?.recover?.lookback }.max() ?? .zero
        // Reported run states are remembered as seen keys too (RunStatusWatcher).
        if endpoints.contains(where: { $0.notify.contains { ($0.spec as? CreateAction)?.report != nil } }) {
            delivery.acceptedLookback = max(delivery.acceptedLookback, RunStatusWatcher.memory)
        }
        var config = Config(
            file: file, format: format, api: api, limits: limits, delivery: delivery, endpoints: endpoints, warnings: warnings,
            files: [file] + reader.files)
        config.clientAddresses = ClientAddressPolicy(trustedProxies: trustedProxies)
        config.backendGroups = groups
        config.adminToken = adminToken
        config.githubApps = githubApps
        return config
    }

    /// `admin: {tokenPath}`: the bearer token of the admin API.
    private static func readAdmin(_ object: YAMLObject, folder: String) -> AdminToken? {
        guard let admin = object.reader.object(object["admin"], path: "admin") else { return nil }
        admin.rejectUnknownKeys(["tokenPath"])
        guard let configured = admin.string("tokenPath", required: true) else { return nil }
        let resolved = configured.hasPrefix("/") ? configured : (folder as NSString).appendingPathComponent(configured)
        var warnings: [ConfigProblem] = []
        guard let bytes = readKey(resolved, configured: configured, at: admin["tokenPath"], reader: object.reader, warnings: &warnings) else { return nil }
        return AdminToken(path: resolved, bytes: EndpointKey(bytes).withoutFinalNewline)
    }

    /// `backends:`: named lists of forward backends, each a URL or `{url, timeout, required, resign}`.
    private static func readBackendGroups(_ object: YAMLObject, folder: String) -> [String: [Backend]] {
        guard let groups = object.reader.object(object["backends"], path: "backends") else { return [:] }
        var read: [String: [Backend]] = [:]
        for (key, node) in groups.mapping {
            guard let name = key.string, name.wholeMatch(of: /[A-Za-z0-9][A-Za-z0-9._-]{0,62}/) != nil else {
                object.reader.problem("`backends` group names must be letters, digits, `.`, `_` and `-`, starting with a letter or digit", at: key)
                continue
            }
            guard let nodes = groups.sequence(name) else { continue }
            // An empty group is filled through the admin API (`--admin-listen`).
            if nodes.isEmpty {
                read[name] = []
            } else if let backends = Backend.readList(nodes, at: node, path: "backends.\(name)", folder: folder, reader: object.reader) {
                read[name] = backends
            }
        }
        return read
    }

    private static func readVersion(_ object: YAMLObject) -> Config.Format? {
        let reader = object.reader
        let flux = object["fluxRecvVersion"]
        let own = object["hookgateVersion"]
        switch (flux, own) {
        case (nil, nil):
            reader.problem("the config does not say which version it is", at: object.node, fix: versionHelp)
            return nil
        case (.some, .some):
            reader.problem("the config declares both `fluxRecvVersion` and `hookgateVersion`", at: own, fix: "keep one: \(versionHelp)")
            return nil
        case let (node?, nil):
            guard node.int == 1 else {
                reader.problem("unsupported `fluxRecvVersion: \(node.string ?? "?")`; the versions that exist are fluxRecvVersion 1 and hookgateVersion 1", at: node, fix: versionHelp)
                return nil
            }
            return .fluxRecv
        case let (nil, node?):
            guard node.int == 1 else {
                reader.problem("unsupported `hookgateVersion: \(node.string ?? "?")`; the versions that exist are hookgateVersion 1 and fluxRecvVersion 1", at: node, fix: versionHelp)
                return nil
            }
            return .hookgate
        }
    }

    private static func readEndpoint(
        _ item: YAMLObject, format: Config.Format, api: String, groups: [String: [Backend]], apps: [GitHubApp], folder: String, reader: YAMLReader,
        warnings: inout [ConfigProblem]
    ) -> Endpoint? {
        let own = format == .hookgate
        item.rejectUnknownKeys(
            own
                ? ["name", "id", "source", "keyPath", "keyPaths", "registryHost", "notify", "delivery", "app"]
                    + SourceKind.allKeys(own: true) + AdmissionLoader.endpointKeys + GitHostLoader.endpointKeys
                : ["source", "keyPath", "registryHost"] + SourceKind.allKeys(own: false))
        var failed = false
        var source: Source?
        if let sourceName = item.string("source", required: true) {
            source = Source(configName: sourceName)
            if source == nil {
                var fix = "sources: " + Source.allNames.joined(separator: ", ")
                if let guess = Spelling.closest(to: sourceName, in: Source.allNames) { fix = "did you mean `\(guess)`?" }
                reader.problem("`\(item.qualified("source"))`: unknown source \"\(sourceName)\"", at: item["source"], fix: fix)
            }
        }
        var key: EndpointKey?
        var keyPaths: [String] = []
        var keysEndingInNewline: [String] = []
        if let configured = readKeyPaths(item, own: own) {
            var files: [[UInt8]] = []
            for (path, node) in configured {
                let resolved = path.hasPrefix("/") ? path : (folder as NSString).appendingPathComponent(path)
                keyPaths.append(resolved)
                guard let bytes = readKey(resolved, configured: path, at: node, reader: reader, warnings: &warnings) else { continue }
                files.append(bytes)
                if EndpointKey(bytes).endsWithNewline { keysEndingInNewline.append(resolved) }
            }
            if files.count == configured.count { key = EndpointKey(files: files) }
        }
        let registryHost = item.string("registryHost")
        // `app: NAME`: this endpoint receives a GitHub App's webhooks, and keeps its installations'
        // Secrets besides its own actions (none, unless `notify` names some).
        var appAction: Action?
        if own, let appName = item.string("app") {
            if let source, source != .gitHub {
                reader.problem("`\(item.qualified("app"))`: only a `source: GitHub` endpoint receives a GitHub App's webhooks", at: item["app"])
                failed = true
            } else if let app = apps.first(where: { $0.name == appName }) {
                appAction = Action(GitHubAppAction(app: app))
            } else {
                reader.problem("`\(item.qualified("app"))`: no GitHub App named \"\(appName)\"", at: item["app"],
                    fix: apps.isEmpty ? "define it under the top-level `githubApps:`" : "githubApps: " + apps.map(\.name).joined(separator: ", "))
                failed = true
            }
        }
        var notify = own ? (appAction != nil && item["notify"] == nil ? [] : ActionLoader.readNotify(item, api: api, groups: groups, folder: folder))
            : [Action(FluxAPIAction(url: api), rule: .fluxRecv)]
        if let appAction { notify?.append(appAction) }
        let name = own ? item.string("name") : nil
        let id = own ? readID(item) : nil
        // An `id` that cannot be used fails the endpoint: without it the URL would be the key's, and
        // could clash with another endpoint's for no reason the operator wrote.
        if own, item["id"] != nil, id == nil { failed = true }
        var mode = DeliveryMode.queued
        if own, let modeName = item.string("delivery") {
            if let parsed = DeliveryMode(rawValue: modeName) {
                mode = parsed
            } else {
                reader.problem("`\(item.qualified("delivery"))` must be queued or sync, not \"\(modeName)\"", at: item["delivery"])
                failed = true
            }
        }
        guard let source, let key, let notify, !failed else { return nil }

        let kind = SourceKind.of(source)
        // A key another source reads is a mistake here: say whose it is.
        for key in Set(SourceKind.allKeys(own: own)).subtracting(kind.keys).sorted() where item[key] != nil {
            let owners = SourceKind.all.filter { $0.keys.contains(key) }.map(\.source.rawValue)
            reader.problem("`\(item.qualified(key))` only applies to \(owners.joined(separator: " and ")) endpoints", at: item[key],
                fix: "remove `\(key)` or change `source`")
        }
        if registryHost != nil, !kind.usesRegistryHost {
            let users = SourceKind.all.filter(\.usesRegistryHost).map(\.source.rawValue).joined(separator: " and ")
            warnings.append(ConfigProblem(file: reader.file, line: item["registryHost"]?.mark?.line,
                message: "`registryHost` only means something for \(users); here it only changes the URL"))
        }
        if own, id == nil, keyPaths.count > 1 {
            warnings.append(ConfigProblem(file: reader.file, line: item["keyPaths"]?.mark?.line,
                message: "`\(item.qualified("keyPaths"))` without `id`: the URL follows the first key file, so reordering or replacing it changes the URL",
                fix: "set `id` so the URL stays the same through key rotations"))
        }
        for path in keysEndingInNewline {
            warnings.append(ConfigProblem(file: path, line: nil,
                message: "the key file ends with a newline; the URL uses the bytes as stored (as flux-recv did), and signatures made with or without that newline are accepted",
                fix: "write keys without a final newline (`printf %s`, or `hookgate keygen --out FILE`)"))
        }
        let found = ProblemList()
        let problemsBefore = reader.problems.count
        let settings = kind.readSettings(SourceSettingsInput(
            item: item, own: own, source: source, key: key, keyPaths: keyPaths, registryHost: registryHost, notify: notify,
            defaults: kind.defaults, warnings: found))
        warnings += found.items
        guard let settings, reader.problems.count == problemsBefore else { return nil }
        var endpoint = Endpoint(
            name: name, id: id, source: source, keyPaths: keyPaths, key: key, registryHost: registryHost, notify: notify,
            delivery: mode, line: item.line, settings: settings)
        if own {
            AdmissionLoader.read(item, into: &endpoint)
            endpoint.gitHost = GitHostLoader.read(item, source: source, app: appAction != nil, folder: folder)
            if endpoint.gitHost?.api == nil, appAction == nil, notify.contains(where: { ($0.spec as? CreateAction)?.report != nil }) {
                reader.problem("`\(item.qualified("notify"))`: `report` sets the run's state at the git host, and the endpoint has no `gitAPI`", at: item["notify"],
                               fix: GitHostKind.of(source) == nil ? "\(source) has no commit statuses hookgate can set; remove `report`"
                                   : "add `gitAPI: {tokenPath: FILE}` (a token that may set commit statuses)")
            }
        }
        if let id, !source.verifiesSender(of: endpoint), id.count < ConfigLoader.minimumUnguardedIDLength {
            reader.problem(
                "`\(item.qualified("id"))` is the only guard of a \(source.rawValue) endpoint (it cannot verify who sent a request), so it must be hard to guess; \"\(id)\" has \(id.count) characters",
                at: item["id"], fix: "use at least \(ConfigLoader.minimumUnguardedIDLength) random characters (`openssl rand -hex 16`), or remove `id` to use the key's fingerprint")
        }
        return endpoint
    }

    private static func readDelivery(_ object: YAMLObject) -> DeliverySettings {
        var settings = DeliverySettings()
        object.rejectUnknownKeys(["duplicateWindow", "maxAge", "maxAttempts", "initialBackoff", "maxBackoff", "concurrencyPerTarget", "drainTimeout", "keepDelivered"])
        func duration(_ key: String, _ apply: (Duration) -> Void) {
            guard let node = object[key] else { return }
            if let value = DurationText.parse(node.string ?? "") {
                apply(value)
            } else {
                object.reader.problem("`\(object.qualified(key))` must be a duration such as 500ms, 30s, 5m, 1h or 2d", at: node)
            }
        }
        duration("duplicateWindow") { settings.duplicateWindow = $0 }
        duration("maxAge") { settings.maxAge = $0 }
        duration("initialBackoff") { settings.initialBackoff = $0 }
        duration("maxBackoff") { settings.maxBackoff = $0 }
        duration("drainTimeout") { settings.drainTimeout = $0 }
        duration("keepDelivered") { settings.keepDelivered = $0 }
        if let attempts = object.int("maxAttempts") {
            if attempts >= 0 { settings.maxAttempts = attempts } else { object.reader.problem("`delivery.maxAttempts` must be 0 or more", at: object["maxAttempts"]) }
        }
        if let concurrency = object.int("concurrencyPerTarget") {
            if concurrency >= 1 { settings.concurrencyPerTarget = concurrency } else { object.reader.problem("`delivery.concurrencyPerTarget` must be 1 or more", at: object["concurrencyPerTarget"]) }
        }
        return settings
    }

    /// The shortest key hookgate accepts without a warning: 128 bits, as `hookgate keygen` writes more.
    static let shortKeyLength = 16

    static func readKey(
        _ path: String, configured: String, at node: Node?, reader: YAMLReader, warnings: inout [ConfigProblem]
    ) -> [UInt8]? {
        reader.files.append(path)
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        let fix = "keyPath is relative to the config file's folder; create a key with `hookgate keygen --out \(configured)`"
        if exists, isDirectory.boolValue {
            reader.problem("key file \"\(configured)\" (\(path)) is a directory", at: node,
                fix: "name the key file inside it (a Secret mounted as a folder holds one file per key), or \(fix)")
            return nil
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            reader.problem("key file \"\(configured)\" (\(path)): \(exists ? "it cannot be read (permissions?)" : "it does not exist")", at: node, fix: fix)
            return nil
        }
        let key = EndpointKey(Array(data))
        let secret = key.withoutFinalNewline
        if secret.allSatisfy({ [0x20, 0x09, 0x0a, 0x0d, 0x0b, 0x0c].contains($0) }) {
            // An empty key (what `echo "$UNSET" > key` writes) makes a URL and signatures anyone can compute.
            let what = data.isEmpty ? "is empty" : secret.isEmpty ? "holds only a newline" : "holds only whitespace"
            reader.problem("key file \"\(configured)\" (\(path)) \(what), so anyone could compute its URL and signatures", at: node,
                fix: "put the shared secret in it (`hookgate keygen --out \(configured)`); if a script wrote it, check that the variable it echoed was set")
            return nil
        }
        if secret.count < shortKeyLength {
            warnings.append(ConfigProblem(file: path, line: nil,
                message: "the key is \(secret.count) bytes long, short enough to guess",
                fix: "use at least \(shortKeyLength) random bytes (`hookgate keygen --out \(configured)` writes 40 hex digits)"))
        }
        return Array(data)
    }

    /// `keyPath: FILE`, or (hookgate's schema) `keyPaths: [FILE, …]`: the configured paths with their nodes.
    private static func readKeyPaths(_ item: YAMLObject, own: Bool) -> [(String, Node)]? {
        let reader = item.reader
        switch (item["keyPath"], item["keyPaths"]) {
        case (.some, .some):
            reader.problem("`\(item.qualified("keyPath"))` and `keyPaths` are both set", at: item["keyPaths"], fix: "list every key file under `keyPaths`")
            return nil
        case (nil, let list?) where own:
            guard let nodes = list.sequence, !nodes.isEmpty else {
                reader.problem("`\(item.qualified("keyPaths"))` must be a list of one or more key files", at: list, fix: "for example `keyPaths: [current.key, next.key]`")
                return nil
            }
            var paths: [(String, Node)] = []
            for node in nodes {
                guard let path = node.string, node.scalar != nil, !path.isEmpty else {
                    reader.problem("`\(item.qualified("keyPaths"))` entries must be file names", at: node)
                    return nil
                }
                if paths.contains(where: { $0.0 == path }) {
                    reader.problem("`\(item.qualified("keyPaths"))` lists \"\(path)\" twice", at: node)
                    return nil
                }
                paths.append((path, node))
            }
            return paths
        default:
            guard let path = item.string("keyPath", required: true), let node = item["keyPath"] else { return nil }
            return [(path, node)]
        }
    }

    /// `id:`: the endpoint's own URL segment.
    private static func readID(_ item: YAMLObject) -> String? {
        guard let id = item.string("id") else { return nil }
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
        guard (1...128).contains(id.count), id.allSatisfy(allowed.contains), id != ".", id != ".." else {
            item.reader.problem("`\(item.qualified("id"))` \"\(id)\" cannot be a URL segment", at: item["id"],
                fix: "use 1 to 128 letters, digits, `-`, `_`, `.` or `~`")
            return nil
        }
        return id
    }

    private static func yamlProblem(_ error: YamlError, file: String) -> ConfigProblem {
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _), let .composer(context, problem, mark, _):
            let detail = [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
            return ConfigProblem(file: file, line: mark.line, message: "not valid YAML: \(detail)")
        case let .duplicatedKeysInMapping(duplicates, context):
            return ConfigProblem(file: file, line: context.mark.line, message: "key given twice: \(duplicates.joined(separator: ", "))")
        default:
            return ConfigProblem(file: file, line: nil, message: "not valid YAML: \(error)")
        }
    }

    static func describe(_ error: any Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return nsError.localizedDescription
    }
}

/// Sizes written as `25MiB`, `512KiB`, `1048576`.
enum ByteSize {
    static func parse(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let units: [(String, Int)] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10), ("GB", 1_000_000_000), ("MB", 1_000_000), ("KB", 1000), ("B", 1)]
        for (suffix, factor) in units where trimmed.hasSuffix(suffix) {
            guard let value = Int(trimmed.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)) else { return nil }
            return value.multipliedReportingOverflow(by: factor).overflow ? nil : value * factor
        }
        return Int(trimmed)
    }
}

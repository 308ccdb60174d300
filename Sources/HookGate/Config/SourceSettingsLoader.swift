import HTTPTypes
import Yams

/// Reads and checks the settings of the sources added after flux-recv's: `timestampTolerance`
/// (StandardWebhooks, GitLab), `signature` (GenericHMAC), `token` (ACR), and what their key files
/// must hold. Kept apart from ``ConfigLoader`` so that each source's rules live in one place.
enum SourceSettingsLoader {
    /// The endpoint keys this reads, for `rejectUnknownKeys`.
    static let keys = ["timestampTolerance", "signature", "token"]

    /// Applies the settings in `item` to `endpoint`; false when a problem was recorded.
    static func read(_ item: YAMLObject, own: Bool, into endpoint: inout Endpoint, warnings: inout [ConfigProblem]) -> Bool {
        let reader = item.reader
        let before = reader.problems.count
        let source = endpoint.source
        func only(_ key: String, for sources: [Source]) -> Bool {
            guard item[key] != nil else { return false }
            guard sources.contains(source) else {
                reader.problem("`\(item.qualified(key))` only applies to \(sources.map(\.rawValue).joined(separator: " and ")) endpoints", at: item[key],
                    fix: "remove `\(key)` or change `source`")
                return false
            }
            return true
        }
        if own, only("timestampTolerance", for: [.standardWebhooks, .gitLab]), let node = item["timestampTolerance"] {
            if let tolerance = DurationText.parse(node.string ?? ""), tolerance > .zero {
                endpoint.timestampTolerance = tolerance
            } else {
                reader.problem("`\(item.qualified("timestampTolerance"))` must be a duration above zero such as 30s, 5m or 1h", at: node)
            }
        }
        if own, only("signature", for: [.genericHMAC]), let object = reader.object(item["signature"], path: item.qualified("signature")) {
            if let format = readSignatureFormat(object) { endpoint.signatureFormat = format }
        }
        if own, only("token", for: [.acr]), let node = item["token"] {
            if let enabled = node.bool {
                endpoint.tokenHeader = enabled ? .bearer : nil
            } else if let object = reader.object(node, path: item.qualified("token")) {
                if let token = readTokenHeader(object) { endpoint.tokenHeader = token }
            }
        }
        checkKey(item, endpoint: endpoint)
        addWarnings(item, endpoint: endpoint, warnings: &warnings)
        return reader.problems.count == before
    }

    /// Warnings that need every endpoint and the delivery settings: a duplicate window shorter than
    /// the span in which a signed timestamp is accepted lets a replay through once it has passed.
    static func warnings(for endpoints: [Endpoint], delivery: DeliverySettings, file: String) -> [ConfigProblem] {
        endpoints.compactMap { endpoint in
            let signed = endpoint.source == .standardWebhooks || (endpoint.source == .gitLab && !StandardWebhookSecret.keys(in: endpoint.key).isEmpty)
            let span = endpoint.timestampTolerance * 2
            guard signed, delivery.duplicateWindow < span else { return nil }
            return ConfigProblem(file: file, line: endpoint.line,
                message: "`delivery.duplicateWindow` is shorter than twice this endpoint's `timestampTolerance`, so a replayed request could pass once its first delivery leaves the window",
                fix: "set `delivery.duplicateWindow` to at least \(StandardWebhookSignature.describe(Double(span.components.seconds))) or lower `timestampTolerance`")
        }
    }

    private static func readSignatureFormat(_ object: YAMLObject) -> SignatureFormat? {
        let reader = object.reader
        object.rejectUnknownKeys(["header", "algorithm", "prefix", "encoding"])
        var format = SignatureFormat()
        var ok = true
        if let header = object.string("header") {
            if let name = HTTPField.Name(header) { format.header = name } else {
                reader.problem("`\(object.qualified("header"))`: \"\(header)\" is not a header name", at: object["header"])
                ok = false
            }
        }
        if let algorithm = object.string("algorithm") {
            if let parsed = SignatureFormat.Algorithm(rawValue: algorithm.lowercased()) { format.algorithm = parsed } else {
                reader.problem("`\(object.qualified("algorithm"))` must be sha1, sha256 or sha512, not \"\(algorithm)\"", at: object["algorithm"],
                    fix: "or leave it out to read the algorithm from a `sha256=` style prefix of the header")
                ok = false
            }
        }
        if let encoding = object.string("encoding") {
            if let parsed = SignatureFormat.Encoding(rawValue: encoding.lowercased()) { format.encoding = parsed } else {
                reader.problem("`\(object.qualified("encoding"))` must be hex or base64, not \"\(encoding)\"", at: object["encoding"])
                ok = false
            }
        }
        if let prefix = object.string("prefix") {
            if object["algorithm"] == nil {
                reader.problem("`\(object.qualified("prefix"))` needs `algorithm`: without one, the header must start with `sha1=`, `sha256=` or `sha512=`, which names it",
                    at: object["prefix"], fix: "add `algorithm`, or remove `prefix`")
                ok = false
            } else if !prefix.allSatisfy(\.isASCII) {
                reader.problem("`\(object.qualified("prefix"))` must be ASCII text, as header values are", at: object["prefix"])
                ok = false
            }
            format.prefix = prefix
        }
        return ok ? format : nil
    }

    private static func readTokenHeader(_ object: YAMLObject) -> TokenHeader? {
        let reader = object.reader
        object.rejectUnknownKeys(["header", "prefix"])
        var token = TokenHeader.bearer
        if let header = object.string("header") {
            guard let name = HTTPField.Name(header) else {
                reader.problem("`\(object.qualified("header"))`: \"\(header)\" is not a header name", at: object["header"])
                return nil
            }
            token.header = name
            token.prefix = name == .authorization ? "Bearer " : ""
        }
        if let prefix = object.string("prefix") {
            guard prefix.allSatisfy(\.isASCII) else {
                reader.problem("`\(object.qualified("prefix"))` must be ASCII text, as header values are", at: object["prefix"])
                return nil
            }
            token.prefix = prefix
        }
        return token
    }

    /// StandardWebhooks keys, and GitLab keys written as signing tokens, must be `whsec_<base64>`.
    private static func checkKey(_ item: YAMLObject, endpoint: Endpoint) {
        let configured = item["keyPath"].map { [$0] } ?? item["keyPaths"]?.sequence.map(Array.init) ?? []
        for ((path, stored), node) in zip(zip(endpoint.keyPaths, endpoint.key.files), configured) {
            let name = node.string ?? path
            let isSecret = StandardWebhookSecret.isSecret(stored)
            guard endpoint.source == .standardWebhooks || (endpoint.source == .gitLab && isSecret) else { continue }
            guard StandardWebhookSecret.decode(stored) == nil else { continue }
            let what = isSecret ? "starts with `whsec_` but what follows is not base64" : "does not hold a signing secret written `whsec_<base64>`"
            item.reader.problem("key file \"\(name)\" (\(path)) \(what)", at: node,
                fix: "copy the sender's signing secret into it as shown, whsec_ included (`printf %s 'whsec_…' > \(name)`), or make one with `hookgate keygen --source \(endpoint.source.rawValue) --out \(name)` and give it to the sender")
        }
    }

    private static func addWarnings(_ item: YAMLObject, endpoint: Endpoint, warnings: inout [ConfigProblem]) {
        let file = item.reader.file
        if endpoint.source == .acr, endpoint.tokenHeader == nil {
            warnings.append(ConfigProblem(file: file, line: item.line,
                message: "ACR endpoint with `token: false`: ACR signs nothing, so the URL is the only guard",
                fix: "give the webhook a custom header `Authorization: Bearer <key>` and remove `token: false`"))
        }
        let triggers: [Source] = [.standardWebhooks, .genericHMAC, .generic]
        let fluxOnly = endpoint.notify.allSatisfy { $0.spec is FluxAPIAction }
        if triggers.contains(endpoint.source), fluxOnly {
            warnings.append(ConfigProblem(file: file, line: item.line,
                message: "\(endpoint.source.rawValue) deliveries name no git or image change, so `fluxAPI` has nothing to send and this endpoint notifies nothing",
                fix: "add a `reconcile`, `create` or `log` action under `notify`"))
        }
    }
}

import Yams

/// Reads what decides whether a request is taken before its body is read: `trustedProxies` at
/// the top (`limits:` is ``LimitsLoader``'s), `allowFrom` and `rateLimit` on each endpoint
/// (hookgate's schema only; docs/threat-model.md says why each exists).
enum AdmissionLoader {
    /// The endpoint keys this reads, for `rejectUnknownKeys`.
    static let endpointKeys = ["allowFrom", "rateLimit"]

    /// `trustedProxies: [CIDR, …]`.
    static func readTrustedProxies(_ object: YAMLObject) -> [AddressRange] {
        ranges(object, "trustedProxies", example: "[10.0.0.0/8]") ?? []
    }

    /// An endpoint's `allowFrom` and `rateLimit`, into `endpoint`.
    static func read(_ item: YAMLObject, into endpoint: inout Endpoint) {
        let reader = item.reader
        if let allowed = ranges(item, "allowFrom", example: "[192.30.252.0/22, 140.82.112.0/20]") {
            if allowed.isEmpty {
                reader.problem("`\(item.qualified("allowFrom"))` is empty, so no request would ever be taken", at: item["allowFrom"],
                    fix: "list the sender's address blocks, or remove `allowFrom` to take requests from anywhere")
            }
            endpoint.allowFrom = allowed
        }
        if let object = reader.object(item["rateLimit"], path: item.qualified("rateLimit")) {
            endpoint.rateLimit = readRateLimit(object)
        }
    }

    private static func readRateLimit(_ object: YAMLObject) -> RateLimit? {
        let reader = object.reader
        object.rejectUnknownKeys(["requests", "per", "burst"])
        let requests = object.int("requests")
        if object["requests"] == nil {
            reader.problem("`\(object.qualified("requests"))` is missing", at: object.node, fix: "for example `rateLimit: {requests: 60, per: 1m}`")
        } else if let requests, requests < 1 {
            reader.problem("`\(object.qualified("requests"))` must be 1 or more", at: object["requests"])
        }
        var per = Duration.seconds(1)
        if let node = object["per"] {
            if let parsed = DurationText.parse(node.string ?? ""), parsed > .zero {
                per = parsed
            } else {
                reader.problem("`\(object.qualified("per"))` must be a duration above zero such as 1s, 1m or 1h", at: node)
                return nil
            }
        }
        let burst = object.int("burst")
        if let burst, burst < 1 {
            reader.problem("`\(object.qualified("burst"))` must be 1 or more", at: object["burst"])
            return nil
        }
        guard let requests, requests >= 1 else { return nil }
        return RateLimit(requests: requests, per: per, burst: burst)
    }

    /// A list of CIDR blocks under `key`; nil when absent or wrong (the problem is recorded).
    private static func ranges(_ object: YAMLObject, _ key: String, example: String) -> [AddressRange]? {
        guard let nodes = object.sequence(key) else { return nil }
        var ranges: [AddressRange] = []
        for node in nodes {
            guard let text = node.scalar?.string, let range = AddressRange(text) else {
                object.reader.problem(
                    "`\(object.qualified(key))`: \"\(node.string ?? "\(node)")\" is not an IP address or a CIDR block with the host bits zero",
                    at: node, fix: "write blocks such as \(example) or single addresses")
                return nil
            }
            ranges.append(range)
        }
        return ranges
    }
}

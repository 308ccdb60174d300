import Yams

/// Reads `limits:` (hookgate's schema), every problem with its line.
enum LimitsLoader {
    static let keys = [
        "maxBodySize", "maxBodyBytesInFlight", "maxConcurrentRequests", "maxConcurrentRequestsPerEndpoint",
        "maxConcurrentRequestsPerClient", "maxEventsPerDelivery",
    ]

    static func read(_ object: YAMLObject) -> Limits {
        object.rejectUnknownKeys(keys)
        let defaults = Limits()
        func size(_ key: String) -> Int? {
            guard let node = object[key] else { return nil }
            guard let bytes = ByteSize.parse(node.string ?? ""), bytes > 0 else {
                object.reader.problem("`\(object.qualified(key))` must be a size such as 25MiB, 512KiB or 1048576", at: node)
                return nil
            }
            return bytes
        }
        func count(_ key: String) -> Int? {
            guard let value = object.int(key) else { return nil }
            guard value >= 1 else {
                object.reader.problem("`\(object.qualified(key))` must be 1 or more", at: object[key])
                return nil
            }
            return value
        }
        let concurrent = count("maxConcurrentRequests") ?? defaults.maxConcurrentRequests
        let limits = Limits(
            maxBodyBytes: size("maxBodySize") ?? defaults.maxBodyBytes,
            maxBodyBytesInFlight: size("maxBodyBytesInFlight") ?? defaults.maxBodyBytesInFlight,
            maxConcurrentRequests: concurrent,
            maxConcurrentRequestsPerEndpoint: count("maxConcurrentRequestsPerEndpoint"),
            maxConcurrentRequestsPerClient: count("maxConcurrentRequestsPerClient"),
            maxEventsPerDelivery: count("maxEventsPerDelivery") ?? defaults.maxEventsPerDelivery)
        if limits.maxBodyBytesInFlight < limits.maxBodyBytes {
            object.reader.problem(
                "`\(object.qualified("maxBodyBytesInFlight"))` (\(limits.maxBodyBytesInFlight) bytes) is smaller than `maxBodySize` (\(limits.maxBodyBytes) bytes), so the largest bodies could never be taken",
                at: object["maxBodyBytesInFlight"] ?? object["maxBodySize"], fix: "raise maxBodyBytesInFlight or lower maxBodySize")
        }
        for key in ["maxConcurrentRequestsPerEndpoint", "maxConcurrentRequestsPerClient"] {
            if let node = object[key], let value = node.int, value > concurrent {
                object.reader.problem("`\(object.qualified(key))` (\(value)) is more than `maxConcurrentRequests` (\(concurrent))", at: node,
                    fix: "a share is at most the whole")
            }
        }
        return limits
    }
}

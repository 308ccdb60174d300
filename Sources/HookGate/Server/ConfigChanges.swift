/// What a reload changed, in lines for the log. Names endpoints and URL paths, never keys.
struct ConfigChanges {
    var lines: [String] = []
    /// True when `delivery:` changed (it applies from the reload on).
    var deliveryChanged = false

    init(from old: Config, to new: Config) {
        let before = Dictionary(old.endpoints.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let after = Dictionary(new.endpoints.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for endpoint in new.endpoints where before[endpoint.name] == nil {
            lines.append("endpoint \(endpoint.name) added: \(endpoint.source.rawValue) at \(endpoint.path)")
        }
        for endpoint in old.endpoints where after[endpoint.name] == nil {
            lines.append("endpoint \(endpoint.name) removed; \(endpoint.path) now answers 404")
        }
        for endpoint in new.endpoints {
            guard let previous = before[endpoint.name], previous != endpoint else { continue }
            var what: [String] = []
            if previous.key != endpoint.key {
                let count = endpoint.key.fileCount
                what.append("keys rotated (\(count) key file\(count == 1 ? "" : "s") now)")
            }
            if previous.path != endpoint.path {
                what.append("URL moved from \(previous.path) to \(endpoint.path); update it at the sender")
            }
            if previous.source != endpoint.source { what.append("source \(previous.source.rawValue) → \(endpoint.source.rawValue)") }
            if previous.notify != endpoint.notify { what.append("actions changed") }
            if previous.delivery != endpoint.delivery { what.append("delivery \(previous.delivery.rawValue) → \(endpoint.delivery.rawValue)") }
            var settingsOnly = endpoint
            settingsOnly.key = previous.key
            settingsOnly.keyPaths = previous.keyPaths
            settingsOnly.fingerprint = previous.fingerprint
            settingsOnly.id = previous.id
            settingsOnly.source = previous.source
            settingsOnly.notify = previous.notify
            settingsOnly.delivery = previous.delivery
            settingsOnly.line = previous.line
            if settingsOnly != previous { what.append("settings changed") }
            if !what.isEmpty { lines.append("endpoint \(endpoint.name): " + what.joined(separator: "; ")) }
        }
        if old.limits != new.limits { lines.append("limits changed") }
        if old.clientAddresses != new.clientAddresses { lines.append("trustedProxies changed") }
        deliveryChanged = old.delivery != new.delivery
    }
}

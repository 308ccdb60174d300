import Foundation
import Yams

/// StandardWebhooks, and GitLab with a signing token: how far `webhook-timestamp` may be from
/// this host's clock, either way (`timestampTolerance`).
public struct SigningTimestampSettings: SourceSettings, Equatable {
    public var tolerance: Duration
    /// Whether requests are signed with timestamps at all (GitLab only with a `whsec_` key).
    public var checked: Bool

    /// Standard Webhooks' recommended tolerance.
    public static let defaultTolerance: Duration = .seconds(300)

    public init(tolerance: Duration = SigningTimestampSettings.defaultTolerance, checked: Bool) {
        self.tolerance = tolerance
        self.checked = checked
    }
}

/// Checks several sources share, for their settings readers.
extension SourceSettingsInput {
    /// `timestampTolerance`, a duration above zero.
    func readTimestampTolerance(checked: Bool) -> SigningTimestampSettings? {
        var settings = SigningTimestampSettings(checked: checked)
        guard own, let node = item["timestampTolerance"] else { return settings }
        guard let tolerance = DurationText.parse(node.string ?? ""), tolerance > .zero else {
            reader.problem("`\(item.qualified("timestampTolerance"))` must be a duration above zero such as 30s, 5m or 1h", at: node)
            return nil
        }
        settings.tolerance = tolerance
        return settings
    }

    /// Key files must hold signing secrets written `whsec_<base64>`: every one (`required`), or
    /// those that start with `whsec_` (GitLab, where a plain key is a token).
    func checkSigningSecrets(required: Bool) {
        let configured = item["keyPath"].map { [$0] } ?? item["keyPaths"]?.sequence.map(Array.init) ?? []
        for ((path, stored), node) in zip(zip(keyPaths, key.files), configured) {
            let name = node.string ?? path
            let isSecret = StandardWebhookSecret.isSecret(stored)
            guard required || isSecret, StandardWebhookSecret.decode(stored) == nil else { continue }
            let what = isSecret ? "starts with `whsec_` but what follows is not base64" : "does not hold a signing secret written `whsec_<base64>`"
            reader.problem("key file \"\(name)\" (\(path)) \(what)", at: node,
                fix: "copy the sender's signing secret into it as shown, whsec_ included (`printf %s 'whsec_…' > \(name)`), or make one with `hookgate keygen --source \(source.rawValue) --out \(name)` and give it to the sender")
        }
    }

    /// Nexus and Artifactory do not say which registry they serve.
    func warnWithoutRegistryHost() {
        guard registryHost == nil else { return }
        warn("\(source.rawValue) does not say which registry it serves, so image notifications will carry no host",
             fix: "set `registryHost` to the registry's host name")
    }

    /// Senders whose deliveries are triggers give `fluxAPI` nothing to send.
    func warnIfOnlyFluxAPI() {
        guard notify.allSatisfy({ $0.spec is FluxAPIAction }) else { return }
        warn("\(source.rawValue) deliveries name no git or image change, so `fluxAPI` has nothing to send and this endpoint notifies nothing",
             fix: "add a `reconcile`, `create` or `log` action under `notify`")
    }
}

/// Warnings that need every endpoint and the delivery settings: a duplicate window shorter than
/// the span in which a signed timestamp is accepted lets a replay through once it has passed.
func replayWindowWarnings(for endpoints: [Endpoint], delivery: DeliverySettings, file: String) -> [ConfigProblem] {
    endpoints.compactMap { endpoint in
        guard let timing = endpoint.settings(SigningTimestampSettings.self), timing.checked, delivery.duplicateWindow < timing.tolerance * 2 else { return nil }
        return ConfigProblem(file: file, line: endpoint.line,
            message: "`delivery.duplicateWindow` is shorter than twice this endpoint's `timestampTolerance`, so a replayed request could pass once its first delivery leaves the window",
            fix: "set `delivery.duplicateWindow` to at least \(StandardWebhookSignature.describe(Double((timing.tolerance * 2).components.seconds))) or lower `timestampTolerance`")
    }
}

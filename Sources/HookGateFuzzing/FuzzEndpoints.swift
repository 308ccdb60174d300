import Foundation
import HTTPTypes
import HookGate

/// The endpoints a source's inputs are run against: each source with the harness's fixed keys,
/// and the settings that change what its provider checks (legacy signatures, required
/// signatures, token headers, signature formats, Pub/Sub authentication).
public enum FuzzEndpoints {
    /// The shared secret of every endpoint but the signing-secret ones (ASCII, as typed into a sender).
    public static let secret = "hookgate-fuzz-secret"
    /// The signing secret of StandardWebhooks endpoints and GitLab signing tokens (standard-webhooks' published test secret).
    public static let signingSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    /// A registry host for Nexus and Artifactory.
    static let registryHost = "registry.example.com"
    /// Every endpoint variant of `source`: its plug-in's default settings and its fuzz variants
    /// (``SourceKind/fuzzVariants``), with the harness's keys.
    public static func variants(of source: Source) -> [Endpoint] {
        SourceKind.fuzzEndpoints(source, key: { settings in
            let signed = (settings as? SigningTimestampSettings)?.checked == true
            return EndpointKey(signed ? signingSecret : secret)
        }, registryHost: registryHost)
    }
}

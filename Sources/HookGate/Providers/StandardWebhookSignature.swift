import Crypto
import Foundation
import HTTPTypes

/// The Standard Webhooks signature scheme (standardwebhooks.com), also used by GitLab's signing
/// token: `webhook-signature` holds a space-separated list of `v1,<base64 HMAC-SHA256>` entries,
/// each over `{webhook-id}.{webhook-timestamp}.{body}`, and `webhook-timestamp` (Unix seconds) must
/// be within a tolerance of this host's clock, both ways.
///
/// A request passes when any `v1` entry matches any configured secret; other versions (`v1a`,
/// ed25519) are ignored. Every entry is compared with every key, in constant time. Replays inside
/// the tolerance share their `webhook-id`, which duplicate suppression (`delivery.duplicateWindow`)
/// catches.
package struct StandardWebhookSignature: Sendable {
    package static let id = HTTPField.Name("webhook-id")!
    package static let timestamp = HTTPField.Name("webhook-timestamp")!
    package static let signature = HTTPField.Name("webhook-signature")!

    /// The reference libraries' tolerance (Python `timedelta(minutes=5)`, Go `5 * time.Minute`).
    package static let defaultTolerance = SigningTimestampSettings.defaultTolerance

    /// The HMAC keys: the decoded secrets.
    let keys: [SymmetricKey]
    let tolerance: Duration
    let now: @Sendable () -> Date

    /// - Parameters:
    ///   - keys: the secrets' bytes (``StandardWebhookSecret/decode(_:)``), every one accepted.
    ///   - tolerance: how far `webhook-timestamp` may be from `now()`, in either direction.
    package init(keys: [[UInt8]], tolerance: Duration = defaultTolerance, now: @escaping @Sendable () -> Date = { Date() }) {
        self.keys = keys.map { SymmetricKey(data: $0) }
        self.tolerance = tolerance
        self.now = now
    }

    /// The `webhook-signature` value a sender puts on `body`: `v1,<base64 HMAC-SHA256>` of
    /// `{id}.{timestamp}.{body}` with the decoded secret `key`.
    package static func sign(id: String, timestamp: Int, body: Data, key: [UInt8]) -> String {
        let content = Data("\(id).\(timestamp).".utf8) + body
        return "v1," + Data(HMAC<SHA256>.authenticationCode(for: content, using: SymmetricKey(data: key))).base64EncodedString()
    }

    /// Checks the signature over the raw body, then the timestamp; failures are 401s that say why.
    package func verify(_ request: WebhookRequest) throws(HookFailure) {
        guard let header = request.header(Self.signature), !header.isEmpty else {
            throw .unauthorized("missing signature", reason: "no webhook-signature header; the sender signs only when a signing secret is set")
        }
        guard let id = request.header(Self.id), !id.isEmpty, let timestamp = request.header(Self.timestamp), !timestamp.isEmpty else {
            throw .unauthorized("missing webhook-id or webhook-timestamp", reason: "webhook-signature arrived without webhook-id or webhook-timestamp, which it signs")
        }
        guard let seconds = Int64(timestamp) else {
            throw .unauthorized("malformed webhook-timestamp", reason: "webhook-timestamp is not a whole number of seconds since 1970")
        }
        let entries = header.split(separator: " ", omittingEmptySubsequences: true)
        let signatures = entries.compactMap { entry -> [UInt8]? in
            guard entry.hasPrefix("v1,") else { return nil }
            return Base64Text.decode(entry.dropFirst(3)) ?? []
        }
        guard !signatures.isEmpty else {
            throw .unauthorized("no v1 signature", reason: "none of the \(entries.count) entries of webhook-signature is `v1,<base64>` (HMAC-SHA256), the only version hookgate checks")
        }
        guard isValid(signatures, id: id, timestamp: timestamp, body: request.body) else {
            throw .unauthorized("invalid signature", reason: "none of the \(signatures.count) v1 signatures matches webhook-id, webhook-timestamp and the \(request.body.count)-byte body for the configured secret\(keys.count == 1 ? "" : "s")")
        }
        try checkTime(seconds)
    }

    /// True when some signature is the MAC of the signed content under some key. Every pair is
    /// compared (``MessageAuthenticationCode``'s `==` runs in constant time), none skipped.
    private func isValid(_ signatures: [[UInt8]], id: String, timestamp: String, body: Data) -> Bool {
        var valid = false
        for key in keys {
            var hmac = HMAC<SHA256>(key: key)
            hmac.update(data: Array(id.utf8))
            hmac.update(data: [UInt8(ascii: ".")])
            hmac.update(data: Array(timestamp.utf8))
            hmac.update(data: [UInt8(ascii: ".")])
            hmac.update(data: body)
            let code = hmac.finalize()
            for signature in signatures {
                valid = (code == signature) || valid
            }
        }
        return valid
    }

    /// Refuses a timestamp further than `tolerance` from this host's clock, saying how far.
    private func checkTime(_ seconds: Int64) throws(HookFailure) {
        let offset = now().timeIntervalSince1970 - Double(seconds)
        let limit = Double(tolerance.components.seconds) + Double(tolerance.components.attoseconds) / 1e18
        guard abs(offset) > limit else { return }
        let distance = Self.describe(abs(offset))
        let direction = offset > 0 ? "in the past" : "in the future"
        throw .unauthorized(
            "webhook-timestamp is \(distance) \(direction), outside the \(Self.describe(limit)) tolerance",
            reason: offset > 0
                ? "webhook-timestamp is \(distance) older than this host's clock (tolerance \(Self.describe(limit))): a replay, a delivery held back too long, or a clock that is off; check NTP on both sides, or raise `timestampTolerance`"
                : "webhook-timestamp is \(distance) ahead of this host's clock (tolerance \(Self.describe(limit))): the sender's clock or this host's is off; check NTP on both sides")
    }

    /// `42 s`, `7 min 12 s`, `3 h 5 min`, `12 days`.
    static func describe(_ seconds: Double) -> String {
        // A webhook-timestamp near Int64.min puts the offset beyond Int in seconds; it is days anyway.
        guard seconds.rounded() < 9e18 else { return "\(Int(seconds / 86400)) days" }
        let whole = Int(seconds.rounded())
        switch whole {
        case ..<120: return "\(whole) s"
        case ..<7200: return whole % 60 == 0 ? "\(whole / 60) min" : "\(whole / 60) min \(whole % 60) s"
        case ..<172_800: return whole % 3600 / 60 == 0 ? "\(whole / 3600) h" : "\(whole / 3600) h \(whole % 3600 / 60) min"
        default: return "\(whole / 86400) days"
        }
    }
}

/// A Standard Webhooks secret as senders show it: `whsec_` and the base64 of the key bytes.
package enum StandardWebhookSecret {
    package static let prefix = "whsec_"

    /// True when a key file holds a `whsec_` secret (after any leading white space).
    package static func isSecret(_ bytes: [UInt8]) -> Bool {
        String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix(prefix)
    }

    /// The HMAC key bytes: the base64 after `whsec_` (padding optional, surrounding white space and
    /// a final newline ignored); nil when the text is not that.
    package static func decode(_ bytes: [UInt8]) -> [UInt8]? {
        let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix(prefix) else { return nil }
        return Base64Text.decode(text.dropFirst(prefix.count))
    }

    /// Every distinct signing key among an endpoint's key variants.
    static func keys(in key: EndpointKey) -> [[UInt8]] {
        var keys: [[UInt8]] = []
        for candidate in key.candidateBytes {
            if let decoded = decode(candidate), !keys.contains(decoded) { keys.append(decoded) }
        }
        return keys
    }
}

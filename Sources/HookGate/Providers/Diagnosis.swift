import Foundation
import HTTPTypes

/// Why a check failed and what to do about it, phrased for the operator who has to fix it.
///
/// Providers build their refusals here, so every source explains itself the same way, and the
/// server's log (`hook.reason`) and `hookgate verify` say the same thing. Nothing here reveals a key,
/// an expected signature or any part of one: each "would it verify if …" question is asked of the
/// same constant-time check, and only its yes or no is reported. docs/troubleshooting.md lists
/// every hint and what to do about it.
enum Diagnosis {
    /// The extra checks (the body without its final newline, with one added, …) cost one HMAC of the
    /// body per candidate key each; above this size they are skipped, so bad requests stay cheap.
    static let alternativeBodyLimit = 1 << 20

    /// Bytes a sender may have signed instead of what arrived, and what a match would mean.
    struct Alternative: Sendable {
        var bytes: Data
        var hint: String
    }

    // MARK: Signatures

    /// A signature header that arrived, parsed, and matched none of the candidate keys.
    /// - Parameters:
    ///   - signed: the bytes the signature was checked over; `signedName` says what they are.
    ///   - accepts: the media types the source sends, for the Content-Type hint.
    ///   - alternatives: provider-specific bytes worth trying (the other form-mode convention …).
    ///   - notes: provider-specific hints, given when no alternative matched.
    ///   - verifies: the provider's own constant-time check of the received signature over some bytes.
    static func signatureMismatch(
        header: String, algorithm: String, signed: Data, signedName: String = "body", key: EndpointKey,
        request: WebhookRequest, source: String, accepts: [String] = ["application/json"],
        alternatives: [Alternative] = [], notes: [String] = [], verifies: @escaping @Sendable (Data) -> Bool
    ) -> HookFailure {
        let cause = "\(header) (\(algorithm)) over the \(signed.count)-byte \(signedName) is valid for none of the \(candidates(key))"
        return HookFailure(status: .unauthorized, message: "invalid signature", reason: cause) {
            var hints: [String] = []
            if signed.count <= alternativeBodyLimit {
                for alternative in newlineAlternatives(of: signed, named: signedName) + alternatives where verifies(alternative.bytes) {
                    return ["the secret is right: " + alternative.hint]
                }
            } else {
                hints.append("the final-newline checks were skipped because the \(signedName) is over \(alternativeBodyLimit) bytes")
            }
            hints += keyHints(key)
            hints += transportHints(request, source: source, accepts: accepts)
            hints += notes
            hints.append(wrongSecret(source: source, setting: "secret"))
            return hints
        }
    }

    /// The signed bytes with their final newline removed, or with one added: a proxy or a capture
    /// tool that adds or strips it is a known cause.
    static func newlineAlternatives(of signed: Data, named name: String) -> [Alternative] {
        var alternatives: [Alternative] = []
        if signed.last == UInt8(ascii: "\n") {
            let crlf = signed.count >= 2 && signed[signed.index(signed.endIndex, offsetBy: -2)] == UInt8(ascii: "\r")
            alternatives.append(Alternative(
                bytes: signed.dropLast(crlf ? 2 : 1),
                hint: "the signature matches the \(name) without its final \(crlf ? "CRLF" : "newline"), so something between the sender and hookgate (a proxy, or the tool that saved the capture) added it; make it pass the body through unchanged"))
        }
        alternatives.append(Alternative(
            bytes: signed + Data([UInt8(ascii: "\n")]),
            hint: "the signature matches the \(name) with a final newline added, so something between the sender and hookgate (a proxy, or the tool that saved the capture) removed it; make it pass the body through unchanged"))
        return alternatives
    }

    /// A signature header that is there but cannot be a signature: what it looks like, never what it holds.
    static func malformed(header: String, value: String, expected: String) -> HookFailure {
        .unauthorized("malformed signature", reason: "\(header) is \(shape(of: value)); expected \(expected)",
                      hints: ["a proxy that truncates or rewrites long headers, or a sender of another kind, would do this"])
    }

    /// What a header value looks like: its `name=` prefix and how many characters follow, whether
    /// they are hex, never the characters themselves.
    static func shape(of value: String) -> String {
        if value.isEmpty { return "empty" }
        var prefix = ""
        var rest = Substring(value)
        if let equals = value.firstIndex(of: "="), equals != value.startIndex {
            let name = value[..<equals]
            if name.count <= 12, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) {
                prefix = "`\(name)=` followed by "
                rest = value[value.index(after: equals)...]
            }
        }
        if rest.isEmpty { return prefix.isEmpty ? "empty" : "`\(value)` with nothing after it" }
        let hex = rest.allSatisfy(\.isHexDigit)
        return prefix + (hex ? "\(rest.count) hex digits" : "\(rest.count) characters, not all hex digits")
    }

    // MARK: Tokens

    /// A token header that matched none of the candidate keys.
    /// - Parameter alternatives: other readings of the received value worth comparing (without an
    ///   auth scheme …), each with what a match would mean; compared in constant time too.
    static func tokenMismatch(
        header: String, token: String, key: EndpointKey, source: String, message: String, setting: String,
        alternatives: [(token: String, hint: String)] = []
    ) -> HookFailure {
        let cause = "\(header) matches none of the \(candidates(key))"
        // (Spaces around a header value never arrive: HTTP parsing trims them.)
        for reading in alternatives where !reading.token.isEmpty && TokenCheck.matches(reading.token, key: key) {
            return .unauthorized(message, reason: cause, hints: ["the secret is right: " + reading.hint])
        }
        return .unauthorized(message, reason: cause, hints: keyHints(key) + [wrongSecret(source: source, setting: setting)])
    }

    // MARK: Missing headers

    /// A header the check needs did not arrive; names the signature-like headers that did.
    static func missingHeader(_ names: [String], source: String, request: WebhookRequest, message: String, fix: String) -> HookFailure {
        let arrived = signatureLikeHeaders(in: request)
        let wanted = names.count == 1 ? names[0] : names.dropLast().joined(separator: ", ") + " or " + names[names.count - 1]
        let cause = arrived.isEmpty
            ? "no \(wanted) header, and no other signature or token header either"
            : "no \(wanted) header; signature or token headers that did arrive: \(arrived.joined(separator: ", "))"
        return .unauthorized(message, reason: cause, hints: [fix])
    }

    /// Names of received headers that look like they carry a signature or a token.
    static func signatureLikeHeaders(in request: WebhookRequest) -> [String] {
        var seen = Set<String>()
        var names: [String] = []
        for field in request.headers {
            let lowered = field.name.canonicalName
            let known = SenderHeader.authentication.contains { $0.name.lowercased() == lowered }
            let looksLikeOne = ["signature", "token", "secret", "auth"].contains { lowered.contains($0) }
            if (known || looksLikeOne), seen.insert(lowered).inserted { names.append(field.name.rawName) }
        }
        return names
    }

    // MARK: Hints every failure may get

    /// Adds what the request's headers say about its sender when they name a different source
    /// than the endpoint's: the classic "wrong `source:`" mistake. The server and
    /// `hookgate verify` call this on every refusal.
    static func annotated(_ failure: HookFailure, request: WebhookRequest, source: Source) -> HookFailure {
        var failure = failure
        failure.hints += senderHints(request, source: source.rawValue)
        return failure
    }

    /// One hint per sender whose distinctive headers arrived although the endpoint's source is another.
    static func senderHints(_ request: WebhookRequest, source: String) -> [String] {
        var hints: [String] = []
        var named = Set<String>()
        for header in SenderHeader.authentication + SenderHeader.events {
            guard !header.sources.contains(source), request.headers[header.fieldName] != nil,
                  named.insert(header.sender).inserted else { continue }
            hints.append("the request carries \(header.name), which \(header.sender) \(header.sender.contains(" and ") ? "send" : "sends"): is `source: \(source)` right for this endpoint?")
        }
        return hints
    }

    static func keyHints(_ key: EndpointKey) -> [String] {
        var hints: [String] = []
        if key.endsWithNewline {
            hints.append("the key file ends in a newline; signatures made with and without it were both tried, so that newline is not the cause")
        }
        if key.candidateBytes.contains(where: { [UInt8(ascii: " "), UInt8(ascii: "\t")].contains($0.last) || [UInt8(ascii: " "), UInt8(ascii: "\t")].contains($0.first) }) {
            hints.append("the key file begins or ends with a space or tab, which a secret typed into a web form rarely has; check the key file")
        }
        return hints
    }

    /// What the request's framing says about the body being changed on the way.
    static func transportHints(_ request: WebhookRequest, source: String, accepts: [String]) -> [String] {
        var hints: [String] = []
        if let encoding = request.headers[.contentEncoding], encoding.lowercased() != "identity" {
            hints.append("the body arrived with Content-Encoding \(printable(encoding)) and is checked as received, but senders sign the uncompressed body; turn off compression between the sender and hookgate")
        }
        guard let contentType = request.headers[.contentType] else {
            hints.append("the request has no Content-Type, and \(source) always sends one; something in between rebuilt the request and may have changed the body")
            return hints
        }
        if let mediaType = request.mediaType, !accepts.contains(mediaType) {
            hints.append("Content-Type is \(printable(mediaType)), but \(source) sends \(accepts.joined(separator: " or ")); something in between changed the content type and may have re-encoded the body with it")
        }
        if let charset = parameter("charset", of: contentType), !["utf-8", "utf8", "us-ascii"].contains(charset.lowercased()) {
            hints.append("Content-Type names charset \(printable(charset)), but \(source) sends UTF-8; something in between may have re-encoded the body")
        }
        return hints
    }

    /// The last hint of a mismatch, and the honest limit of what can be told.
    static func wrongSecret(source: String, setting: String) -> String {
        "otherwise the \(setting) set in \(source) differs from the key file: paste the key file's content into it again (hookgate keygen writes keys without a final newline); hookgate cannot tell a wrong secret from a body re-indented or re-encoded on the way (JSON that is not valid UTF-8, or was reformatted, still parses)"
    }

    /// The endpoint's keys: how many key files, and how many candidates were tried (newline variants).
    static func candidates(_ key: EndpointKey) -> String {
        let files = "\(key.fileCount) key file\(key.fileCount == 1 ? "" : "s")"
        let count = key.candidates.count
        return count == key.fileCount
            ? "endpoint's keys (\(files), \(count) candidate\(count == 1 ? "" : "s"))"
            : "endpoint's keys (\(files), \(count) candidates: each file as stored, and without its final newline)"
    }

    /// A header value fit for a log line: printable ASCII, at most 40 characters.
    static func printable(_ value: String) -> String {
        let clean = value.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7f ? Character($0) : Character("?") }
        return clean.count > 40 ? String(clean.prefix(40)) + "…" : String(clean)
    }

    /// A `name=value` parameter of a header such as Content-Type, unquoted.
    static func parameter(_ name: String, of header: String) -> String? {
        for part in header.split(separator: ";").dropFirst() {
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == name else { continue }
            return pair[1].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return nil
    }
}

/// A header that tells which kind of sender made a request. Data, not a switch: a new source adds
/// its lines here (its `sources` are config names, so sources not yet built can be listed).
struct SenderHeader {
    var name: String
    var sender: String
    var sources: [String]

    var fieldName: HTTPField.Name { HTTPField.Name(name)! }

    /// Headers that carry a signature or a token. (`Authorization` is not here: proxies and basic
    /// auth use it too, so it says nothing about the sender.)
    static let authentication: [SenderHeader] = [
        SenderHeader(name: "X-Hub-Signature-256", sender: "GitHub and Gitea", sources: ["GitHub", "Gitea"]),
        SenderHeader(name: "X-Hub-Signature", sender: "GitHub, Bitbucket and Gitea", sources: ["GitHub", "BitbucketCloud", "BitbucketServer", "Gitea"]),
        SenderHeader(name: "X-Gitlab-Token", sender: "GitLab", sources: ["GitLab"]),
        SenderHeader(name: "X-Gitea-Signature", sender: "Gitea", sources: ["Gitea"]),
        SenderHeader(name: "X-Forgejo-Signature", sender: "Forgejo", sources: ["Gitea"]),
        SenderHeader(name: "X-Gogs-Signature", sender: "Gogs", sources: ["Gitea"]),
        SenderHeader(name: "X-Nexus-Webhook-Signature", sender: "Nexus", sources: ["Nexus"]),
        SenderHeader(name: "webhook-signature", sender: "a Standard Webhooks sender (GitLab signing tokens, Svix)", sources: ["StandardWebhooks"]),
        SenderHeader(name: "X-Signature", sender: "a generic HMAC sender (Flux's generic-hmac)", sources: ["GenericHMAC"]),
        SenderHeader(name: "X-JFrog-Event-Auth", sender: "JFrog Artifactory", sources: ["Artifactory"]),
    ]

    /// Headers that name the event.
    static let events: [SenderHeader] = [
        SenderHeader(name: "X-GitHub-Event", sender: "GitHub and Gitea", sources: ["GitHub", "Gitea"]),
        SenderHeader(name: "X-Gitlab-Event", sender: "GitLab", sources: ["GitLab"]),
        SenderHeader(name: "X-Event-Key", sender: "Bitbucket Cloud and Bitbucket Server", sources: ["BitbucketCloud", "BitbucketServer"]),
        SenderHeader(name: "X-Gitea-Event", sender: "Gitea", sources: ["Gitea"]),
        SenderHeader(name: "X-Forgejo-Event", sender: "Forgejo", sources: ["Gitea"]),
        SenderHeader(name: "X-Gogs-Event", sender: "Gogs", sources: ["Gitea"]),
        SenderHeader(name: "X-Nexus-Webhook-Id", sender: "Nexus", sources: ["Nexus"]),
    ]
}

import Crypto
import Foundation
import Synchronization
import _CryptoExtras

/// The App's JWT: RS256 over `{"alg":"RS256","typ":"JWT"}` and `iat` (now − 60 s, for clock
/// drift), `exp` (now + 9 min; GitHub allows 10), `iss` (the App id or client id), signed with the
/// App's key. One is reused until a minute before it expires.
public final class AppJWT: Sendable {
    private let app: GitHubApp
    private let cached = Mutex<(token: String, expires: Date)?>(nil)

    static let backdate: TimeInterval = 60
    static let lifetime: TimeInterval = 9 * 60
    static let renewBefore: TimeInterval = 60

    public init(app: GitHubApp) {
        self.app = app
    }

    /// A JWT valid for at least a minute from `now`.
    public func token(now: Date = Date()) throws -> String {
        if let cached = cached.withLock({ $0 }), cached.expires.timeIntervalSince(now) > Self.renewBefore { return cached.token }
        let expires = now.addingTimeInterval(Self.lifetime)
        let token = try Self.sign(issuer: app.issuer, issuedAt: now.addingTimeInterval(-Self.backdate), expires: expires, key: app.privateKey.key)
        cached.withLock { $0 = (token, expires) }
        return token
    }

    static func sign(issuer: String, issuedAt: Date, expires: Date, key: _RSA.Signing.PrivateKey) throws -> String {
        struct Claims: Encodable {
            var iat: Int
            var exp: Int
            var iss: String
        }
        let header = Data(#"{"alg":"RS256","typ":"JWT"}"#.utf8)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let claims = try encoder.encode(Claims(iat: Int(issuedAt.timeIntervalSince1970), exp: Int(expires.timeIntervalSince1970), iss: issuer))
        let signed = base64URL(header) + "." + base64URL(claims)
        let signature = try key.signature(for: SHA256.hash(data: Data(signed.utf8)), padding: .insecurePKCS1v1_5)
        return signed + "." + base64URL(signature.rawRepresentation)
    }

    /// Base64url without padding (RFC 7515 §2), from Foundation's base64.
    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

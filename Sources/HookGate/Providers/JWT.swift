import Crypto
import CryptoExtras
import Foundation

/// Why a token was refused; phrased for the operator, never containing the token.
struct JWTError: Error, CustomStringConvertible {
    var description: String
    /// True when the token could not be checked (Google's keys unreachable), not found wrong.
    var isTransient = false
    /// What to do about it, for the operator (``HookFailure/hints``).
    var hints: [String] = []
    init(_ description: String, isTransient: Bool = false, hints: [String] = []) {
        self.description = description
        self.isTransient = isTransient
        self.hints = hints
    }
}

/// A compact JWS (`header.claims.signature`), decoded but not yet trusted.
struct JWT {
    var algorithm: String
    var keyID: String?
    var claims: Claims
    private var signedPart: Data
    private var signature: Data

    init(_ token: String) throws(JWTError) {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let header = Data(base64URL: parts[0]), let payload = Data(base64URL: parts[1]),
              let signature = Data(base64URL: parts[2])
        else { throw JWTError("the bearer token is not a JWT") }
        struct Header: Decodable { var alg: String; var kid: String? }
        guard let decodedHeader = try? JSONDecoder().decode(Header.self, from: header) else { throw JWTError("the JWT header is not valid JSON") }
        do {
            claims = try JSONDecoder().decode(Claims.self, from: payload)
        } catch {
            throw JWTError("the JWT claims are not valid JSON with a numeric `exp`")
        }
        algorithm = decodedHeader.alg
        keyID = decodedHeader.kid
        signedPart = Data("\(parts[0]).\(parts[1])".utf8)
        self.signature = signature
    }

    func isSigned(by key: _RSA.Signing.PublicKey) -> Bool {
        key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: SHA256.hash(data: signedPart), padding: .insecurePKCS1v1_5)
    }

    /// The claims Google puts in a Pub/Sub push token.
    struct Claims: Decodable {
        var iss: String?
        var aud: Audience?
        var exp: Double
        var email: String?
        var email_verified: Bool?

        enum CodingKeys: String, CodingKey { case iss, aud, exp, email, email_verified }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            iss = try container.decodeIfPresent(String.self, forKey: .iss)
            aud = try container.decodeIfPresent(Audience.self, forKey: .aud)
            exp = try container.decode(Double.self, forKey: .exp)
            email = try container.decodeIfPresent(String.self, forKey: .email)
            // Google's tokeninfo writes booleans as strings; tokens carry real booleans.
            if let flag = try? container.decodeIfPresent(Bool.self, forKey: .email_verified) {
                email_verified = flag
            } else {
                email_verified = (try? container.decodeIfPresent(String.self, forKey: .email_verified)) == "true"
            }
        }

        /// `aud` may be one string or a list.
        enum Audience: Decodable {
            case one(String), many([String])
            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let list = try? container.decode([String].self) { self = .many(list) } else { self = .one(try container.decode(String.self)) }
            }
            func contains(_ value: String) -> Bool {
                switch self {
                case .one(let one): one == value
                case .many(let many): many.contains(value)
                }
            }
        }

        /// Allowed clock difference between Google and this host.
        static let leeway: TimeInterval = 60
        static let issuers: Set<String> = ["https://accounts.google.com", "accounts.google.com"]

        func check(audience: String, email expectedEmail: String?, now: Date) throws(JWTError) {
            guard let iss, Self.issuers.contains(iss) else { throw JWTError("the token's issuer \(iss ?? "(none)") is not Google") }
            guard aud?.contains(audience) == true else {
                throw JWTError("the token's audience is not the configured gcr.audience", hints: [
                    "Pub/Sub uses the push endpoint's URL as the audience unless the subscription names one: set gcr.audience to exactly what the subscription's authentication settings show"])
            }
            guard exp + Self.leeway > now.timeIntervalSince1970 else {
                let elapsed = (now.timeIntervalSince1970 - exp) / 60
                let minutes = elapsed.isNaN ? 0 : Int(min(max(elapsed, 0), 1e12))
                throw JWTError("the token expired \(minutes < 1 ? "under a minute" : minutes < 120 ? "\(minutes) min" : "\(minutes / 60) h") ago", hints: [
                    "Pub/Sub tokens live an hour, so a captured request cannot be verified later; a fresh one failing means this host's clock is off (check NTP)"])
            }
            if let expectedEmail {
                guard email == expectedEmail else { throw JWTError("the token was issued to \(email ?? "(no email)"), not \(expectedEmail)") }
                guard email_verified == true else { throw JWTError("the token's email is not verified") }
            }
        }
    }
}

extension Data {
    /// Decodes base64url without padding, as JWTs and JWKs use it.
    init?(base64URL text: some StringProtocol) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        self.init(base64Encoded: base64)
    }
}

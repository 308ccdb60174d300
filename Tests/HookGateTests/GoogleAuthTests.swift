import Foundation
import HookGate
import HookGateTestSupport
import Testing

/// Pub/Sub push tokens made by Python's `cryptography` (RS256), served with their JWKS by a real
/// HTTP server standing in for Google's keys URL.
@Suite(.serialized) struct GoogleAuthTests {
    struct Tokens: Decodable {
        var jwks: String
        var valid: String
        var wrongAudience: String
        var expired: String
        /// Signed by Google's key but expired before time began (found by reading the fuzzer's blind spot).
        var ancient: String
        var wrongEmail: String
        var wrongIssuer: String
        var unknownKey: String
        var tampered: String
        var hs256: String
    }

    static let tokens: Tokens = {
        let output = Python.run("""
            import base64, json, time, hmac, hashlib
            from cryptography.hazmat.primitives.asymmetric import rsa, padding
            from cryptography.hazmat.primitives import hashes
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b'=').decode()
            numbers = key.public_key().public_numbers()
            n = numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, 'big')
            e = numbers.e.to_bytes(3, 'big')
            jwks = {"keys": [{"kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig", "n": b64(n), "e": b64(e)}]}
            def token(claims, kid="k1", alg="RS256"):
                head = b64(json.dumps({"alg": alg, "kid": kid, "typ": "JWT"}).encode())
                body = b64(json.dumps(claims).encode())
                signed = (head + "." + body).encode()
                if alg == "HS256":
                    sig = hmac.new(b"guess", signed, hashlib.sha256).digest()
                else:
                    sig = key.sign(signed, padding.PKCS1v15(), hashes.SHA256())
                return head + "." + body + "." + b64(sig)
            now = int(time.time())
            base = {"iss": "https://accounts.google.com", "aud": "hookgate-test", "email": "pub@p.iam.gserviceaccount.com",
                    "email_verified": True, "iat": now, "exp": now + 3600, "sub": "1"}
            valid = token(base)
            parts = valid.split(".")
            tampered = parts[0] + "." + b64(json.dumps({**base, "aud": "hookgate-test", "sub": "2"}).encode()) + "." + parts[2]
            print(json.dumps({"jwks": json.dumps(jwks), "valid": valid, "wrongAudience": token({**base, "aud": "other"}),
                "expired": token({**base, "exp": now - 3600}), "ancient": token({**base, "exp": -1e300}), "wrongEmail": token({**base, "email": "x@example.com"}),
                "wrongIssuer": token({**base, "iss": "https://evil.example.com"}), "unknownKey": token(base, kid="k2"),
                "tampered": tampered, "hs256": token(base, alg="HS256")}))
            """)
        return try! JSONDecoder().decode(Tokens.self, from: Data(output.utf8))
    }()

    @Test func tokensAreCheckedAgainstFetchedKeys() async throws {
        let tokens = Self.tokens
        let keys = try await RecordingServer.start { _ in .init(body: tokens.jwks) }
        defer { Task { await keys.stop() } }
        let auth = GoogleAuthSettings(audience: "hookgate-test", email: "pub@p.iam.gserviceaccount.com", keysURL: keys.baseURL + "/oauth2/v3/certs")
        let body = Fixtures.data("gcr-pubsub_push-INSERT.json")
        func send(_ token: String?) async -> Int? {
            await status { () async throws(HookFailure) in
                try await receive(.googleContainerRegistry, key: "gcr", headers: token.map { ["Authorization": "Bearer " + $0] } ?? [:], body: body, gcr: auth)
            }
        }
        #expect(await send(tokens.valid) == nil)
        #expect(await send(nil) == 401)
        #expect(await send("not-a-jwt") == 401)
        for token in [tokens.wrongAudience, tokens.expired, tokens.ancient, tokens.wrongEmail, tokens.wrongIssuer, tokens.unknownKey, tokens.tampered, tokens.hs256] {
            #expect(await send(token) == 401)
        }
        let events = try await receive(.googleContainerRegistry, key: "gcr", headers: ["Authorization": "Bearer " + tokens.valid], body: body, gcr: auth)
        #expect(fluxBodies(events) == [#"{"Kind":"image","Source":{"Name":{"Domain":"us.gcr.io","Image":"am/am.kebab.api"}}}"#])
        #expect(await keys.requests.allSatisfy { $0.path == "/oauth2/v3/certs" })
    }

    /// The sender should retry later, so not 401.
    @Test func unreachableKeysURLAnswers503() async {
        let auth = GoogleAuthSettings(audience: "hookgate-test", keysURL: "http://127.0.0.1:1/certs")
        let code = await status { () async throws(HookFailure) in
            try await receive(.googleContainerRegistry, key: "gcr", headers: ["Authorization": "Bearer " + Self.tokens.valid],
                              body: Fixtures.data("gcr-pubsub_push-INSERT.json"), gcr: auth)
        }
        #expect(code == 503)
    }
}

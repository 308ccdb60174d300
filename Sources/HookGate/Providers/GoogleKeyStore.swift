import AsyncHTTPClient
import CryptoExtras
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Google's token-signing keys, fetched from a JWKS URL and cached.
///
/// Keys are refreshed after ``maxAge``, or sooner when a token names a key id not yet seen
/// (Google rotates keys), but not more often than ``minRefreshInterval`` so that forged key ids
/// cannot make hookgate hammer the keys URL.
public actor GoogleKeyStore {
    private let client: HTTPClient
    private let logger: Logger
    private var cache: [String: Entry] = [:]

    static let maxAge: TimeInterval = 3600
    static let minRefreshInterval: TimeInterval = 60
    static let timeout: TimeAmount = .seconds(10)
    static let maxResponseBytes = 1 << 20

    private struct Entry {
        var keys: [String: _RSA.Signing.PublicKey]
        var fetched: Date
    }

    public init(client: HTTPClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    func key(id: String?, from url: String) async throws(JWTError) -> _RSA.Signing.PublicKey {
        let now = Date()
        if let entry = cache[url], now.timeIntervalSince(entry.fetched) < Self.maxAge {
            if let key = lookup(id, in: entry.keys) { return key }
            guard now.timeIntervalSince(entry.fetched) >= Self.minRefreshInterval else {
                throw JWTError("the token names key \(id ?? "(none)"), which Google's key set does not hold")
            }
        }
        let keys = try await fetch(url)
        cache[url] = Entry(keys: keys, fetched: now)
        guard let key = lookup(id, in: keys) else {
            throw JWTError("the token names key \(id ?? "(none)"), which Google's key set does not hold")
        }
        return key
    }

    private func lookup(_ id: String?, in keys: [String: _RSA.Signing.PublicKey]) -> _RSA.Signing.PublicKey? {
        if let id { return keys[id] }
        return keys.count == 1 ? keys.values.first : nil
    }

    private func fetch(_ url: String) async throws(JWTError) -> [String: _RSA.Signing.PublicKey] {
        struct KeySet: Decodable {
            struct Key: Decodable { var kid: String?; var kty: String; var n: String?; var e: String? }
            var keys: [Key]
        }
        do {
            let response = try await client.execute(HTTPClientRequest(url: url), timeout: Self.timeout)
            guard response.status == .ok else { throw JWTError("fetching Google's keys from \(url) answered \(response.status.code)", isTransient: true) }
            let body = try await response.body.collect(upTo: Self.maxResponseBytes)
            let set = try JSONDecoder().decode(KeySet.self, from: Data(body.readableBytesView))
            var keys: [String: _RSA.Signing.PublicKey] = [:]
            for (index, jwk) in set.keys.enumerated() where jwk.kty == "RSA" {
                guard let n = jwk.n.flatMap({ Data(base64URL: $0) }), let e = jwk.e.flatMap({ Data(base64URL: $0) }) else { continue }
                keys[jwk.kid ?? "#\(index)"] = try _RSA.Signing.PublicKey(n: n, e: e)
            }
            logger.debug("fetched Google's token keys", metadata: ["gcr.keys.url": "\(url)", "gcr.keys.count": "\(keys.count)"])
            return keys
        } catch let error as JWTError {
            throw error
        } catch {
            throw JWTError("cannot fetch Google's keys from \(url): \(error)", isTransient: true)
        }
    }
}

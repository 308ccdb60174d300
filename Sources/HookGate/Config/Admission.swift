import Foundation

/// How many requests an endpoint takes: `requests` per `per` on average, up to `burst` at once
/// (`rateLimit:` of an endpoint). A token bucket: it holds `burst` tokens, refilled at the rate.
public struct RateLimit: Sendable, Equatable, CustomStringConvertible {
    public var requests: Int
    public var per: Duration
    public var burst: Int

    public init(requests: Int, per: Duration, burst: Int? = nil) {
        precondition(requests > 0 && per > .zero, "a rate limit lets some requests through")
        self.requests = requests
        self.per = per
        self.burst = burst ?? requests
    }

    /// Tokens added per second.
    var perSecond: Double {
        Double(requests) / (Double(per.components.seconds) + Double(per.components.attoseconds) / 1e18)
    }

    /// `60 per 1m, burst 20`, as the config writes it.
    public var description: String {
        let milliseconds = per.components.seconds * 1000 + per.components.attoseconds / 1_000_000_000_000_000
        let units: [(String, Int64)] = [("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)]
        let period = units.first { milliseconds % $0.1 == 0 }.map { "\(milliseconds / $0.1)\($0.0)" } ?? "\(milliseconds)ms"
        return "\(requests) per \(period), burst \(burst)"
    }
}

/// Which clients an endpoint answers (`allowFrom:`), judged on the address of the peer or, when
/// the peer is a trusted proxy, on the address it reports in `X-Forwarded-For`.
public struct ClientAddressPolicy: Sendable, Equatable {
    /// Proxies whose `X-Forwarded-For` is believed (`trustedProxies:` at the top of the config).
    public var trustedProxies: [AddressRange]

    public init(trustedProxies: [AddressRange] = []) {
        self.trustedProxies = trustedProxies
    }

    /// The client a request came from: the peer itself, unless the peer is a trusted proxy; then
    /// `X-Forwarded-For` is read from the right (the entry the nearest proxy added) and the first
    /// address that is not a trusted proxy is the client. Entries left of it were written by the
    /// client or by proxies hookgate does not know, so they prove nothing. Nil when the address
    /// cannot be told (an unparsable entry where the client should be).
    public func client(peer: IPAddress?, forwardedFor: [String]) -> IPAddress? {
        guard let peer else { return nil }
        guard trustedProxies.contains(peer) else { return peer }
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
        var client = peer
        for hop in hops.reversed() {
            guard let address = IPAddress(hop) else { return nil }
            client = address
            if !trustedProxies.contains(address) { break }
        }
        return client
    }

    /// The address a per-client cap (`limits.maxConcurrentRequestsPerClient`) applies to: the
    /// client, unless the request came through a proxy hookgate does not trust (it carries
    /// `X-Forwarded-For` from a peer outside `trustedProxies`). Such a peer's address stands for
    /// every client behind it, so capping it would let one flood lock all of them out; the
    /// endpoint's share still bounds the flood. Nil: not capped per client.
    public func cappedClient(peer: IPAddress?, forwardedFor: [String]) -> IPAddress? {
        guard let peer else { return nil }
        if trustedProxies.contains(peer) { return client(peer: peer, forwardedFor: forwardedFor) }
        return forwardedFor.isEmpty ? peer : nil
    }
}

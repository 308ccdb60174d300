import Foundation
import NIOHTTP1
import Synchronization

/// Holds back calls to one API while its host asked to wait: after a 403 or 429 that carries
/// `Retry-After` or says no requests are left, or a success that says none are left.
public final class RateLimitPacer: Sendable {
    private let pausedUntil = Mutex<Date?>(nil)

    public init() {}

    /// When calls may start again; nil when they may now.
    public func waitUntil(now: Date = Date()) -> Date? {
        pausedUntil.withLock { until in
            guard let date = until, date > now else { return nil }
            return date
        }
    }

    /// Reads an answer's rate-limit headers; returns the pause it asks for, if any.
    @discardableResult
    func record(status: UInt, headers: HTTPHeaders, now: Date = Date()) -> Date? {
        let remaining = (headers.first(name: "X-RateLimit-Remaining") ?? headers.first(name: "RateLimit-Remaining")).flatMap { Int($0) }
        let limited = status == 429 || (status == 403 && (headers.first(name: "Retry-After") != nil || remaining == 0))
        guard limited || remaining == 0 else { return nil }
        var until = now.addingTimeInterval(60)
        if let wait = RetryAfter.parse(headers.first(name: "Retry-After"), now: now) {
            until = now.addingTimeInterval(wait.seconds)
        } else if let reset = (headers.first(name: "X-RateLimit-Reset") ?? headers.first(name: "RateLimit-Reset")).flatMap(Double.init) {
            // GitHub and GitLab send Unix seconds.
            until = Date(timeIntervalSince1970: reset)
        }
        // Never trust a pause of more than an hour, nor one in the past when the host said stop.
        until = min(max(until, now.addingTimeInterval(1)), now.addingTimeInterval(3600))
        pausedUntil.withLock { $0 = max($0 ?? until, until) }
        return until
    }

}

extension RateLimitPacer {
    private static let byAPI = Mutex<[String: RateLimitPacer]>([:])

    /// The process's pacer of the API at `url`: a rate limit holds back every caller of that API
    /// (registration, recovery, status reports).
    public static func shared(for url: String) -> RateLimitPacer {
        byAPI.withLock { pacers in
            if let pacer = pacers[url] { return pacer }
            let pacer = RateLimitPacer()
            pacers[url] = pacer
            return pacer
        }
    }
}

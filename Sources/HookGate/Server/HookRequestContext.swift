import Hummingbird
import HTTPTypes
import NIOCore

/// The request context of hookgate's router: Hummingbird's basic one, plus the peer's address,
/// which `allowFrom` checks.
struct HookRequestContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}

extension HTTPField.Name {
    /// The client and proxy addresses a request passed, left to right; believed only from `trustedProxies`.
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
}

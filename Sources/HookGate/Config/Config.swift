/// A loaded, validated configuration: every key file read, every fingerprint computed.
///
/// Immutable once built; a reload builds a new one.
public struct Config: Sendable {
    /// Which schema the file was written in.
    public enum Format: String, Sendable {
        /// `fluxRecvVersion: 1`: a fluxcd/flux-recv config, used unchanged.
        case fluxRecv
        /// `hookgateVersion: 1`: hookgate's own schema, a superset.
        case hookgate
    }

    /// The config file this was loaded from.
    public var file: String
    public var format: Format
    /// The Flux v1 API base URL (`api`), used by endpoints that say nothing else.
    public var api: String
    public var limits: Limits
    public var delivery: DeliverySettings
    public var endpoints: [Endpoint]
    /// Things that work but deserve the operator's attention (key files ending in a newline …).
    public var warnings: [ConfigProblem]

    /// The default Flux v1 API base URL, as flux-recv had it.
    public static let defaultAPI = "http://localhost:3030/api/flux"

    public init(
        file: String, format: Format, api: String, limits: Limits, delivery: DeliverySettings = DeliverySettings(),
        endpoints: [Endpoint], warnings: [ConfigProblem]
    ) {
        self.file = file
        self.format = format
        self.api = api
        self.limits = limits
        self.delivery = delivery
        self.endpoints = endpoints
        self.warnings = warnings
    }
}

/// Bounds on what the server accepts from the network.
public struct Limits: Sendable, Equatable {
    /// Largest request body accepted; larger ones get 413. GitHub caps payloads at 25 MB.
    public var maxBodyBytes: Int

    public static let defaultMaxBodyBytes = 25 * 1024 * 1024

    public init(maxBodyBytes: Int = Limits.defaultMaxBodyBytes) {
        self.maxBodyBytes = maxBodyBytes
    }
}

/// What an endpoint does with the events it receives.
public enum NotifyAction: Sendable, Equatable {
    /// `POST {url}/v11/notify` to a Flux v1 daemon, as flux-recv did.
    case fluxAPI(url: String)
    /// Write each event as one JSON line on standard output.
    case log
}

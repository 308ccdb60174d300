import Foundation

/// A failed Kubernetes API call, read from the API's `Status` object and phrased for the operator.
public struct KubeError: Error, Sendable, CustomStringConvertible {
    public enum Reason: String, Sendable {
        case forbidden = "Forbidden"
        case notFound = "NotFound"
        case alreadyExists = "AlreadyExists"
        case conflict = "Conflict"
        case unauthorized = "Unauthorized"
        case invalid = "Invalid"
        /// Any other `Status` reason, or an answer that was not a `Status`.
        case other
        /// No answer: connection refused, TLS, DNS.
        case unreachable
        case timeout
    }

    public var reason: Reason
    /// The HTTP status, when the API answered.
    public var code: Int?
    public var description: String

    public init(reason: Reason, code: Int?, description: String) {
        self.reason = reason
        self.code = code
        self.description = description
    }

    /// The verb and resource a call needed, to explain a refusal.
    struct Call {
        var verb: String
        var resource: KubeResource
        var namespace: String
        var name: String?
    }

    /// Reads an error answer.
    static func from(status code: Int, body: Data, call: Call) -> KubeError {
        struct Status: Decodable { var reason: String?; var message: String? }
        let status = try? JSONDecoder().decode(Status.self, from: body)
        let reason = status?.reason.flatMap(Reason.init(rawValue:)) ?? .other
        let message = status?.message ?? String(decoding: body.prefix(200), as: UTF8.self)
        let object = call.name.map { "\(call.resource.kind) \(call.namespace)/\($0)" } ?? "\(call.resource) in namespace \(call.namespace)"
        switch reason {
        case .forbidden:
            let group = call.resource.group
            return KubeError(reason: .forbidden, code: code, description: """
                forbidden: hookgate's identity may not \(call.verb) \(call.resource) in namespace \(call.namespace); \
                a Role there with the rule {apiGroups: ["\(group)"], resources: ["\(call.resource.plural)"], verbs: ["\(call.verb)"]} \
                bound to hookgate's service account grants it (the API said: \(message))
                """)
        case .notFound:
            return KubeError(reason: .notFound, code: code, description: "\(object) not found (\(message))")
        case .unauthorized:
            return KubeError(reason: .unauthorized, code: code, description: "the API server did not accept hookgate's credentials: \(message)")
        default:
            return KubeError(reason: reason, code: code, description: "\(call.verb) \(object) failed with \(code): \(message)")
        }
    }

    /// The same failure as the delivery queue sees it: refusals (4xx) are not retried.
    var notifyFailure: NotifyFailure {
        switch reason {
        case .unreachable: NotifyFailure(.unreachable, description)
        case .timeout: NotifyFailure(.timeout, description)
        default: NotifyFailure(.rejected, description, status: code)
        }
    }
}

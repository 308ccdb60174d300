import Foundation
import Yams

/// How to reach the Kubernetes API: from a kubeconfig file, or from inside a pod.
public struct KubeConnection: Sendable {
    public enum Credentials: Sendable {
        /// A bearer token.
        case token(String)
        /// A bearer token in a file that may be rotated (the kubelet's projected token).
        case tokenFile(String)
        /// A client certificate and its key, PEM.
        case clientCertificate(certificate: [UInt8], key: [UInt8])
        case none
    }

    /// `https://host:port`, without a trailing slash.
    public var server: String
    /// PEM certificates that verify the server; nil trusts the system's roots.
    public var certificateAuthority: [UInt8]?
    public var insecureSkipTLSVerify: Bool
    public var credentials: Credentials
    /// The namespace to use when an action names none.
    public var namespace: String
    /// Where these settings came from, for the start-up log.
    public var origin: String

    public init(
        server: String, certificateAuthority: [UInt8]?, insecureSkipTLSVerify: Bool = false, credentials: Credentials,
        namespace: String, origin: String
    ) {
        var server = server
        while server.hasSuffix("/") { server.removeLast() }
        self.server = server
        self.certificateAuthority = certificateAuthority
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
        self.credentials = credentials
        self.namespace = namespace
        self.origin = origin
    }

    /// The standard place of a pod's service-account token, CA and namespace.
    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// Chooses the connection the way kubectl and client-go do: `kubeconfig` if given, else
    /// `$KUBECONFIG`, else in-cluster when `KUBERNETES_SERVICE_HOST` is set; nil when none applies.
    public static func resolve(
        kubeconfig: String?, serviceAccountDirectory: String = serviceAccountDirectory,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(KubeConfigError) -> KubeConnection? {
        if let path = kubeconfig ?? environment["KUBECONFIG"]?.split(separator: ":").first.map(String.init), !path.isEmpty {
            return try fromKubeconfig(path: path)
        }
        if environment["KUBERNETES_SERVICE_HOST"] != nil {
            return try inCluster(directory: serviceAccountDirectory, environment: environment)
        }
        return nil
    }

    /// A pod's view: `KUBERNETES_SERVICE_HOST`/`_PORT`, and `token`, `ca.crt`, `namespace` files.
    /// The token is re-read as the kubelet rotates it.
    public static func inCluster(directory: String, environment: [String: String]) throws(KubeConfigError) -> KubeConnection {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], let port = environment["KUBERNETES_SERVICE_PORT"] else {
            throw KubeConfigError("not in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set")
        }
        let tokenPath = directory + "/token"
        guard FileManager.default.isReadableFile(atPath: tokenPath) else {
            throw KubeConfigError("no service-account token at \(tokenPath); is automountServiceAccountToken off?")
        }
        let ca = FileManager.default.contents(atPath: directory + "/ca.crt").map { Array($0) }
        let namespace = FileManager.default.contents(atPath: directory + "/namespace")
            .map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) } ?? "default"
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return KubeConnection(
            server: "https://\(hostPart):\(port)", certificateAuthority: ca, credentials: .tokenFile(tokenPath),
            namespace: namespace.isEmpty ? "default" : namespace, origin: "in-cluster service account (\(directory))")
    }

    /// The current context of a kubeconfig file: token, token file or client-certificate users,
    /// `certificate-authority` or `-data`.
    public static func fromKubeconfig(path: String, context contextName: String? = nil) throws(KubeConfigError) -> KubeConnection {
        guard let data = FileManager.default.contents(atPath: path) else { throw KubeConfigError("cannot read the kubeconfig \(path)") }
        let folder = (path as NSString).deletingLastPathComponent
        func resolvePath(_ file: String) -> String { file.hasPrefix("/") ? file : (folder as NSString).appendingPathComponent(file) }
        func read(_ file: String, _ what: String) throws(KubeConfigError) -> [UInt8] {
            guard let bytes = FileManager.default.contents(atPath: resolvePath(file)) else { throw KubeConfigError("\(path): cannot read \(what) \(file)") }
            return Array(bytes)
        }
        func base64(_ text: String, _ what: String) throws(KubeConfigError) -> [UInt8] {
            guard let bytes = Data(base64Encoded: text) else { throw KubeConfigError("\(path): \(what) is not base64") }
            return Array(bytes)
        }
        let root: [String: Any]
        do {
            guard let loaded = try Yams.load(yaml: String(decoding: data, as: UTF8.self)) as? [String: Any] else {
                throw KubeConfigError("\(path) is not a kubeconfig")
            }
            root = loaded
        } catch let error as KubeConfigError {
            throw error
        } catch {
            throw KubeConfigError("\(path) is not valid YAML: \(error)")
        }
        func named(_ list: String, _ name: String?) -> [String: Any]? {
            (root[list] as? [[String: Any]])?.first { $0["name"] as? String == name }
        }
        let current = contextName ?? root["current-context"] as? String
        guard let context = named("contexts", current)?["context"] as? [String: Any] else {
            throw KubeConfigError("\(path): no context \(current ?? "(current-context is not set)")")
        }
        guard let cluster = named("clusters", context["cluster"] as? String)?["cluster"] as? [String: Any],
              let server = cluster["server"] as? String
        else { throw KubeConfigError("\(path): the context's cluster has no server") }
        let user = named("users", context["user"] as? String)?["user"] as? [String: Any] ?? [:]

        var ca: [UInt8]?
        if let dataText = cluster["certificate-authority-data"] as? String {
            ca = try base64(dataText, "certificate-authority-data")
        } else if let file = cluster["certificate-authority"] as? String {
            ca = try read(file, "certificate-authority")
        }
        let credentials: Credentials
        if let token = user["token"] as? String {
            credentials = .token(token)
        } else if let file = user["tokenFile"] as? String {
            credentials = .tokenFile(resolvePath(file))
        } else if user["client-certificate"] != nil || user["client-certificate-data"] != nil {
            let certificate: [UInt8]
            if let text = user["client-certificate-data"] as? String {
                certificate = try base64(text, "client-certificate-data")
            } else {
                certificate = try read(user["client-certificate"] as? String ?? "", "client-certificate")
            }
            let key: [UInt8]
            if let text = user["client-key-data"] as? String {
                key = try base64(text, "client-key-data")
            } else {
                key = try read(user["client-key"] as? String ?? "", "client-key")
            }
            credentials = .clientCertificate(certificate: certificate, key: key)
        } else if user["exec"] != nil || user["auth-provider"] != nil {
            throw KubeConfigError("\(path): exec and auth-provider users are not supported; use a token, tokenFile or client certificate")
        } else {
            credentials = .none
        }
        return KubeConnection(
            server: server, certificateAuthority: ca, insecureSkipTLSVerify: cluster["insecure-skip-tls-verify"] as? Bool ?? false,
            credentials: credentials, namespace: context["namespace"] as? String ?? "default",
            origin: "kubeconfig \(path) (context \(current ?? "?"))")
    }
}

/// A kubeconfig or in-cluster setup that cannot be used.
public struct KubeConfigError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

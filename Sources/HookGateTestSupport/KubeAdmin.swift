import Foundation
import Yams

/// The real API server that `scripts/kube-up` started (its `env` exported by `scripts/test`),
/// driven as a cluster admin with curl.
public struct KubeAdmin: Sendable {
    public let url: String
    public let caFile: String
    public let adminToken: String
    /// A folder laid out like a pod's service-account mount, for a user with no rights of its own.
    public let serviceAccountDir: String
    public let kubeconfig: String

    /// The cluster from the environment, or nil when none was started.
    public static let current: KubeAdmin? = {
        let env = ProcessInfo.processInfo.environment
        guard let url = env["KUBE_API_URL"], let ca = env["KUBE_CA_FILE"], let token = env["KUBE_ADMIN_TOKEN"],
              let sa = env["KUBE_SA_DIR"], let kubeconfig = env["KUBECONFIG"]
        else { return nil }
        return KubeAdmin(url: url, caFile: ca, adminToken: token, serviceAccountDir: sa, kubeconfig: kubeconfig)
    }()

    /// One call; returns the status and the body.
    @discardableResult
    public func call(_ method: String, _ path: String, json: String? = nil, contentType: String = "application/json") -> (Int, String) {
        var arguments = ["-s", "-o", "/dev/stdout", "-w", "\n%{http_code}", "--cacert", caFile, "-H", "Authorization: Bearer \(adminToken)", "-X", method]
        if let json { arguments += ["-H", "Content-Type: \(contentType)", "--data-binary", json] }
        arguments.append(url + path)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["curl"] + arguments
        let out = Pipe()
        process.standardOutput = out
        do { try process.run() } catch { fatalError("cannot run curl: \(error)") }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard let split = text.lastIndex(of: "\n") else { return (0, text) }
        return (Int(text[text.index(after: split)...]) ?? 0, String(text[..<split]))
    }

    /// Creates every object of a multi-document YAML file (ignoring ones that exist).
    public func apply(file: String) throws {
        for document in try Yams.load_all(yaml: String(contentsOfFile: file, encoding: .utf8)) {
            guard let object = document as? [String: Any] else { continue }
            try create(object)
        }
    }

    /// Creates one object from its parsed form.
    public func create(_ object: [String: Any]) throws {
        let path = try collectionPath(object)
        let json = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        let (status, body) = call("POST", path, json: json)
        guard (200..<300).contains(status) || status == 409 else { throw AdminError("POST \(path) answered \(status): \(body)") }
    }

    /// Creates one object with `dryRun=All`, or replaces it so when it exists (another test made
    /// it): validated and admitted as for real, never stored. Returns the status and the object
    /// as the API server would have stored it (defaults set).
    public func dryRun(_ object: [String: Any]) throws -> (Int, String) {
        let collection = try collectionPath(object)
        let json = { (object: [String: Any]) in String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self) }
        let created = call("POST", collection + "?dryRun=All", json: try json(object))
        guard created.0 == 409, let name = (object["metadata"] as? [String: Any])?["name"] as? String,
              let existing = get(collection + "/" + name)?["metadata"] as? [String: Any] else { return created }
        var replacement = object
        var metadata = object["metadata"] as? [String: Any] ?? [:]
        metadata["resourceVersion"] = existing["resourceVersion"]
        replacement["metadata"] = metadata
        return call("PUT", collection + "/" + name + "?dryRun=All", json: try json(replacement))
    }

    /// Deletes every object of a YAML file.
    public func delete(file: String) throws {
        for document in try Yams.load_all(yaml: String(contentsOfFile: file, encoding: .utf8)) {
            guard let object = document as? [String: Any], let name = (object["metadata"] as? [String: Any])?["name"] as? String else { continue }
            call("DELETE", try collectionPath(object) + "/" + name)
        }
    }

    /// The JSON of one object, or nil when it does not exist.
    public func get(_ path: String) -> [String: Any]? {
        let (status, body) = call("GET", path)
        guard status == 200 else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
    }

    private func collectionPath(_ object: [String: Any]) throws -> String {
        guard let apiVersion = object["apiVersion"] as? String, let kind = object["kind"] as? String else { throw AdminError("no apiVersion or kind") }
        let namespace = (object["metadata"] as? [String: Any])?["namespace"] as? String
        let plural = [
            "Namespace": "namespaces", "ServiceAccount": "serviceaccounts", "Role": "roles", "RoleBinding": "rolebindings",
            "GitRepository": "gitrepositories", "Kustomization": "kustomizations", "PipelineRun": "pipelineruns",
        ][kind] ?? Self.plural(kind)
        let base = apiVersion.contains("/") ? "/apis/\(apiVersion)" : "/api/\(apiVersion)"
        return namespace.map { "\(base)/namespaces/\($0)/\(plural)" } ?? "\(base)/\(plural)"
    }

    /// A kind's resource name: Ingress → ingresses, NetworkPolicy → networkpolicies.
    static func plural(_ kind: String) -> String {
        let lower = kind.lowercased()
        if lower.hasSuffix("y") { return lower.dropLast() + "ies" }
        if lower.hasSuffix("s") { return lower + "es" }
        return lower + "s"
    }

    public struct AdminError: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }
}

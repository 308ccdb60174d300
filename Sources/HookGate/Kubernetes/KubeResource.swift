/// A Kubernetes resource type: where its objects live in the API.
public struct KubeResource: Sendable, Hashable, CustomStringConvertible {
    /// The API group; empty for the core group (`v1`).
    public var group: String
    public var version: String
    /// The plural resource name used in URLs and RBAC rules (`gitrepositories`).
    public var plural: String
    public var kind: String

    public init(group: String, version: String, plural: String, kind: String) {
        self.group = group
        self.version = version
        self.plural = plural
        self.kind = kind
    }

    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }

    /// `gitrepositories.source.toolkit.fluxcd.io`, as RBAC and error messages name it.
    public var description: String { group.isEmpty ? plural : "\(plural).\(group)" }

    /// The URL path of the collection in `namespace`, or of one object in it.
    public func path(namespace: String, name: String? = nil) -> String {
        let base = group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)"
        var path = "\(base)/namespaces/\(namespace)/\(plural)"
        if let name { path += "/\(name)" }
        return path
    }

    /// The current API versions of the Flux and Tekton kinds, so configs may leave them out.
    static let defaultAPIVersions: [String: String] = [
        "GitRepository": "source.toolkit.fluxcd.io/v1",
        "OCIRepository": "source.toolkit.fluxcd.io/v1",
        "HelmRepository": "source.toolkit.fluxcd.io/v1",
        "HelmChart": "source.toolkit.fluxcd.io/v1",
        "Bucket": "source.toolkit.fluxcd.io/v1",
        "Kustomization": "kustomize.toolkit.fluxcd.io/v1",
        "HelmRelease": "helm.toolkit.fluxcd.io/v2",
        "ImageRepository": "image.toolkit.fluxcd.io/v1",
        "ImagePolicy": "image.toolkit.fluxcd.io/v1",
        "ImageUpdateAutomation": "image.toolkit.fluxcd.io/v1",
        "PipelineRun": "tekton.dev/v1",
        "TaskRun": "tekton.dev/v1",
    ]

    /// The resource for `kind`, with `apiVersion` defaulted for Flux and Tekton kinds and the
    /// plural derived from the kind unless given. Nil when the API version is unknown.
    public static func resolve(kind: String, apiVersion: String?, plural: String? = nil) -> KubeResource? {
        guard let apiVersion = apiVersion ?? defaultAPIVersions[kind] else { return nil }
        let parts = apiVersion.split(separator: "/", maxSplits: 1).map(String.init)
        let (group, version) = parts.count == 2 ? (parts[0], parts[1]) : ("", parts[0])
        return KubeResource(group: group, version: version, plural: plural ?? Self.plural(of: kind), kind: kind)
    }

    /// English plural of a kind, lowercased, as Kubernetes derives it (`Policy` → `policies`).
    static func plural(of kind: String) -> String {
        let lower = kind.lowercased()
        if lower.hasSuffix("y"), let last = lower.dropLast().last, !"aeiou".contains(last) { return lower.dropLast() + "ies" }
        if lower.hasSuffix("s") || lower.hasSuffix("x") || lower.hasSuffix("ch") || lower.hasSuffix("sh") { return lower + "es" }
        return lower + "s"
    }
}

import Foundation
import Yams

/// What `kubectl apply -k FOLDER` would send, for the kustomizations the examples use: resources,
/// ConfigMap and Secret generators (from files), the `namespace` and `images` transformers, and
/// patches (returned as they are: the API server applies them as strategic merge patches). A
/// field it does not know is refused, so an example cannot drift past what the tests check.
/// Generated names keep no hash suffix (kustomize rewrites every reference to it alike).
public struct Kustomization {
    public struct Patch {
        public var kind: String
        public var name: String
        public var patch: [String: Any]
    }

    public var objects: [[String: Any]] = []
    public var patches: [Patch] = []

    public struct Problem: Error, CustomStringConvertible {
        public var description: String
    }

    static let known: Set = ["apiVersion", "kind", "namespace", "resources", "patches", "configMapGenerator", "secretGenerator", "generatorOptions", "images"]
    static let clusterScoped: Set = ["Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"]

    public static func render(folder: String) throws -> Kustomization {
        let root = try load(folder + "/kustomization.yaml").first ?? [:]
        if let unknown = Set(root.keys).subtracting(known).first { throw Problem(description: "kustomization.yaml: `\(unknown)` is not rendered by the tests") }
        var result = Kustomization()
        for resource in root["resources"] as? [String] ?? [] {
            result.objects += try load(folder + "/" + resource)
        }
        for generator in root["configMapGenerator"] as? [[String: Any]] ?? [] {
            let data = try files(generator, folder: folder).mapValues { String(decoding: $0, as: UTF8.self) }
            result.objects.append(["apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata(generator), "data": data])
        }
        for generator in root["secretGenerator"] as? [[String: Any]] ?? [] {
            let data = try files(generator, folder: folder).mapValues { $0.base64EncodedString() }
            result.objects.append(["apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": metadata(generator), "data": data])
        }
        for entry in root["patches"] as? [[String: Any]] ?? [] {
            guard let path = entry["path"] as? String, let target = entry["target"] as? [String: Any],
                  let kind = target["kind"] as? String, let name = target["name"] as? String else {
                throw Problem(description: "kustomization.yaml: a patch without path or target kind and name")
            }
            for patch in try load(folder + "/" + path) { result.patches.append(Patch(kind: kind, name: name, patch: patch)) }
        }
        if let namespace = root["namespace"] as? String {
            result.objects = result.objects.map { object in
                guard !clusterScoped.contains(object["kind"] as? String ?? "") else { return object }
                var object = object
                var metadata = object["metadata"] as? [String: Any] ?? [:]
                metadata["namespace"] = namespace
                object["metadata"] = metadata
                return object
            }
        }
        let images = root["images"] as? [[String: Any]] ?? []
        result.objects = result.objects.map { retag($0, images) }
        result.patches = result.patches.map { Patch(kind: $0.kind, name: $0.name, patch: retag($0.patch, images)) }
        return result
    }

    static func load(_ file: String) throws -> [[String: Any]] {
        let text = try String(contentsOfFile: file, encoding: .utf8)
        return try Yams.load_all(yaml: text).compactMap { $0 as? [String: Any] }
    }

    static func metadata(_ generator: [String: Any]) -> [String: Any] {
        var metadata: [String: Any] = ["name": generator["name"] as? String ?? ""]
        metadata["namespace"] = generator["namespace"] as? String
        return metadata
    }

    /// A generator's `files`: `key=path` or `path` (the key is the file's name).
    static func files(_ generator: [String: Any], folder: String) throws -> [String: Data] {
        var data: [String: Data] = [:]
        for entry in generator["files"] as? [String] ?? [] {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            let path = parts.last ?? entry
            let key = parts.count == 2 ? parts[0] : (path as NSString).lastPathComponent
            guard let contents = FileManager.default.contents(atPath: folder + "/" + path) else {
                throw Problem(description: "kustomization.yaml: \(path) does not exist (kustomize would refuse it too)")
            }
            data[key] = contents
        }
        return data
    }

    /// `images:` rewrites every container image named `name` (with or without a tag).
    static func retag(_ value: Any, _ images: [[String: Any]]) -> [String: Any] {
        func walk(_ value: Any, key: String?) -> Any {
            if let dictionary = value as? [String: Any] {
                return Dictionary(uniqueKeysWithValues: dictionary.map { ($0.key, walk($0.value, key: $0.key)) })
            }
            if let array = value as? [Any] { return array.map { walk($0, key: key) } }
            if key == "image", let image = value as? String {
                let name = image.split(separator: ":").first.map(String.init) ?? image
                if let rule = images.first(where: { $0["name"] as? String == name }) {
                    return (rule["newName"] as? String ?? name) + ":" + (rule["newTag"] as? String ?? "latest")
                }
            }
            return value
        }
        return walk(value, key: nil) as? [String: Any] ?? [:]
    }
}

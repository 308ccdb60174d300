import Foundation
import HookGate
import HookGateTestSupport
import Testing
import Yams

/// The Kubernetes example fits together: the Secret holds the config and every key it names, the
/// sidecar reads the config where the Secret is mounted and listens where the Service and the
/// Ingress send traffic.
@Suite struct KubernetesExampleTests {
    static let folder = Fixtures.packageRoot + "/examples/kubernetes"

    static func yaml(_ name: String) throws -> [String: Any] {
        let text = try String(contentsOfFile: folder + "/" + name, encoding: .utf8)
        return try #require(try Yams.load(yaml: text) as? [String: Any], "\(name)")
    }

    @Test func piecesAgree() throws {
        let kustomization = try Self.yaml("kustomization.yaml")
        let generators = try #require(kustomization["secretGenerator"] as? [[String: Any]])
        let secret = try #require(generators.first)
        let secretName = try #require(secret["name"] as? String)
        let files = try #require(secret["files"] as? [String])
        let resources = try #require(kustomization["resources"] as? [String])
        for resource in resources { #expect(FileManager.default.fileExists(atPath: Self.folder + "/" + resource)) }

        // The config loads, with a key file for every name the Secret carries.
        let configName = try #require(files.first { $0.hasSuffix(".yaml") })
        let scratch = Fixtures.temporaryDirectory()
        try FileManager.default.copyItem(atPath: Self.folder + "/" + configName, toPath: scratch + "/" + configName)
        for file in files where file != configName { try "k-\(file)".write(toFile: scratch + "/" + file, atomically: true, encoding: .utf8) }
        let config = try ConfigLoader.load(path: scratch + "/" + configName)
        for keyPath in config.endpoints.flatMap(\.keyPaths) {
            #expect(files.contains((keyPath as NSString).lastPathComponent), "the Secret lacks \(keyPath)")
        }

        // The sidecar mounts that Secret and points --config into the mount.
        let patch = try Self.yaml("hookgate-sidecar.yaml")
        let spec = try #require(((patch["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any])
        let volumes = try #require(spec["volumes"] as? [[String: Any]])
        let volume = try #require(volumes.first { ($0["secret"] as? [String: Any])?["secretName"] as? String == secretName })
        let container = try #require((spec["containers"] as? [[String: Any]])?.first { $0["name"] as? String == "hookgate" })
        let mounts = try #require(container["volumeMounts"] as? [[String: Any]])
        let mount = try #require(mounts.first { $0["name"] as? String == volume["name"] as? String })
        let args = try #require(container["args"] as? [String])
        #expect(args.contains("--config=\(mount["mountPath"] as? String ?? "")/\(configName)"))
        let listen = try #require(args.first { $0.hasPrefix("--listen=") }).dropFirst("--listen=".count)
        let port = try #require(ListenAddress(String(listen))).port
        let ports = try #require(container["ports"] as? [[String: Any]])
        let named = try #require(ports.first { $0["containerPort"] as? Int == port })
        let portName = try #require(named["name"] as? String)
        let security = try #require(container["securityContext"] as? [String: Any])
        #expect(security["runAsNonRoot"] as? Bool == true)
        let probe = try #require((container["readinessProbe"] as? [String: Any])?["httpGet"] as? [String: Any])
        #expect(probe["path"] as? String == "/readyz")
        // The queue lives on a writable volume (the root filesystem is read-only).
        let dataDir = try #require(args.first { $0.hasPrefix("--data-dir=") }).dropFirst("--data-dir=".count)
        let dataMount = try #require(mounts.first { $0["mountPath"] as? String == String(dataDir) })
        let dataVolume = try #require(volumes.first { $0["name"] as? String == dataMount["name"] as? String })
        #expect(dataVolume["emptyDir"] != nil || dataVolume["persistentVolumeClaim"] != nil)
        #expect(dataMount["readOnly"] as? Bool != true)

        // The Service targets that port; the Ingress routes /hook/ by prefix to the Service.
        let service = try Self.yaml("service.yaml")
        let serviceName = try #require((service["metadata"] as? [String: Any])?["name"] as? String)
        let servicePort = try #require(((service["spec"] as? [String: Any])?["ports"] as? [[String: Any]])?.first)
        #expect(servicePort["targetPort"] as? String == portName)
        let ingress = try Self.yaml("ingress.yaml")
        let rule = try #require(((ingress["spec"] as? [String: Any])?["rules"] as? [[String: Any]])?.first)
        let path = try #require(((rule["http"] as? [String: Any])?["paths"] as? [[String: Any]])?.first)
        #expect(path["path"] as? String == "/hook/")
        #expect(path["pathType"] as? String == "Prefix")
        let backend = try #require((path["backend"] as? [String: Any])?["service"] as? [String: Any])
        #expect(backend["name"] as? String == serviceName)
        #expect((backend["port"] as? [String: Any])?["name"] as? String == servicePort["name"] as? String)
    }
}

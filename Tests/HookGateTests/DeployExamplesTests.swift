import Foundation
import HookGate
import HookGateTestSupport
import Testing

/// The two deployable examples, rendered as `kubectl apply -k` would and sent to the real API
/// server with `dryRun=All` (validated, defaulted and admitted, never stored: no kubelet runs
/// here): examples/kubernetes (the sidecar in Flux v1's pod, patched onto a real Deployment) and
/// examples/flux2-tekton (hookgate on its own). The config is then loaded from the files as the
/// pod's mounts lay them out, and the pod spec is checked so its user can read and write them.
@Suite(.serialized, .enabled(if: KubeAdmin.current != nil, "needs the API server that scripts/test starts"))
struct DeployExamplesTests {
    let kube = KubeAdmin.current!

    /// A copy of an example with a key made by `hookgate keygen` where the kustomization wants one.
    static func prepared(_ example: String, key: String) async throws -> String {
        let folder = Fixtures.temporaryDirectory() + "/" + example
        try FileManager.default.copyItem(atPath: Fixtures.packageRoot + "/examples/" + example, toPath: folder)
        let made = await HookGateProcess.runInBackground(["keygen", "--out", folder + "/" + key])
        #expect(made.status == 0, "\(made.stderr)")
        return folder
    }

    func namespace(_ name: String) throws {
        try kube.create(["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": name]])
    }

    /// Every object, as the API server would store it. Namespaces are created for real (the
    /// other objects need them). The API server here is Kubernetes 1.20, which serves
    /// PodDisruptionBudget as policy/v1beta1 only (the same fields the example uses) and drops
    /// unknown fields silently: a field sent and not stored is reported, as a newer server's
    /// strict validation would.
    func admitted(_ objects: [[String: Any]]) throws -> [[String: Any]] {
        let served = Set((kube.get("/apis")?["groups"] as? [[String: Any]] ?? []).flatMap { group in
            (group["versions"] as? [[String: Any]] ?? []).compactMap { $0["groupVersion"] as? String }
        })
        return try objects.map { object in
            let name = "\(object["kind"] ?? "?") \((object["metadata"] as? [String: Any])?["name"] ?? "?")"
            var sent = object
            if sent["kind"] as? String == "PodDisruptionBudget", !served.contains("policy/v1") { sent["apiVersion"] = "policy/v1beta1" }
            if sent["kind"] as? String == "Namespace" {
                try kube.create(sent)
                return try #require(kube.get("/api/v1/namespaces/\((object["metadata"] as? [String: Any])?["name"] ?? "")"), "\(name)")
            }
            let (status, body) = try kube.dryRun(sent)
            #expect(status == 200 || status == 201, "\(name): \(body)")
            let stored = try #require((try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any], "\(name)")
            #expect(Self.dropped(sent, stored) == [], "\(name): fields the API server does not know")
            return stored
        }
    }

    /// The paths of fields in `sent` that `stored` lacks.
    static func dropped(_ sent: Any, _ stored: Any?, at path: String = "") -> [String] {
        if let sent = sent as? [String: Any] {
            guard let stored = stored as? [String: Any] else { return [path] }
            return sent.keys.sorted().flatMap { key in stored[key] == nil ? [path + "." + key] : dropped(sent[key]!, stored[key], at: path + "." + key) }
        }
        if let sent = sent as? [Any] {
            guard let stored = stored as? [Any], stored.count == sent.count else { return [path] }
            return sent.indices.flatMap { dropped(sent[$0], stored[$0], at: path + "[\($0)]") }
        }
        return []
    }

    /// Writes a pod's Secret, ConfigMap and projected mounts of `container` under `root`, as the
    /// kubelet would lay them out.
    static func layOut(_ podSpec: [String: Any], container: String, objects: [[String: Any]], under root: String) throws {
        func data(_ kind: String, _ name: String) -> [String: Data] {
            guard let object = objects.first(where: { $0["kind"] as? String == kind && ($0["metadata"] as? [String: Any])?["name"] as? String == name }) else { return [:] }
            let values = object["data"] as? [String: String] ?? [:]
            return values.compactMapValues { kind == "Secret" ? Data(base64Encoded: $0) : Data($0.utf8) }
        }
        func files(_ source: [String: Any], _ kind: String) -> [(String, Data)] {
            let all = data(kind, source[kind == "Secret" ? "secretName" : "name"] as? String ?? source["name"] as? String ?? "")
            guard let items = source["items"] as? [[String: Any]] else { return all.map { ($0.key, $0.value) } }
            return items.compactMap { item in all[item["key"] as? String ?? ""].map { (item["path"] as? String ?? "", $0) } }
        }
        let volumes = podSpec["volumes"] as? [[String: Any]] ?? []
        let spec = (podSpec["containers"] as? [[String: Any]] ?? []).first { $0["name"] as? String == container } ?? [:]
        for mount in spec["volumeMounts"] as? [[String: Any]] ?? [] {
            guard let volume = volumes.first(where: { $0["name"] as? String == mount["name"] as? String }) else { continue }
            var laid: [(String, Data)] = []
            if let secret = volume["secret"] as? [String: Any] { laid = files(secret, "Secret") }
            if let map = volume["configMap"] as? [String: Any] { laid = files(map, "ConfigMap") }
            for source in (volume["projected"] as? [String: Any])?["sources"] as? [[String: Any]] ?? [] {
                if let secret = source["secret"] as? [String: Any] { laid += files(secret, "Secret") }
                if let map = source["configMap"] as? [String: Any] { laid += files(map, "ConfigMap") }
            }
            let folder = root + (mount["mountPath"] as? String ?? "")
            for (path, contents) in laid {
                try FileManager.default.createDirectory(atPath: ((folder + "/" + path) as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try contents.write(to: URL(fileURLWithPath: folder + "/" + path))
            }
        }
    }

    struct Missing: Error, CustomStringConvertible { var description: String }

    /// A container's `--name=value` argument.
    static func argument(_ name: String, of container: [String: Any]) throws -> String {
        guard let value = (container["args"] as? [String] ?? []).first(where: { $0.hasPrefix("--\(name)=") }) else { throw Missing(description: "no --\(name)") }
        return String(value.dropFirst(name.count + 3))
    }

    /// The port of a container's `--name=[host]:port` argument.
    static func port(_ name: String, of container: [String: Any]) throws -> Int {
        guard let address = ListenAddress(try argument(name, of: container)) else { throw Missing(description: "--\(name) is no address") }
        return address.port
    }

    @Test("examples/kubernetes: the sidecar patch applies to Flux v1's Deployment, and hookgate can read the config it mounts")
    func sidecar() async throws {
        let folder = try await Self.prepared("kubernetes", key: "github.key")
        let rendered = try Kustomization.render(folder: folder)
        try namespace("flux")
        // Flux v1's own Deployment, as its install had it (its git key mounted 0400).
        try kube.create([
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "flux", "namespace": "flux"],
            "spec": [
                "selector": ["matchLabels": ["name": "flux"]],
                "template": [
                    "metadata": ["labels": ["name": "flux"]],
                    "spec": [
                        "volumes": [["name": "git-key", "secret": ["secretName": "flux-git-deploy", "defaultMode": 0o400]]],
                        "containers": [["name": "flux", "image": "docker.io/fluxcd/flux:1.25.4", "args": ["--listen=:3030"],
                                        "volumeMounts": [["name": "git-key", "mountPath": "/etc/fluxd/ssh", "readOnly": true]]]],
                    ],
                ],
            ],
        ])
        let objects = try admitted(rendered.objects)
        #expect(Set(objects.compactMap { $0["kind"] as? String }) == ["Service", "Ingress", "Secret"])
        let patch = try #require(rendered.patches.first)
        #expect(patch.kind == "Deployment" && patch.name == "flux")
        let json = String(decoding: try JSONSerialization.data(withJSONObject: patch.patch), as: UTF8.self)
        let (status, body) = kube.call("PATCH", "/apis/apps/v1/namespaces/flux/deployments/flux?dryRun=All&fieldValidation=Strict", json: json,
                                       contentType: "application/strategic-merge-patch+json")
        #expect(status == 200, "\(body)")
        let patched = try #require((try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any])
        let podSpec = try #require(((patched["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any])
        let containers = podSpec["containers"] as? [[String: Any]] ?? []
        #expect(containers.compactMap { $0["name"] as? String } == ["hookgate", "flux"] || containers.compactMap { $0["name"] as? String } == ["flux", "hookgate"])
        let hookgate = try #require(containers.first { $0["name"] as? String == "hookgate" })
        #expect(hookgate["image"] as? String == "registry.example.com/hookgate:0.1.0")
        #expect(PodFileAccess.problems(podSpec: podSpec, only: "hookgate") == [])
        // The pod-wide group stays as Flux had it: fluxd's deploy key is not handed to hookgate's user.
        #expect((podSpec["securityContext"] as? [String: Any])?["fsGroup"] == nil)

        let root = Fixtures.temporaryDirectory()
        try Self.layOut(podSpec, container: "hookgate", objects: objects, under: root)
        let config = try ConfigLoader.load(path: root + (try Self.argument("config", of: hookgate)))
        #expect(config.endpoints.count == 1)
        #expect(try Self.argument("metrics-listen", of: hookgate) == ":9090")
    }

    @Test("examples/flux2-tekton: every object is admitted, the pod can read its config and keys and write its queue")
    func standalone() async throws {
        let folder = try await Self.prepared("flux2-tekton", key: "keys/github.key")
        let rendered = try Kustomization.render(folder: folder)
        #expect(rendered.patches.isEmpty)
        for name in ["hookgate-system", "flux-system", "ci"] { try namespace(name) }
        let objects = try admitted(rendered.objects)
        func one(_ kind: String) throws -> [String: Any] { try #require(objects.first { $0["kind"] as? String == kind }, "\(kind)") }
        func spec(_ object: [String: Any]) -> [String: Any] { object["spec"] as? [String: Any] ?? [:] }

        let set = try one("StatefulSet")
        #expect(spec(set)["replicas"] as? Int == 2)
        let claims = (spec(set)["volumeClaimTemplates"] as? [[String: Any]] ?? []).compactMap { ($0["metadata"] as? [String: Any])?["name"] as? String }
        let podSpec = try #require((spec(set)["template"] as? [String: Any])?["spec"] as? [String: Any])
        #expect(PodFileAccess.problems(podSpec: podSpec, claimTemplates: claims) == [])
        let pod = podSpec["securityContext"] as? [String: Any] ?? [:]
        #expect((pod["seccompProfile"] as? [String: Any])?["type"] as? String == "RuntimeDefault")
        #expect(pod["runAsNonRoot"] as? Bool == true)
        #expect((podSpec["affinity"] as? [String: Any])?["podAntiAffinity"] != nil)
        let container = try #require((podSpec["containers"] as? [[String: Any]])?.first)
        let security = container["securityContext"] as? [String: Any] ?? [:]
        #expect(security["readOnlyRootFilesystem"] as? Bool == true)
        #expect(security["allowPrivilegeEscalation"] as? Bool == false)
        #expect(((container["resources"] as? [String: Any])?["limits"] as? [String: Any])?["memory"] != nil)
        #expect(container["image"] as? String == "registry.example.com/hookgate:0.1.0")
        // The queue is on the claimed volume; metrics and probes on their own port.
        let dataDir = try Self.argument("data-dir", of: container)
        let mounts = container["volumeMounts"] as? [[String: Any]] ?? []
        #expect(mounts.contains { $0["mountPath"] as? String == dataDir && claims.contains($0["name"] as? String ?? "") })
        let metricsPort = try Self.port("metrics-listen", of: container)
        let ports = container["ports"] as? [[String: Any]] ?? []
        let metricsName = try #require(ports.first { $0["containerPort"] as? Int == metricsPort }?["name"] as? String)
        let hookPort = try Self.port("listen", of: container)
        let hooksName = try #require(ports.first { $0["containerPort"] as? Int == hookPort }?["name"] as? String)
        for probe in ["readinessProbe", "livenessProbe"] {
            #expect(((container[probe] as? [String: Any])?["httpGet"] as? [String: Any])?["port"] as? String == metricsName, "\(probe)")
        }

        // Disruptions leave one replica; the Ingress routes only /hook/ to the hook port, with TLS,
        // a class and ingress-nginx's body limit at hookgate's cap; Prometheus scrapes the other port.
        #expect(spec(try one("PodDisruptionBudget"))["minAvailable"] as? Int == 1)
        let ingress = try one("Ingress")
        #expect(spec(ingress)["ingressClassName"] as? String == "nginx")
        #expect((spec(ingress)["tls"] as? [Any])?.isEmpty == false)
        let annotations = (ingress["metadata"] as? [String: Any])?["annotations"] as? [String: String] ?? [:]
        #expect(annotations["nginx.ingress.kubernetes.io/proxy-body-size"] == "25m")
        let paths = (spec(ingress)["rules"] as? [[String: Any]] ?? []).flatMap { (($0["http"] as? [String: Any])?["paths"] as? [[String: Any]]) ?? [] }
        #expect(paths.map { $0["path"] as? String } == ["/hook/"])
        let servicePorts = spec(try one("Service"))["ports"] as? [[String: Any]] ?? []
        let routed = ((paths.first?["backend"] as? [String: Any])?["service"] as? [String: Any])?["port"] as? [String: Any]
        #expect(servicePorts.first { $0["name"] as? String == routed?["name"] as? String }?["targetPort"] as? String == hooksName)
        let scraped = (spec(try one("ServiceMonitor"))["endpoints"] as? [[String: Any]])?.first?["port"] as? String
        #expect(servicePorts.first { $0["name"] as? String == scraped }?["targetPort"] as? String == metricsName)
        #expect(spec(try one("NetworkPolicy"))["policyTypes"] as? [String] == ["Ingress", "Egress"])

        // The config loads from the files as the projected volume lays them out, with the made key.
        let root = Fixtures.temporaryDirectory()
        try Self.layOut(podSpec, container: container["name"] as? String ?? "", objects: objects, under: root)
        let config = try ConfigLoader.load(path: root + (try Self.argument("config", of: container)))
        #expect(config.endpoints.map(\.name) == ["app"])
        let made = try String(contentsOfFile: folder + "/keys/github.key", encoding: .utf8)
        let mounted = try String(contentsOfFile: root + "/etc/hookgate/keys/github.key", encoding: .utf8)
        #expect(made == mounted)
    }
}

/// The static check the deploy tests rely on, against specs that must fail it.
@Suite struct PodFileAccessTests {
    static func spec(mode: Int, fsGroup: Int? = nil, claim: Bool = false) -> [String: Any] {
        var pod: [String: Any] = [
            "volumes": [["name": "config", "secret": ["secretName": "c", "defaultMode": mode]]] + (claim ? [["name": "q", "persistentVolumeClaim": ["claimName": "q"]]] : []),
            "containers": [["name": "hookgate", "securityContext": ["runAsUser": 65532, "runAsGroup": 65532],
                            "volumeMounts": [["name": "config", "mountPath": "/etc/c", "readOnly": true]] + (claim ? [["name": "q", "mountPath": "/var/q"]] : [])]],
        ]
        if let fsGroup { pod["securityContext"] = ["fsGroup": fsGroup] }
        return pod
    }

    @Test("the sidecar as it was (0400, root's files, no fsGroup) is refused; 0444, or 0440 with fsGroup, reads")
    func secretModes() {
        #expect(PodFileAccess.problems(podSpec: Self.spec(mode: 0o400)).first?.contains("cannot read /etc/c/*: mode 400") == true)
        #expect(PodFileAccess.problems(podSpec: Self.spec(mode: 0o440)).count == 1)
        #expect(PodFileAccess.problems(podSpec: Self.spec(mode: 0o444)) == [])
        #expect(PodFileAccess.problems(podSpec: Self.spec(mode: 0o440, fsGroup: 65532)) == [])
        #expect(PodFileAccess.problems(podSpec: Self.spec(mode: 0o400, fsGroup: 65532)).count == 1)
    }

    @Test("a claimed volume is writable only with fsGroup; a container without runAsUser is named")
    func claimsAndUsers() {
        #expect(PodFileAccess.problems(podSpec: Self.spec(mode: 0o444, claim: true)).first?.contains("cannot write /var/q") == true)
        #expect(PodFileAccess.problems(podSpec: Self.spec(mode: 0o444, fsGroup: 1, claim: true)) == [])
        let anonymous: [String: Any] = ["containers": [["name": "x"]]]
        #expect(PodFileAccess.problems(podSpec: anonymous).first?.contains("sets no runAsUser") == true)
    }
}

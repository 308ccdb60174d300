import AsyncHTTPClient
import Foundation
import HookGate
import HookGateTestSupport
import Logging
import Testing

func gitPush(_ ref: String, repository: String = "org/app", files: [String]? = nil) -> HookEvent {
    HookEvent(name: "push", kind: .gitPush(GitPush(
        fullName: repository, sshURL: "git@github.com:\(repository).git", httpsURL: "https://github.com/\(repository).git",
        ref: ref, before: "0000", after: "abcd", sender: "octocat", changedFiles: files)))
}

func imagePush(_ reference: String) -> HookEvent {
    HookEvent(name: "push", kind: .imagePush(ImagePush(image: ImageReference.parse(reference)!, digest: "sha256:00")))
}

@Suite struct GlobTests {
    @Test(arguments: [
        ("main", "main", true), ("main", "mainline", false), ("release/*", "release/1.2", true), ("release/*", "release/a/b", false),
        ("release/**", "release/a/b", true), ("src/**", "src/a/b.swift", true), ("**/*.md", "README.md", true),
        ("**/*.md", "docs/a/b.md", true), ("v?.*", "v1.2", true), ("v?.*", "v10.2", false), ("*", "a/b", false), ("**", "a/b", true),
        ("org/*", "org/app", true), ("org/*", "other/app", false),
    ])
    func matches(_ pattern: String, _ text: String, _ expected: Bool) {
        #expect(Glob(pattern).matches(text) == expected, "\(pattern) ~ \(text)")
    }
}

@Suite struct RuleTests {
    @Test func emptyRuleMatchesPushesNotPings() {
        #expect(Rule.any.matches(gitPush("refs/heads/main")))
        #expect(Rule.any.matches(imagePush("ghcr.io/org/app:1")))
        #expect(!Rule.any.matches(HookEvent(name: "ping", kind: .ping)))
    }

    @Test func branchesAndTags() {
        let branches = Rule(branches: [Glob("main"), Glob("release/*")])
        #expect(branches.matches(gitPush("refs/heads/main")))
        #expect(branches.matches(gitPush("refs/heads/release/2.0")))
        #expect(!branches.matches(gitPush("refs/heads/feature/x")))
        #expect(!branches.matches(gitPush("refs/tags/v1")))
        #expect(!branches.matches(imagePush("ghcr.io/org/app:1")))
        let tags = Rule(tags: [Glob("v*")])
        #expect(tags.matches(gitPush("refs/tags/v1.0")))
        #expect(!tags.matches(gitPush("refs/heads/main")))
        let both = Rule(branches: [Glob("main")], tags: [Glob("v*")])
        #expect(both.matches(gitPush("refs/heads/main")) && both.matches(gitPush("refs/tags/v2")))
    }

    @Test func eventsRepositoriesPathsImages() {
        #expect(Rule(events: [.tag]).matches(gitPush("refs/tags/v1")))
        #expect(!Rule(events: [.tag]).matches(gitPush("refs/heads/main")))
        #expect(Rule(events: [.image]).matches(imagePush("quay.io/org/app")))
        #expect(Rule(repositories: [Glob("org/*")]).matches(gitPush("refs/heads/main")))
        #expect(!Rule(repositories: [Glob("other/*")]).matches(gitPush("refs/heads/main")))
        let paths = Rule(paths: [Glob("src/**")])
        #expect(paths.matches(gitPush("refs/heads/main", files: ["README.md", "src/a.swift"])))
        #expect(!paths.matches(gitPush("refs/heads/main", files: ["README.md"])))
        #expect(paths.matches(gitPush("refs/heads/main", files: nil)), "payloads without a file list pass")
        let images = Rule(images: [Glob("ghcr.io/org/*")])
        #expect(images.matches(imagePush("ghcr.io/org/app:1.0")))
        #expect(!images.matches(imagePush("docker.io/org/app")))
        #expect(!images.matches(gitPush("refs/heads/main")))
    }

    @Test func configRules() throws {
        let config = try loadConfig("""
            hookgateVersion: 1
            endpoints:
              - source: GitHub
                keyPath: k
                notify:
                  - log
                  - fluxAPI
                    
                  - log:
                    when: {events: [push, tag], branches: main, paths: ["src/**"]}
            """, files: ["k": "x"])
        let rule = config.endpoints[0].notify[2].rule
        #expect(rule.events == [.push, .tag])
        #expect(rule.branches == [Glob("main")])
        #expect(rule.paths == [Glob("src/**")])
        #expect(config.endpoints[0].notify[0].rule == .any)
        let found = problems("""
            hookgateVersion: 1
            endpoints:
              - source: GitHub
                keyPath: k
                notify:
                  - log:
                    when: {events: [pull], branchs: [main]}
                  - reconcile: {objects: [{kind: Widget, name: a}]}
                  - reconcile: {objects: [{kind: GitRepository}]}
                  - tekton: {template: missing.yaml}
            """, files: ["k": "x"])
        let text = found.map(\.description).joined(separator: "\n")
        #expect(text.contains("unknown event \"pull\""), "\(text)")
        #expect(text.contains("did you mean `branches`?"))
        #expect(text.contains("Widget is not a Flux kind hookgate knows; add its `apiVersion`"))
        #expect(text.contains("needs a `name`, or `matchLabels`"))
        #expect(text.contains("template file \"missing.yaml\""))
    }

    @Test func kubernetesActionsNeedAConnection() throws {
        let config = try loadConfig("""
            hookgateVersion: 1
            endpoints:
              - source: GitHub
                keyPath: k
                notify: [{reconcile: {namespace: flux-system, objects: [{kind: GitRepository, name: app}]}}]
            """, files: ["k": "x"])
        #expect(config.needsKubernetes)
        #expect(throws: ConfigError.self) {
            _ = try Receiver(config: config, client: .shared, kube: nil, logger: Logger(label: "test"))
        }
    }

    @Test func exampleConfigLoads() throws {
        let config = try ConfigLoader.load(path: try Fixtures.example("flux2-tekton", keys: ["keys/github.key"]) + "/hookgate.yaml")
        let actions = config.endpoints[0].notify
        guard let objects = (actions[0].spec as? ReconcileAction)?.objects, let spec = actions[1].spec as? CreateAction else {
            Issue.record("unexpected actions \(actions)")
            return
        }
        #expect(objects.map(\.resource.description) == ["gitrepositories.source.toolkit.fluxcd.io", "kustomizations.kustomize.toolkit.fluxcd.io"])
        #expect(spec.resource.description == "pipelineruns.tekton.dev")
        #expect(spec.namespace == "ci")
        #expect(actions[1].rule.branches == [Glob("main")])
    }
}

@Suite struct TemplateTests {
    static let yaml = """
        apiVersion: tekton.dev/v1
        kind: PipelineRun
        metadata:
          generateName: build-
        spec:
          params:
            - {name: branch, value: $(hook.branch)}
            - {name: note, value: "branch $(hook.branch) at $(hook.revision)"}
            - {name: files, value: $(hook.changedFiles)}
            - {name: tekton, value: $(params.keep)}
            - {name: count, value: 3}
          timeouts: {pipeline: 1h}
        """

    @Test func valuesStayStrings() throws {
        let template = try ObjectTemplate(yaml: Self.yaml)
        let hostile = "main\nkind: Secret\", \"evil\": {\"$(hook.tag)"
        let rendered = template.render(["branch": .string(hostile), "revision": .string("abc"), "changedFiles": .list(["a", "b"]), "tag": .string("T")])
        let object = try #require(try JSONSerialization.jsonObject(with: rendered.json) as? [String: Any])
        #expect(object["kind"] as? String == "PipelineRun")
        #expect(Set(object.keys) == ["apiVersion", "kind", "metadata", "spec"])
        let params = try #require((object["spec"] as? [String: Any])?["params"] as? [[String: Any]])
        #expect(params[0]["value"] as? String == hostile, "inserted once, not expanded again")
        #expect(params[1]["value"] as? String == "branch \(hostile) at abc")
        #expect(params[2]["value"] as? [String] == ["a", "b"])
        #expect(params[3]["value"] as? String == "$(params.keep)")
        #expect(params[4]["value"] as? Int == 3)
    }

    @Test func unknownPlaceholdersAreRefused() {
        #expect(throws: TemplateError.self) { _ = try ObjectTemplate(yaml: "kind: X\nspec: {a: $(hook.brnch)}") }
        #expect(throws: TemplateError.self) { _ = try ObjectTemplate(yaml: "- a list") }
        #expect(throws: TemplateError.self) { _ = try ObjectTemplate(yaml: "metadata: {}") }
    }
}

@Suite struct KubeConnectionTests {
    @Test func kubeconfigUsers() throws {
        let folder = Fixtures.temporaryDirectory()
        let ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
        try ca.write(toFile: folder + "/ca.crt", atomically: true, encoding: .utf8)
        try "rotating-token\n".write(toFile: folder + "/token", atomically: true, encoding: .utf8)
        try """
            apiVersion: v1
            kind: Config
            current-context: b
            clusters:
              - name: one
                cluster: {server: "https://10.0.0.1:6443/", certificate-authority: ca.crt}
              - name: two
                cluster: {server: "https://k8s.example.com", certificate-authority-data: \(Data(ca.utf8).base64EncodedString())}
            users:
              - name: tok
                user: {token: abc}
              - name: file
                user: {tokenFile: token}
              - name: cert
                user: {client-certificate-data: \(Data("CERT".utf8).base64EncodedString()), client-key-data: \(Data("KEY".utf8).base64EncodedString())}
            contexts:
              - name: a
                context: {cluster: one, user: tok}
              - name: b
                context: {cluster: two, user: file, namespace: flux-system}
              - name: c
                context: {cluster: one, user: cert}
            """.write(toFile: folder + "/config", atomically: true, encoding: .utf8)
        let current = try KubeConnection.fromKubeconfig(path: folder + "/config")
        #expect(current.server == "https://k8s.example.com")
        #expect(current.namespace == "flux-system")
        #expect(current.certificateAuthority == Array(ca.utf8))
        guard case .tokenFile(let path) = current.credentials else { Issue.record("not a token file"); return }
        #expect(path == folder + "/token")
        let first = try KubeConnection.fromKubeconfig(path: folder + "/config", context: "a")
        #expect(first.server == "https://10.0.0.1:6443")
        #expect(first.namespace == "default")
        guard case .token("abc") = first.credentials else { Issue.record("not the token"); return }
        let third = try KubeConnection.fromKubeconfig(path: folder + "/config", context: "c")
        guard case .clientCertificate(let certificate, let key) = third.credentials else { Issue.record("not a certificate"); return }
        #expect(certificate == Array("CERT".utf8) && key == Array("KEY".utf8))
        #expect(throws: KubeConfigError.self) { _ = try KubeConnection.fromKubeconfig(path: folder + "/config", context: "nope") }
    }

    @Test func inClusterAndResolution() throws {
        let folder = Fixtures.temporaryDirectory()
        try "t".write(toFile: folder + "/token", atomically: true, encoding: .utf8)
        try "team-a\n".write(toFile: folder + "/namespace", atomically: true, encoding: .utf8)
        let environment = ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"]
        let connection = try #require(try KubeConnection.resolve(kubeconfig: nil, serviceAccountDirectory: folder, environment: environment))
        #expect(connection.server == "https://10.96.0.1:443")
        #expect(connection.namespace == "team-a")
        #expect(try KubeConnection.resolve(kubeconfig: nil, serviceAccountDirectory: folder, environment: [:]) == nil)
        #expect(throws: KubeConfigError.self) {
            _ = try KubeConnection.inCluster(directory: folder + "/missing", environment: environment)
        }
    }

    @Test func resources() {
        #expect(KubeResource.resolve(kind: "ImagePolicy", apiVersion: nil)?.plural == "imagepolicies")
        #expect(KubeResource.resolve(kind: "HelmRelease", apiVersion: nil)?.apiVersion == "helm.toolkit.fluxcd.io/v2")
        #expect(KubeResource.resolve(kind: "ConfigMap", apiVersion: "v1")?.path(namespace: "a", name: "b") == "/api/v1/namespaces/a/configmaps/b")
        #expect(KubeResource.resolve(kind: "Widget", apiVersion: nil) == nil)
    }
}

// The micro part of scripts/bench: verification and parsing of each provider's real fixture, per
// second, on one core, through the same Provider values the server uses.
//   hookgate-bench FIXTURES_DIR [SECONDS_PER_PROVIDER]
// And the framework's ceiling: a bare Hummingbird server with hookgate's route shape that reads the
// body and answers 200, with none of hookgate's work, so the table shows what the stack itself costs.
//   hookgate-bench bare PORT
import AsyncHTTPClient
import Crypto
import Foundation
import HTTPTypes
import HookGate
import Hummingbird
import Logging

let arguments = CommandLine.arguments
if arguments.count == 3, arguments[1] == "bare", let port = Int(arguments[2]) {
    let router = Router()
    router.post("/hook/:segment") { request, _ -> Response in
        let body = try await request.body.collect(upTo: 1 << 20)
        return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: body.readableBytes > 0 ? "OK" : "empty")))
    }
    router.get("/health") { _, _ in "OK" }
    var logger = Logger(label: "bare")
    logger.logLevel = .error
    try await Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: logger).runService()
    exit(0)
}
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: hookgate-bench FIXTURES_DIR [SECONDS]\n".utf8))
    exit(2)
}
let fixtures = arguments[1]
let seconds = arguments.count > 2 ? Double(arguments[2]) ?? 0.5 : 0.5
let key = "bench-key-0123456789abcdef0123456789ab"
/// StandardWebhooks keys are written `whsec_<base64>`; the HMAC key is the decoded bytes.
let signingSecret = "whsec_" + Data(key.utf8).base64EncodedString()

func hmacHex<H: HashFunction>(_ hash: H.Type, _ body: Data) -> String {
    HMAC<H>.authenticationCode(for: body, using: SymmetricKey(data: Data(key.utf8))).map { String(format: "%02x", $0) }.joined()
}

func standardWebhookHeaders(_ body: Data) -> [String: String] {
    let id = "msg_bench", timestamp = String(Int(Date().timeIntervalSince1970))
    let signature = HMAC<SHA256>.authenticationCode(for: Data("\(id).\(timestamp).".utf8) + body, using: SymmetricKey(data: Data(key.utf8)))
    return ["webhook-id": id, "webhook-timestamp": timestamp, "webhook-signature": "v1," + Data(signature).base64EncodedString()]
}

struct Case {
    var name: String
    var source: Source
    var file: String
    var headers: (Data) -> [String: String]
    var registryHost: String? = nil
    /// The key file's content, when not `key`.
    var keyFile: String = key
}

let cases: [Case] = [
    Case(name: "GitHub push", source: .gitHub, file: "github-push-tag-deleted.json") {
        ["X-GitHub-Event": "push", "Content-Type": "application/json", "X-Hub-Signature-256": "sha256=" + hmacHex(SHA256.self, $0)]
    },
    Case(name: "GitLab Push Hook", source: .gitLab, file: "gitlab-push_hook.json") { _ in ["X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": key] },
    Case(name: "BitbucketCloud repo:push", source: .bitbucketCloud, file: "bitbucket_cloud-repo_push.json") {
        ["X-Event-Key": "repo:push", "X-Hub-Signature": "sha256=" + hmacHex(SHA256.self, $0)]
    },
    Case(name: "BitbucketServer refs_changed", source: .bitbucketServer, file: "bitbucket_server-repo_refs_changed.json") {
        ["X-Event-Key": "repo:refs_changed", "X-Hub-Signature": "sha256=" + hmacHex(SHA256.self, $0)]
    },
    Case(name: "Gitea push", source: .gitea, file: "gitea-push.json") { ["X-Gitea-Event": "push", "X-Gitea-Signature": hmacHex(SHA256.self, $0)] },
    Case(name: "DockerHub push", source: .dockerHub, file: "dockerhub-push.json") { _ in [:] },
    Case(name: "Quay repo_push", source: .quay, file: "quay-repo_push.json") { _ in [:] },
    Case(name: "Harbor PUSH_ARTIFACT", source: .harbor, file: "harbor_v2-PUSH_ARTIFACT.json") { _ in ["Authorization": key] },
    Case(name: "Nexus component", source: .nexus, file: "nexus-rm_repository_component-CREATED.json", headers: {
        ["X-Nexus-Webhook-Id": "rm:repository:component", "X-Nexus-Webhook-Signature": hmacHex(Insecure.SHA1.self, $0)]
    }, registryHost: "nexus.example.com"),
    Case(name: "GCR Pub/Sub INSERT", source: .googleContainerRegistry, file: "gcr-pubsub_push-INSERT.json") { _ in [:] },
    Case(name: "ACR push", source: .acr, file: "acr-push.json") { _ in ["Authorization": "Bearer " + key] },
    Case(name: "Artifactory docker pushed", source: .artifactory, file: "jfrog-docker-pushed-envelope.json", headers: {
        ["X-JFrog-Event-Auth": hmacHex(SHA256.self, $0)]
    }, registryHost: "jfrog.example.com"),
    Case(name: "StandardWebhooks", source: .standardWebhooks, file: "standardwebhooks-testvector.body", headers: standardWebhookHeaders,
         keyFile: signingSecret),
    Case(name: "GenericHMAC", source: .genericHMAC, file: "github-push-tag-deleted.json") { ["X-Signature": "sha256=" + hmacHex(SHA256.self, $0)] },
    Case(name: "Generic", source: .generic, file: "github-push-tag-deleted.json") { _ in [:] },
]

let keys = GoogleKeyStore(client: .shared, logger: Logger(label: "bench"))
for benchCase in cases {
    guard let body = FileManager.default.contents(atPath: fixtures + "/" + benchCase.file) else {
        FileHandle.standardError.write(Data("missing fixture \(benchCase.file)\n".utf8))
        exit(1)
    }
    let endpoint = Endpoint(source: benchCase.source, keyPaths: ["bench.key"], key: EndpointKey(benchCase.keyFile), registryHost: benchCase.registryHost, notify: [Action(LogAction())])
    let provider = ProviderFactory.make(for: endpoint, googleKeys: keys)
    var fields = HTTPFields()
    for (name, value) in benchCase.headers(body) { fields[HTTPField.Name(name)!] = value }
    let request = WebhookRequest(headers: fields, body: body)
    var count = 0
    let clock = ContinuousClock()
    let start = clock.now
    let deadline = start + .milliseconds(Int64(seconds * 1000))
    while clock.now < deadline {
        for _ in 0..<64 {
            do {
                try await provider.verify(request)
                let events = try provider.parse(request)
                precondition(!events.isEmpty)
            } catch {
                FileHandle.standardError.write(Data("\(benchCase.name): \(error)\n".utf8))
                exit(1)
            }
            count += 1
        }
    }
    let elapsed = clock.now - start
    let rate = Double(count) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    print("micro\t\(benchCase.name)\t\(body.count)\t\(Int(rate))")
}

import AsyncHTTPClient
import Foundation
import Logging

/// Sets a created run's state on its commit at the git host (`report:` of a `create` action).
/// Its work is queued by ``RunStatusWatcher`` when a run is created or settles, never by a
/// webhook, and retried like any notification. At delivery it reads the run again, so a late
/// report says the latest state.
public struct StatusNotifier: Notifier {
    public let kind = "status"
    public let target: String
    let resource: KubeResource
    let report: RunReport
    let endpoint: Endpoint
    /// The endpoint's `gitAPI`: commit statuses with its token.
    let api: GitAPI?
    /// The endpoint's GitHub App, used when the run came from an installation and there is no
    /// `gitAPI`: check runs with the installation's token.
    let app: GitHubApp?
    let client: HTTPClient
    let kube: KubeClient

    public var takesWebhooks: Bool { false }

    /// The queue target of the reports of the action whose target is `actionTarget`.
    static func target(for actionTarget: String) -> String { "status " + actionTarget }

    public func notify(_ events: [HookEvent], context: NotifyContext) async throws(NotifyFailure) {
        for event in events {
            let values = event.bodyValues
            guard let namespace = values["object.namespace"], let name = values["object.name"], let repository = values["repository"],
                  let sha = values["sha"], let recorded = values["state"].flatMap(CommitStatus.State.init(rawValue:)) else {
                throw .final("a status report without its run, commit or state")
            }
            var state = recorded
            var description = values["description"] ?? ""
            // The run as it is now: a report delayed past its settling says so.
            if let data = try? await kube.get(resource, namespace: namespace, name: name), let run = ReportedRun(json: data), run.state != .pending {
                state = run.state
                description = run.description
            }
            let status = CommitStatus(repository: repository, sha: sha, state: state, context: report.context, targetURL: values["url"], description: description)
            do throws(GitHostError) {
                if let api {
                    let host = try GitHostKind.connect(endpoint, api: api, client: client, pacer: RateLimitPacer.shared(for: api.url))
                    try await host.postStatus(status)
                } else if let app, let installation = values["installation"].flatMap({ Int($0) }) {
                    try await CheckRuns(app: app, client: client).post(status, installation: installation, externalID: values["object.uid"])
                } else {
                    throw GitHostError(cause: .refused, description: "the run came from no App installation, and the endpoint has no `gitAPI` to set a commit status with")
                }
                context.logger.info("reported \(state.rawValue) for \(resource.kind) \(namespace)/\(name) on \(repository)@\(sha.prefix(12))",
                                    metadata: ["git.context": "\(report.context)"])
            } catch {
                throw Self.failure(error)
            }
        }
    }

    /// A git host's refusal as the queue retries it: rate limits and 5xx again, the rest never.
    static func failure(_ error: GitHostError) -> NotifyFailure {
        switch error.cause {
        case .rateLimited:
            return NotifyFailure(.rejected, error.description, status: 429,
                                 retryAfter: error.retryAt.map { .milliseconds(Int64(max(0, $0.timeIntervalSinceNow) * 1000)) })
        case .unauthorized: return NotifyFailure(.rejected, error.description, status: 401)
        case .forbidden: return NotifyFailure(.rejected, error.description, status: 403)
        case .notFound: return NotifyFailure(.rejected, error.description, status: 404)
        case .refused: return NotifyFailure(.rejected, error.description, status: 422)
        case .serverError: return NotifyFailure(.rejected, error.description, status: 502)
        case .timeout: return NotifyFailure(.timeout, error.description)
        case .unreachable: return NotifyFailure(.unreachable, error.description)
        }
    }
}

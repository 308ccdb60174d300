import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// A run's state as a GitHub check run, made with the App installation's token (what an App,
/// unlike a token, may do): one check run per state, under the report's context as its name; the
/// commit shows the latest.
struct CheckRuns: Sendable {
    let app: GitHubApp
    let client: HTTPClient

    /// Installation tokens, kept until five minutes before they expire.
    private static let tokens = Mutex<[String: GitHubAppClient.InstallationToken]>([:])

    private func token(_ installation: Int) async throws(GitHostError) -> String {
        let key = "\(app.apiURL) \(app.issuer) \(installation)"
        if let cached = Self.tokens.withLock({ $0[key] }), cached.expiresAt.timeIntervalSinceNow > 300 { return cached.token }
        do {
            let fresh = try await GitHubAppClient(app: app, client: client).token(installation: installation)
            Self.tokens.withLock { $0[key] = fresh }
            return fresh.token
        } catch {
            throw GitHostError(error)
        }
    }

    func post(_ status: CommitStatus, installation: Int, externalID: String?) async throws(GitHostError) {
        var caller = GitHostCaller(
            baseURL: app.apiURL, authorization: ("Authorization", "Bearer " + (try await token(installation))), client: client,
            pacer: RateLimitPacer.shared(for: app.apiURL), timeout: .seconds(30))
        caller.extraHeaders = [("Accept", "application/vnd.github+json"), ("X-GitHub-Api-Version", "2022-11-28")]
        var body: [String: Any] = [
            "name": status.context, "head_sha": status.sha,
            "output": ["title": status.state.rawValue, "summary": status.description.isEmpty ? status.state.rawValue : status.description],
        ]
        switch status.state {
        case .pending: body["status"] = "in_progress"
        case .success: body["status"] = "completed"; body["conclusion"] = "success"
        case .failure: body["status"] = "completed"; body["conclusion"] = "failure"
        case .error:
            // An error is a run cancelled or timed out (its reason, e.g. PipelineRunTimeout, is in the description).
            body["status"] = "completed"
            let reason = status.description.lowercased()
            body["conclusion"] = reason.contains("timeout") || reason.contains("timedout") ? "timed_out" : "cancelled"
        }
        if let url = status.targetURL { body["details_url"] = url }
        if let externalID { body["external_id"] = externalID }
        _ = try await caller.call(.POST, "/repos/" + HostPath.segments(status.repository) + "/check-runs", json: body, expecting: [201])
    }
}

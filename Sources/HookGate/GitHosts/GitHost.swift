import Crypto
import Foundation

/// Where a hook lives: a repository (`owner/name`; GitLab `group/sub/project`; Bitbucket
/// `workspace/slug`) or an organization (GitLab group, Bitbucket workspace).
public enum HookScope: Sendable, Hashable, CustomStringConvertible {
    case repository(String)
    case organization(String)

    public var description: String {
        switch self {
        case .repository(let name): "repo \(name)"
        case .organization(let name): "org \(name)"
        }
    }

    public var name: String {
        switch self {
        case .repository(let name), .organization(let name): name
        }
    }
}

/// A hook as the host shows it (never with its secret).
public struct HostHook: Sendable, Equatable {
    /// The host's id (GitHub's number, Bitbucket's `{uuid}`), as text.
    public var id: String
    public var url: String
    /// The events it is sent for, in the host's names.
    public var events: [String]
    public var active: Bool
    /// What the host says of its last delivery (`200 OK`, `failed to connect`), when it says.
    public var lastResult: String?
}

/// The hook an endpoint should have.
public struct DesiredHook: Sendable, Equatable {
    public var url: String
    /// The shared secret (token for GitLab), as the host stores it.
    public var secret: String
    /// The events, in the host's names.
    public var events: [String]

    /// A digest of what a write sets, so an unchanged hook is not written again (the host never
    /// shows the secret back).
    var digest: String {
        var text = url + "\n" + events.sorted().joined(separator: ",") + "\n"
        text += secret
        return SHA256.hash(data: Data(text.utf8)).hexString
    }
}

/// One attempt to deliver a webhook, as the host kept it.
public struct HostDelivery: Sendable, Equatable {
    /// The host's id of this attempt (what a redelivery names).
    public var id: String
    /// The delivery's own id as hookgate receives it (`X-GitHub-Delivery`, GitLab's
    /// `Idempotency-Key`): the same for every attempt of one webhook.
    public var deliveryID: String?
    public var at: Date?
    /// The HTTP status the receiver answered; 0 when it did not answer.
    public var statusCode: Int
    /// The event's name at the host, for the run's report.
    public var event: String?

    public var succeeded: Bool { (200..<300).contains(statusCode) }
}

/// A git host's API, as hooks registration and delivery recovery use it: one implementation per
/// host (GitHub, GitLab, Gitea, Bitbucket Cloud), made by its ``GitHostKind``.
public protocol GitHost: Sendable {
    func hooks(in scope: HookScope) async throws(GitHostError) -> [HostHook]
    func create(_ hook: DesiredHook, in scope: HookScope) async throws(GitHostError) -> HostHook
    func update(_ id: String, to hook: DesiredHook, in scope: HookScope) async throws(GitHostError)
    func delete(_ id: String, in scope: HookScope) async throws(GitHostError)
    /// The hook's deliveries, newest first, back to `since` (as far as the host keeps them).
    func deliveries(of hook: HostHook, in scope: HookScope, since: Date) async throws(GitHostError) -> [HostDelivery]
    /// Asks the host to send `delivery` again.
    func redeliver(_ delivery: HostDelivery, of hook: HostHook, in scope: HookScope) async throws(GitHostError)
    /// Sets the status of a commit under its context (a later call replaces it).
    func postStatus(_ status: CommitStatus) async throws(GitHostError)
}

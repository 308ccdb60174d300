import Logging
/// Keeps an App's installation Secrets as its webhooks say: installed, unsuspended, new
/// permissions or repositories → a fresh token in the Secret; uninstalled or suspended → deleted.
public struct GitHubAppNotifier: Notifier {
    public let kind = "github-app"
    public let target: String
    let secrets: InstallationSecrets

    static let stores: Set<String> = ["created", "unsuspend", "new_permissions_accepted", "added", "removed"]
    static let removes: Set<String> = ["deleted", "suspend"]

    public func notify(_ events: [HookEvent], context: NotifyContext) async throws(NotifyFailure) {
        for event in events {
            guard let installation = event.bodyValues["installation.id"].flatMap(Int.init) else {
                throw .final("the \(event.name) delivery names no installation (installation.id)")
            }
            let action = event.bodyValues["action"] ?? ""
            let account = event.bodyValues["installation.account.login"] ?? ""
            do throws(InstallationSecrets.Failure) {
                if Self.removes.contains(action) {
                    try await secrets.remove(installation: installation)
                    context.logger.info("deleted an installation's Secret", metadata: ["github.installation": "\(installation)", "github.action": "\(action)"])
                } else if Self.stores.contains(action) {
                    let expires = try await secrets.store(installation: installation, account: account)
                    context.logger.info("wrote an installation's token", metadata: [
                        "github.installation": "\(installation)", "github.action": "\(action)", "github.expires": "\(expires)"])
                }
            } catch {
                throw Self.failure(error)
            }
        }
    }

    /// GitHub refusing the App (401, 403, 404) will refuse it again: a dead letter that says why;
    /// everything else is retried.
    static func failure(_ error: InstallationSecrets.Failure) -> NotifyFailure {
        switch error {
        case .github(let failure):
            switch failure.cause {
            case .unauthorized, .forbidden, .notFound: return .final(failure.description)
            case .timeout: return NotifyFailure(.timeout, failure.description)
            case .unreachable: return NotifyFailure(.unreachable, failure.description)
            case .serverError: return NotifyFailure(.rejected, failure.description, status: 502)
            }
        case .kubernetes(let error):
            return error.notifyFailure
        }
    }
}

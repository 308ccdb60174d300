import Foundation

/// Where a push payload keeps the fields of a ``GitPush``. GitHub's shape (Gitea, Forgejo and Gogs
/// send it too) and GitLab's differ only in names, so one reader serves both, building only those
/// fields (see ``JSONReader``: pushes are the largest and most frequent payloads).
struct PushLayout: Sendable {
    /// The object that names the repository, and its members.
    var repository: StaticString
    var fullName: StaticString
    var sshURL: StaticString
    var httpsURL: StaticString
    var sender: Sender

    /// Where the sender's name is: a member of the top level, or of an object at the top level.
    enum Sender: Sendable {
        case member(StaticString)
        case nested(StaticString, StaticString)
    }

    static let gitHub = PushLayout(repository: "repository", fullName: "full_name", sshURL: "ssh_url", httpsURL: "clone_url",
                                   sender: .nested("sender", "login"))
    static let gitLab = PushLayout(repository: "project", fullName: "path_with_namespace", sshURL: "git_ssh_url", httpsURL: "git_http_url",
                                   sender: .member("user_username"))

    /// The push in `json`; a payload that is not one is a 400 naming `event` and where reading stopped.
    func read(_ json: Data, event: String) throws(HookFailure) -> GitPush {
        do throws(JSONReadError) {
            return try JSONReader.read(json) { reader in
                var ref: String?, before: String?, after: String?, sender: String?
                var repository: (fullName: String, sshURL: String, httpsURL: String?)?
                var commits: [PushedCommit]?
                try reader.object { key, reader in
                    if key == "ref" {
                        ref = try reader.string()
                    } else if key == "before" {
                        before = try reader.optionalString()
                    } else if key == "after" {
                        after = try reader.optionalString()
                    } else if key == self.repository {
                        repository = try readRepository(&reader)
                    } else if case .member(let name) = self.sender, key == name {
                        sender = try reader.optionalString()
                    } else if case .nested(let name, let field) = self.sender, key == name {
                        sender = nil
                        if try reader.isNull() { return true }
                        try reader.object { key, reader in
                            guard key == field else { return false }
                            sender = try reader.optionalString()
                            return true
                        }
                    } else if key == "commits" {
                        commits = try PushedCommit.read(&reader)
                    } else {
                        return false
                    }
                    return true
                }
                guard let ref else { throw reader.missing("ref") }
                guard let repository else { throw reader.missing("\(self.repository)") }
                return GitPush(fullName: repository.fullName, sshURL: repository.sshURL, httpsURL: repository.httpsURL,
                               ref: ref, before: before, after: after, sender: sender, changedFiles: PushedCommit.changedFiles(commits))
            }
        } catch {
            throw .badRequest("cannot parse the \(event) payload", reason: "the \(event) payload is not the JSON expected: \(error.summary)")
        }
    }

    private func readRepository(_ reader: inout JSONReader) throws -> (fullName: String, sshURL: String, httpsURL: String?) {
        var name: String?, ssh: String?, https: String?
        try reader.object { key, reader in
            if key == fullName {
                name = try reader.string()
            } else if key == sshURL {
                ssh = try reader.string()
            } else if key == httpsURL {
                https = try reader.optionalString()
            } else {
                return false
            }
            return true
        }
        guard let name else { throw reader.missing("\(fullName)") }
        guard let ssh else { throw reader.missing("\(sshURL)") }
        return (name, ssh, https)
    }
}

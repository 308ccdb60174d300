import Foundation
import HookGateTestSupport
import Testing

@testable import HookGate

/// The push readers (`GitHub.push(from:)` and `GitLab.push(from:)`, over `JSONReader`) against
/// `JSONDecoder` as the reference: the same values from every real push, the same refusals of
/// broken documents.
struct JSONReaderTests {
    /// The fields the push reader takes, decoded the `Codable` way.
    struct ReferencePush: Decodable {
        var ref: String
        var before: String?
        var after: String?
        var repository: Repository
        var sender: Sender?
        var commits: [PushedCommit]?

        struct Repository: Decodable {
            var full_name: String
            var ssh_url: String
            var clone_url: String?
        }

        struct Sender: Decodable {
            var login: String?
        }

        var push: GitPush {
            GitPush(fullName: repository.full_name, sshURL: repository.ssh_url, httpsURL: repository.clone_url,
                    ref: ref, before: before, after: after, sender: sender?.login, changedFiles: PushedCommit.changedFiles(commits))
        }
    }

    /// GitLab's push, decoded the `Codable` way.
    struct ReferenceGitLabPush: Decodable {
        var ref: String
        var before: String?
        var after: String?
        var project: Project
        var user_username: String?
        var commits: [PushedCommit]?

        struct Project: Decodable {
            var path_with_namespace: String
            var git_ssh_url: String
            var git_http_url: String?
        }

        var push: GitPush {
            GitPush(fullName: project.path_with_namespace, sshURL: project.git_ssh_url, httpsURL: project.git_http_url,
                    ref: ref, before: before, after: after, sender: user_username, changedFiles: PushedCommit.changedFiles(commits))
        }
    }

    static let fixtures = [
        "github-push-tag-deleted.json", "github-push-branch-created-with-installation.json", "gitea-push.json", "gogs-push.json",
        "gitlab-push_hook.json", "gitlab-tag_push_hook.json", "gitlab-system_hook-push.json",
    ]

    /// The push reader for a fixture's source, and `Codable`'s reading as the reference.
    struct Readers {
        let read: (Data) -> GitPush?
        let reference: (Data) -> GitPush?

        init(_ fixture: String) {
            if fixture.hasPrefix("gitlab-") {
                read = { try? GitLab.push(from: $0, event: "GitLab Push Hook") }
                reference = { try? JSONDecoder().decode(ReferenceGitLabPush.self, from: $0).push }
            } else {
                read = { try? GitHub.push(from: $0) }
                reference = { try? JSONDecoder().decode(ReferencePush.self, from: $0).push }
            }
        }
    }

    static func reference(_ data: Data) -> GitPush? {
        try? JSONDecoder().decode(ReferencePush.self, from: data).push
    }

    static func read(_ data: Data) -> GitPush? {
        try? GitHub.push(from: data)
    }

    @Test(arguments: fixtures) func realPushesReadAsCodableReadsThem(_ name: String) throws {
        let data = Fixtures.data(name)
        let readers = Readers(name)
        let push = try #require(readers.read(data))
        #expect(push == readers.reference(data))
        #expect(!push.fullName.isEmpty && !push.sshURL.isEmpty)
    }

    /// Every tenth prefix, and bytes that break the syntax put in at every seventh position: what
    /// the push reader accepts, `JSONDecoder` accepts with the same values. The reader may be
    /// stricter (`JSONDecoder` lets a few malformed documents through, such as `[1, ]`), but only
    /// rarely; it is never more lenient.
    @Test(arguments: fixtures) func brokenDocumentsAreRefusedAsCodableRefusesThem(_ name: String) {
        let data = Fixtures.data(name)
        let readers = Readers(name)
        var documents: [(Data, String)] = stride(from: 0, to: data.count, by: 10).map { (data.prefix($0), "prefix of \($0) bytes") }
        for position in stride(from: 0, to: data.count, by: 7) {
            for byte in Array("\"{}[],:\\ 0-nx".utf8) {
                var mutated = data
                mutated[mutated.startIndex + position] = byte
                documents.append((mutated, "byte \(byte) at \(position)"))
            }
        }
        var stricter = 0
        for (document, label) in documents {
            let ours = readers.read(document), theirs = readers.reference(document)
            if let ours {
                #expect(ours == theirs, "\(label)")
            } else if theirs != nil {
                stricter += 1
            }
        }
        #expect(stricter * 100 < documents.count, "refused \(stricter) of \(documents.count) documents that JSONDecoder accepts")
    }

    @Test func escapesAndUnicodeAreDecoded() throws {
        let data = Data(#"""
            {"ref": "refs/heads/caf\u00e9-\"x\"-\\\/-\ud83d\ude00-\n\t", "before": null, "numbers": [0, -1.5e+3, 2E-2, true, false, null, {}],
             "repository": {"ful\u006c_name": "a/b", "ssh_url": "git@h:a/b.git", "clone_url": null}, "sender": null, "commits": []}
            """#.utf8)
        let push = try #require(Self.read(data))
        #expect(push == Self.reference(data))
        #expect(push.ref == "refs/heads/café-\"x\"-\\/-😀-\n\t")
        #expect(push.fullName == "a/b")
        #expect(push.changedFiles == [])
    }

    @Test func refusalsSayWhatAndWhere() {
        func reason(_ json: String) -> String? {
            do {
                _ = try GitHub.push(from: Data(json.utf8))
                return nil
            } catch {
                return error.reason
            }
        }
        let repository = #""repository": {"full_name": "a/b", "ssh_url": "s"}"#
        #expect(reason("{\(repository)}")?.hasSuffix("`ref` is missing at the top level") == true)
        #expect(reason(#"{"ref": "r", "repository": {"full_name": "a/b"}}"#)?.hasSuffix("`ssh_url` is missing at repository") == true)
        #expect(reason(#"{"ref": 7, \#(repository)}"#)?.hasSuffix("a value has the wrong type at ref") == true)
        #expect(reason(#"{"ref": "r", \#(repository), "commits": [{"added": []}, {"added": [null]}]}"#)?
            .hasSuffix("a value is null at commits[1].added[0]") == true)
        #expect(reason(#"{"ref": "r", \#(repository)} trailing"#)?.hasSuffix("not valid JSON") == true)
        #expect(reason("[]")?.hasSuffix("a value has the wrong type at the top level") == true)
    }

    /// Hostile nesting in a field that is skipped is refused, not followed down the stack.
    @Test func deepNestingIsRefused() {
        let deep = String(repeating: "[", count: 100_000)
        do {
            _ = try GitHub.push(from: Data(#"{"ref": "r", "extra": \#(deep)"#.utf8))
            Issue.record("accepted")
        } catch {
            #expect(error.reason.hasSuffix("nested too deeply at extra[0][0]" + String(repeating: "[0]", count: JSONReader.maximumDepth - 3)))
        }
    }
}

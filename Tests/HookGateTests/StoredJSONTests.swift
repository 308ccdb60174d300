import Foundation
import Testing

@testable import HookGate

/// The queue's hand-written event JSON reads back through `Codable` as the same events.
struct StoredJSONTests {
    static let awkward = "caf\u{E9} \"quoted\" back\\slash /slash\n\r\t\u{01}\u{1F} 😀 \u{7F}"

    static let events: [[HookEvent]] = [
        [],
        [HookEvent(name: "push", kind: .gitPush(GitPush(fullName: "a/b", sshURL: "git@h:a/b.git", httpsURL: nil, ref: "refs/heads/main")))],
        [HookEvent(name: "push", kind: .gitPush(GitPush(
            fullName: awkward, sshURL: "ssh://git@h/a/b.git", httpsURL: "https://h/a/b.git", ref: "refs/heads/" + awkward,
            before: "0000", after: "6113728f", sender: awkward, changedFiles: ["README.md", awkward, ""])))],
        [HookEvent(name: "push", kind: .gitPush(GitPush(fullName: "a/b", sshURL: "s", httpsURL: nil, ref: "r", changedFiles: [])))],
        [HookEvent(name: "PUSH_ARTIFACT", kind: .imagePush(ImagePush(image: ImageReference(domain: "registry.example.com", repository: "team/app", tag: "v1.2"),
                                                                   digest: "sha256:abc"))),
         HookEvent(name: "push", kind: .imagePush(ImagePush(image: ImageReference(domain: "docker.io", repository: awkward, tag: nil)))),
         HookEvent(name: awkward, kind: .trigger), HookEvent(name: "ping", kind: .ping), HookEvent(name: "issues", kind: .other)],
    ]

    @Test(arguments: events) func handWrittenJSONReadsBackAsTheSameEvents(_ events: [HookEvent]) throws {
        let json = HookEvent.storedJSON(events)
        let decoded = try JSONDecoder().decode([HookEvent].self, from: Data(json.utf8))
        #expect(decoded == events, "\(json)")
        // The same document as Codable's, key for key.
        let reference = try JSONSerialization.jsonObject(with: JSONEncoder().encode(events)) as? NSArray
        #expect(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? NSArray == reference)
    }
}

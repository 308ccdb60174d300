/// The stored form of events (see `HookEvent: Codable`), written by hand: the queue writes it for
/// every queued webhook, and `JSONEncoder` took 6% of a queued request's CPU time to do it. The
/// document is the one `Codable` reads back: the same keys, nil values left out.
extension HookEvent {
    static func storedJSON(_ events: [HookEvent]) -> String {
        var json = JSONText()
        json.array(events) { json, event in
            json.object { json in
                json.member("name", event.name)
                json.member("kind", event.kindName)
                if !event.bodyValues.isEmpty {
                    json.key("bodyValues")
                    json.object { json in
                        for (path, value) in event.bodyValues.sorted(by: { $0.key < $1.key }) { json.member(path, value) }
                    }
                }
                if !event.headerValues.isEmpty {
                    json.key("headerValues")
                    json.object { json in
                        for (name, value) in event.headerValues.sorted(by: { $0.key < $1.key }) { json.member(name, value) }
                    }
                }
                switch event.kind {
                case .gitPush(let push):
                    json.key("git")
                    json.object { json in
                        json.member("fullName", push.fullName)
                        json.member("sshURL", push.sshURL)
                        json.member("httpsURL", push.httpsURL)
                        json.member("ref", push.ref)
                        json.member("before", push.before)
                        json.member("after", push.after)
                        json.member("sender", push.sender)
                        if let files = push.changedFiles {
                            json.key("changedFiles")
                            json.array(files) { $0.string($1) }
                        }
                    }
                case .imagePush(let push):
                    json.key("image")
                    json.object { json in
                        json.key("image")
                        json.object { json in
                            json.member("domain", push.image.domain)
                            json.member("repository", push.image.repository)
                            json.member("tag", push.image.tag)
                        }
                        json.member("digest", push.digest)
                    }
                case .pullRequest(let pullRequest):
                    json.key("pullRequest")
                    json.object { json in
                        json.member("action", pullRequest.action.rawValue)
                        json.member("number", pullRequest.number)
                        json.member("url", pullRequest.url)
                        json.member("fullName", pullRequest.fullName)
                        json.member("repoURL", pullRequest.repoURL)
                        json.member("headRef", pullRequest.headRef)
                        json.member("headSHA", pullRequest.headSHA)
                        json.member("headRepoURL", pullRequest.headRepoURL)
                        json.member("baseRef", pullRequest.baseRef)
                        json.member("title", pullRequest.title)
                        json.member("author", pullRequest.author)
                        json.member("fromFork", pullRequest.fromFork)
                    }
                case .release(let release):
                    json.key("release")
                    json.object { json in
                        json.member("fullName", release.fullName)
                        json.member("repoURL", release.repoURL)
                        json.member("tag", release.tag)
                        json.member("name", release.name)
                        json.member("url", release.url)
                        json.member("target", release.target)
                        json.member("author", release.author)
                    }
                case .trigger, .ping, .other:
                    break
                }
            }
        }
        return json.text
    }
}

/// A JSON document written piece by piece; commas go where they belong.
struct JSONText {
    private(set) var text = ""
    private var needsComma = false

    mutating func object(_ members: (inout JSONText) -> Void) {
        separate()
        text.append("{")
        needsComma = false
        members(&self)
        text.append("}")
        needsComma = true
    }

    mutating func array<Element>(_ elements: [Element], _ write: (inout JSONText, Element) -> Void) {
        separate()
        text.append("[")
        needsComma = false
        for element in elements { write(&self, element) }
        text.append("]")
        needsComma = true
    }

    /// A member's key; its value comes next.
    mutating func key(_ key: String) {
        string(key)
        text.append(":")
        needsComma = false
    }

    /// A string member, left out when `value` is nil.
    mutating func member(_ name: String, _ value: String?) {
        guard let value else { return }
        key(name)
        string(value)
    }

    /// A number member.
    mutating func member(_ name: String, _ value: Int) {
        key(name)
        separate()
        text.append(String(value))
        needsComma = true
    }

    /// A boolean member.
    mutating func member(_ name: String, _ value: Bool) {
        key(name)
        separate()
        text.append(value ? "true" : "false")
        needsComma = true
    }

    mutating func string(_ value: String) {
        separate()
        text.append("\"")
        if value.utf8.allSatisfy({ $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) {
            text.append(value)
        } else {
            for scalar in value.unicodeScalars {
                switch scalar {
                case "\"": text.append("\\\"")
                case "\\": text.append("\\\\")
                case "\n": text.append("\\n")
                case "\r": text.append("\\r")
                case "\t": text.append("\\t")
                case _ where scalar.value < 0x20:
                    let hex = String(scalar.value, radix: 16)
                    text.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
                default:
                    text.unicodeScalars.append(scalar)
                }
            }
        }
        text.append("\"")
        needsComma = true
    }

    private mutating func separate() {
        if needsComma { text.append(",") }
    }
}

import Foundation

/// Writes each notifiable event as one JSON line on standard output: for the quickstart, for
/// debugging, and for piping into other tools. Logs go to standard error, so the two never mix.
public struct LogNotifier: Notifier {
    public let kind = "log"
    public let target = "log"
    private let write: @Sendable (Data) -> Void

    /// - Parameter write: where lines go; standard output unless a test says otherwise.
    public init(write: @escaping @Sendable (Data) -> Void = { FileHandle.standardOutput.write($0) }) {
        self.write = write
    }

    public func notify(_ events: [HookEvent], context: NotifyContext) async throws(NotifyFailure) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for event in events where event.isNotifiable {
            let line = Line(endpoint: context.endpoint, source: context.source.rawValue, delivery: context.deliveryID, event: event)
            guard var data = try? encoder.encode(line) else { continue }
            data.append(UInt8(ascii: "\n"))
            write(data)
        }
    }

    /// The shape of one line: where it came from, then the event's facts, flat.
    struct Line: Encodable {
        var endpoint: String
        var source: String
        var delivery: String?
        var event: HookEvent

        enum Key: String, CodingKey {
            case endpoint, source, delivery, event, kind, repository, sshURL, httpsURL, ref, branch, tag, before, after, pullRequest, release
            case registry, image, digest
        }

        func encode(to encoder: any Encoder) throws {
            var out = encoder.container(keyedBy: Key.self)
            try out.encode(endpoint, forKey: .endpoint)
            try out.encode(source, forKey: .source)
            try out.encodeIfPresent(delivery, forKey: .delivery)
            try out.encode(event.name, forKey: .event)
            try out.encode(event.kindName, forKey: .kind)
            switch event.kind {
            case .gitPush(let push):
                try out.encode(push.fullName, forKey: .repository)
                try out.encode(push.sshURL, forKey: .sshURL)
                try out.encodeIfPresent(push.httpsURL, forKey: .httpsURL)
                try out.encode(push.ref, forKey: .ref)
                try out.encodeIfPresent(push.branch, forKey: .branch)
                try out.encodeIfPresent(push.tag, forKey: .tag)
                try out.encodeIfPresent(push.before, forKey: .before)
                try out.encodeIfPresent(push.after, forKey: .after)
            case .imagePush(let push):
                try out.encode(push.image.domain, forKey: .registry)
                try out.encode(push.image.repository, forKey: .image)
                try out.encodeIfPresent(push.image.tag, forKey: .tag)
                try out.encodeIfPresent(push.digest, forKey: .digest)
            case .pullRequest(let pullRequest):
                try out.encode(pullRequest.fullName, forKey: .repository)
                try out.encode(pullRequest, forKey: .pullRequest)
            case .release(let release):
                try out.encode(release.fullName, forKey: .repository)
                try out.encode(release.tag, forKey: .tag)
                try out.encode(release, forKey: .release)
            case .trigger, .ping, .other:
                break
            }
        }
    }
}

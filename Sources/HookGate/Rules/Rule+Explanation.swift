/// Why a rule does or does not act on an event, for `hookgate verify`.
extension Rule {
    /// The rule as a config would write it (`when: branches main, release/*`), or "every git and
    /// image push and every trigger" for the empty rule.
    public var summary: String {
        var parts: [String] = []
        if let events { parts.append("events " + events.map(\.rawValue).sorted().joined(separator: ", ")) }
        if let branches { parts.append("branches " + Self.list(branches)) }
        if let tags { parts.append("tags " + Self.list(tags)) }
        if let repositories { parts.append("repositories " + Self.list(repositories)) }
        if let paths { parts.append("paths " + Self.list(paths)) }
        if let images { parts.append("images " + Self.list(images)) }
        if let actions { parts.append("actions " + actions.map(\.rawValue).sorted().joined(separator: ", ")) }
        if let baseBranches { parts.append("baseBranches " + Self.list(baseBranches)) }
        if let fromForks { parts.append("fromForks \(fromForks)") }
        for condition in body ?? [] { parts.append("body \(condition.path) " + Self.list(condition.values)) }
        return parts.isEmpty ? "every git and image push and every trigger" : "when: " + parts.joined(separator: "; ")
    }

    /// Why the rule does not act on `event`, or nil when it does. Follows ``matches(_:)`` step by
    /// step (a test holds the two together).
    public func mismatch(_ event: HookEvent) -> String? {
        for condition in body ?? [] where !condition.holds(for: event) {
            guard let value = event.bodyValues[condition.path.description] else { return "the body has no \(condition.path)" }
            return "body \(condition.path) is \(value.count > 80 ? String(value.prefix(80)) + "…" : value), matching none of \(Self.list(condition.values))"
        }
        switch event.kind {
        case .gitPush(let push):
            if let images { return "it names images (\(Self.list(images))), so git pushes never match" }
            let kind = Self.kind(of: push)
            if let events, !events.contains(kind) { return "a \(kind.rawValue) is not among its events" }
            if events == nil, kind == .delete { return "a deleted ref is acted on only by rules with `events: [delete]`" }
            if branches != nil || tags != nil {
                if let branch = push.branch {
                    guard let branches else { return "it names tags only, and this pushes branch \(branch)" }
                    if !branches.contains(where: { $0.matches(branch) }) { return "branch \(branch) matches none of its branches" }
                } else if let tag = push.tag {
                    guard let tags else { return "it names branches only, and this pushes tag \(tag)" }
                    if !tags.contains(where: { $0.matches(tag) }) { return "tag \(tag) matches none of its tags" }
                } else {
                    return "\(push.ref) is neither a branch nor a tag"
                }
            }
            if let repositories, !repositories.contains(where: { $0.matches(push.fullName) }) {
                return "repository \(push.fullName) matches none of its repositories"
            }
            if let paths, let files = push.changedFiles, !files.contains(where: { file in paths.contains { $0.matches(file) } }) {
                return "none of the \(files.count) changed files matches its paths"
            }
            return nil
        case .imagePush(let push):
            if let events, !events.contains(.image) { return "an image is not among its events" }
            if branches != nil || tags != nil || repositories != nil || paths != nil {
                return "it names branches, tags, repositories or paths, so image pushes never match"
            }
            if let images {
                let name = push.image.domain.isEmpty ? push.image.repository : push.image.domain + "/" + push.image.repository
                if !images.contains(where: { $0.matches(name) }) { return "image \(name) matches none of its images" }
            }
            return nil
        case .pullRequest(let pullRequest):
            guard events?.contains(.pullRequest) == true else { return "a pull request is acted on only by rules with `events: [pullRequest]`" }
            if let images { return "it names images (\(Self.list(images))), so pull requests never match" }
            if let repositories, !repositories.contains(where: { $0.matches(pullRequest.fullName) }) {
                return "repository \(pullRequest.fullName) matches none of its repositories"
            }
            if let actions, !actions.contains(pullRequest.action) { return "\(pullRequest.action.rawValue) is not among its actions" }
            if let baseBranches, !baseBranches.contains(where: { $0.matches(pullRequest.baseRef) }) {
                return "base branch \(pullRequest.baseRef) matches none of its baseBranches"
            }
            if pullRequest.fromFork && fromForks != true { return "it comes from a fork, and the rule does not say `fromForks: true`" }
            return nil
        case .release(let release):
            guard events?.contains(.release) == true else { return "a release is acted on only by rules with `events: [release]`" }
            if images != nil || branches != nil { return "it names images or branches, which a release does not carry" }
            if let repositories, !repositories.contains(where: { $0.matches(release.fullName) }) {
                return "repository \(release.fullName) matches none of its repositories"
            }
            if let tags, !tags.contains(where: { $0.matches(release.tag) }) { return "tag \(release.tag) matches none of its tags" }
            return nil
        case .trigger:
            if let events, !events.contains(.trigger) { return "a trigger is not among its events" }
            if branches != nil || tags != nil || repositories != nil || paths != nil || images != nil {
                return "it names branches, tags, repositories, paths or images, which a trigger does not carry"
            }
            return nil
        case .ping, .other:
            return "only git and image pushes and triggers are acted on"
        }
    }

    private static func list(_ globs: [Glob]) -> String {
        globs.map(\.pattern).joined(separator: ", ")
    }
}

import Foundation
import Yams

/// A Kubernetes object with `$(hook.NAME)` placeholders in its string values.
///
/// The template is parsed once, at load, into a tree; rendering replaces placeholders inside
/// string values only, so a value from a webhook (a branch named to look like YAML or JSON) always
/// stays one string and cannot add keys or change the object's shape. Other `$(…)` references,
/// such as Tekton's `$(params.x)`, are left alone.
public struct ObjectTemplate: Sendable, Equatable {
    /// A JSON value with its keys in the template's order.
    public indirect enum Value: Sendable, Equatable {
        case string(String)
        case int(Int)
        case double(Double)
        case bool(Bool)
        case null
        case array([Value])
        case object([(String, Value)])

        public static func == (lhs: Value, rhs: Value) -> Bool {
            switch (lhs, rhs) {
            case let (.string(a), .string(b)): a == b
            case let (.int(a), .int(b)): a == b
            case let (.double(a), .double(b)): a == b
            case let (.bool(a), .bool(b)): a == b
            case (.null, .null): true
            case let (.array(a), .array(b)): a == b
            case let (.object(a), .object(b)): a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
            default: false
            }
        }

        subscript(key: String) -> Value? {
            guard case .object(let pairs) = self else { return nil }
            return pairs.first { $0.0 == key }?.1
        }

        /// Sets (or adds) `key` in an object.
        mutating func set(_ key: String, _ value: Value?) {
            guard case .object(var pairs) = self else { return }
            if let index = pairs.firstIndex(where: { $0.0 == key }) {
                if let value { pairs[index].1 = value } else { pairs.remove(at: index) }
            } else if let value {
                pairs.append((key, value))
            }
            self = .object(pairs)
        }

        var string: String? {
            if case .string(let text) = self { return text }
            return nil
        }
    }

    /// What a placeholder stands for: one string, or a list (changed files).
    public enum Variable: Sendable, Equatable {
        case string(String)
        case list([String])
    }

    public let root: Value

    /// The placeholders a template may use.
    public static let variables: [String] = [
        "event", "deliveryID", "endpoint", "source", "sender",
        "repository", "repoURL", "sshURL", "ref", "branch", "tag", "revision", "before", "changedFiles",
        "image", "registry", "imageRepository", "imageTag", "digest",
        "pullRequest", "pullRequestURL", "action", "headRef", "headRepoURL", "baseRef", "title", "author", "fromFork", "releaseName", "releaseURL",
        "installationID", "installationSecret",
    ]

    /// What the GitHub App placeholders read from the body: the installation a delivery came from.
    static let installationPaths: Set<BodyPath> = Set(["installation.id", "installation.account.login"].compactMap(BodyPath.init))

    /// Parses `yaml`; every problem (not a mapping, no `kind`, an unknown placeholder) is an error.
    public init(yaml: String) throws(TemplateError) {
        let node: Node?
        do {
            try YAMLExpansion.check(yaml)
            node = try Yams.compose(yaml: yaml)
        } catch let error as YAMLExpansion.TooLarge {
            throw TemplateError("line \(error.line): \(error.message); \(YAMLExpansion.TooLarge.fix)")
        } catch {
            throw TemplateError("not valid YAML: \(error)")
        }
        guard let node else { throw TemplateError("the template is empty") }
        try self.init(node: node)
    }

    /// A template from an already parsed YAML node (an inline `object:`).
    init(node: Node) throws(TemplateError) {
        guard case .object = Self.value(of: node) else { throw TemplateError("the template must be a mapping (a Kubernetes object)") }
        root = Self.value(of: node)
        guard root["kind"]?.string != nil else { throw TemplateError("the template has no `kind`") }
        var paths: Set<BodyPath> = []
        var headers: Set<String> = []
        for name in Self.placeholders(in: root) where !Self.variables.contains(name) {
            if name.hasPrefix("body."), let path = BodyPath(String(name.dropFirst("body.".count))) {
                paths.insert(path)
                continue
            }
            if name.hasPrefix("header.") {
                let header = String(name.dropFirst("header.".count))
                if let problem = Self.headerProblem(header) { throw TemplateError("$(hook.\(name)): \(problem)") }
                headers.insert(header)
                continue
            }
            throw TemplateError("unknown placeholder $(hook.\(name)); known: " + Self.variables.map { "$(hook.\($0))" }.joined(separator: ", ")
                + ", $(hook.body.PATH) with PATH in dots and [n] (pull_request.labels[0].name), and $(hook.header.NAME)")
        }
        if Self.placeholders(in: root).contains(where: { $0 == "installationID" || $0 == "installationSecret" }) {
            paths.formUnion(Self.installationPaths)
        }
        bodyPaths = paths
        headerNames = headers
        if let malformed = Self.malformed(in: root) {
            throw TemplateError("malformed placeholder \(malformed): write $(hook.NAME), or $(hook.body.PATH) with PATH in dots and [n] (pull_request.labels[0].name)")
        }
    }

    /// The body paths its `$(hook.body.PATH)` placeholders read.
    public private(set) var bodyPaths: Set<BodyPath> = []

    /// The request headers its `$(hook.header.NAME)` placeholders read, as written.
    public private(set) var headerNames: Set<String> = []

    /// Why a header may not be copied into an object, or nil when it may: headers that carry the
    /// endpoint's secret or a signature made with it never leave hookgate this way.
    static func headerProblem(_ name: String) -> String? {
        guard name.wholeMatch(of: /[A-Za-z0-9][A-Za-z0-9-]*/) != nil else { return "a header name is letters, digits and `-`" }
        let lowered = name.lowercased()
        let secret = ["authorization", "proxy-authorization", "cookie", "x-gitlab-token"].contains(lowered)
            || ["signature", "token", "secret"].contains { lowered.contains($0) }
        return secret ? "\(name) carries the endpoint's secret or a signature made with it, and is never copied into an object" : nil
    }

    public var kind: String { root["kind"]?.string ?? "" }
    public var apiVersion: String? { root["apiVersion"]?.string }
    public var namespace: String? { root["metadata"]?["namespace"]?.string }

    /// The object with every placeholder replaced.
    public func render(_ variables: [String: Variable]) -> Value {
        Self.render(root, variables)
    }

    private static func render(_ value: Value, _ variables: [String: Variable]) -> Value {
        switch value {
        case .string(let text):
            // A value that is exactly one list placeholder becomes a list of strings.
            if let only = text.wholeMatch(of: placeholder), case .list(let items)? = variables[String(only.1)] {
                return .array(items.map(Value.string))
            }
            return .string(text.replacing(placeholder) { match in
                switch variables[String(match.1)] {
                case .string(let string)?: string
                case .list(let items)?: items.joined(separator: ",")
                case nil: ""
                }
            })
        case .array(let items):
            return .array(items.map { render($0, variables) })
        case .object(let pairs):
            return .object(pairs.map { ($0.0, render($0.1, variables)) })
        default:
            return value
        }
    }

    private nonisolated(unsafe) static let placeholder = /\$\(hook\.([A-Za-z]+(?:\.[A-Za-z0-9_-]+(?:\[[0-9]+\])*)*)\)/

    /// A `$(hook.` that does not start a well-formed placeholder, which would otherwise stay in
    /// the object as text.
    private static func malformed(in value: Value) -> String? {
        switch value {
        case .string(let text):
            let starts = text.ranges(of: "$(hook.").count
            guard starts != text.matches(of: placeholder).count, let range = text.range(of: "$(hook.") else { return nil }
            return String(text[range.lowerBound...].prefix(40))
        case .array(let items): return items.lazy.compactMap(malformed).first
        case .object(let pairs): return pairs.lazy.compactMap { malformed(in: $0.1) ?? malformed(in: .string($0.0)) }.first
        default: return nil
        }
    }

    private static func placeholders(in value: Value) -> [String] {
        switch value {
        case .string(let text): text.matches(of: placeholder).map { String($0.1) }
        case .array(let items): items.flatMap(placeholders)
        case .object(let pairs): pairs.flatMap { placeholders(in: $0.1) + placeholders(in: .string($0.0)) }
        default: []
        }
    }

    private static func value(of node: Node) -> Value {
        switch node {
        case .scalar(let scalar):
            if node.null != nil && scalar.style == .plain { return .null }
            if scalar.style == .plain {
                if let bool = node.bool { return .bool(bool) }
                if let int = node.int { return .int(int) }
                if let double = node.float { return .double(double) }
            }
            return .string(scalar.string)
        case .sequence(let sequence):
            return .array(sequence.map(value(of:)))
        case .mapping(let mapping):
            return .object(mapping.map { ($0.key.string ?? "\($0.key)", value(of: $0.value)) })
        case .alias:
            return .null
        }
    }
}

extension ObjectTemplate.Value {
    /// Compact JSON, keys in order.
    public var json: Data {
        var out = ""
        write(to: &out)
        return Data(out.utf8)
    }

    private func write(to out: inout String) {
        switch self {
        case .string(let text): out += FluxChange.goString(text)
        case .int(let int): out += String(int)
        case .double(let double): out += double.isFinite ? String(double) : "null"
        case .bool(let bool): out += bool ? "true" : "false"
        case .null: out += "null"
        case .array(let items):
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += "," }
                item.write(to: &out)
            }
            out += "]"
        case .object(let pairs):
            out += "{"
            for (index, pair) in pairs.enumerated() {
                if index > 0 { out += "," }
                out += FluxChange.goString(pair.0) + ":"
                pair.1.write(to: &out)
            }
            out += "}"
        }
    }
}

/// A template that cannot be used.
public struct TemplateError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

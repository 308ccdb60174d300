import Foundation
import HTTPTypes
import HookGate

/// One fuzzer input, decoded from a framing simple enough to write seeds by hand:
///
/// ```text
/// GitHub                          ← line 1: a source name (any name a config accepts), `config` or `headers`
/// X-GitHub-Event: push            ← sources only: header lines, `Name: value`
/// Content-Type: application/json
///                                 ← an empty line ends the headers
/// {"ref": "refs/heads/main", …}   ← the body, every remaining byte as is
/// ```
///
/// For `config` and `headers`, everything after line 1 is the config's YAML or the captured
/// header block. Lines end in `\n` (a `\r` before it is dropped); a header line whose name is not
/// a valid field name is skipped; without an empty line the body is empty. An input whose first
/// line names no target decodes to nil and is ignored.
public struct FuzzInput: Sendable {
    public enum Target: Sendable, Equatable {
        case source(Source)
        case config
        case capturedHeaders
    }

    public var target: Target
    /// The request's headers (sources only).
    public var headers: HTTPFields
    /// The request body, the config text or the captured header block.
    public var body: Data

    public init(target: Target, headers: HTTPFields = HTTPFields(), body: Data) {
        self.target = target
        self.headers = headers
        self.body = body
    }

    /// Decodes fuzzer bytes; nil when the first line names no target.
    public init?(_ bytes: Data) {
        var rest = bytes[...]
        guard let first = Self.line(&rest), let target = Self.target(named: first) else { return nil }
        self.target = target
        headers = HTTPFields()
        guard case .source = target else {
            body = Data(rest)
            return
        }
        while let line = Self.line(&rest), !line.isEmpty {
            guard let colon = line.firstIndex(of: ":"),
                  let name = HTTPField.Name(String(line[..<colon]).trimmingCharacters(in: .whitespaces))
            else { continue }
            let value = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
            headers.append(HTTPField(name: name, value: value))
        }
        body = Data(rest)
    }

    /// The bytes that decode to `target`, `headers` and `body`: how seeds and regressions are written.
    public static func frame(_ target: String, headers: [(String, String)] = [], body: Data) -> Data {
        var text = target + "\n"
        if case .source = Self.target(named: target) {
            for (name, value) in headers { text += "\(name): \(value)\n" }
            text += "\n"
        }
        return Data(text.utf8) + body
    }

    static func target(named name: String) -> Target? {
        switch name.trimmingCharacters(in: .whitespaces).lowercased() {
        case "config": .config
        case "headers": .capturedHeaders
        case let other: Source(configName: other).map(Target.source)
        }
    }

    /// Removes and returns the first line of `rest` without its `\r\n` or `\n`; nil when `rest` is empty.
    private static func line(_ rest: inout Data.SubSequence) -> String? {
        guard !rest.isEmpty else { return nil }
        let end = rest.firstIndex(of: UInt8(ascii: "\n")) ?? rest.endIndex
        var line = rest[..<end]
        rest = end == rest.endIndex ? rest[end...] : rest[rest.index(after: end)...]
        if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
        return String(decoding: line, as: UTF8.self)
    }
}

import Foundation
import HTTPTypes

/// A request's header block as an operator captured it, for `hookgate verify --headers FILE`.
///
/// Accepts what a provider's "recent deliveries" page or `curl -v` shows: `Name: value` lines
/// (names case-insensitive), an optional request line (`POST /hook/… HTTP/1.1`), GitHub's
/// `Request URL:` and `Request method:` lines, curl's `> ` prefixes (its `*`, `<`, `{` and `}`
/// lines are skipped), HTTP/2 pseudo-headers (`:path`, `:method`), blank lines and CRLF endings.
/// A line that is none of these is an error naming its line number: the body goes in its own file.
public struct CapturedHeaders: Sendable {
    public var fields: HTTPFields
    /// The request's path or URL, from its request line, `:path` or `Request URL:`.
    public var target: String?
    /// The request's method, when the capture shows it.
    public var method: String?

    public init(fields: HTTPFields = HTTPFields(), target: String? = nil, method: String? = nil) {
        self.fields = fields
        self.target = target
        self.method = method
    }

    /// Reads a header block; `file` names it in errors.
    public static func parse(_ text: String, file: String) throws(CaptureError) -> CapturedHeaders {
        var captured = CapturedHeaders()
        var lastName: HTTPField.Name?
        for (index, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
            var line = Substring(rawLine)
            if line.hasSuffix("\r") { line = line.dropLast() }
            // curl -v: `*` notes, `<` response lines, `{ [n bytes data]` markers.
            if line == "*" || line == "<" || line.hasPrefix("* ") || line.hasPrefix("< ") || line.hasPrefix("{ [") || line.hasPrefix("} [") { continue }
            if line.hasPrefix(">") { line = line.dropFirst().drop { $0 == " " } }
            if line.allSatisfy(\.isWhitespace) {
                lastName = nil
                continue
            }
            // A folded continuation of the previous header (obsolete, but some copies wrap long values).
            if let first = line.first, first == " " || first == "\t", let name = lastName, let previous = captured.fields[name] {
                captured.fields[name] = previous + " " + line.trimmingCharacters(in: .whitespaces)
                continue
            }
            if let requestLine = line.wholeMatch(of: /([A-Z]+) (\S+) HTTP\/[0-9.]+/) {
                captured.method = String(requestLine.1)
                captured.target = String(requestLine.2)
                continue
            }
            guard let colon = line.dropFirst().firstIndex(of: ":") else {
                throw CaptureError(file: file, line: index + 1, message: "not a header line (`Name: value`)")
            }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            switch name.lowercased() {
            case ":path", "request url":
                captured.target = value
                continue
            case ":method", "request method":
                captured.method = value.uppercased()
                continue
            case ":authority", ":scheme":
                continue
            default:
                break
            }
            guard let fieldName = HTTPField.Name(name) else {
                throw CaptureError(file: file, line: index + 1, message: "`\(name.prefix(40))` is not a header name")
            }
            captured.fields.append(HTTPField(name: fieldName, value: value))
            lastName = fieldName
        }
        guard !captured.fields.isEmpty else {
            throw CaptureError(file: file, line: nil, message: "no headers found; copy the request's header block (`Name: value` lines)")
        }
        return captured
    }
}

/// A headers file that cannot be read as a header block.
public struct CaptureError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var message: String

    public var description: String {
        "\(file)\(line.map { ":\($0)" } ?? ""): \(message); the headers file holds only the header block (the body goes in --body)"
    }
}

import Foundation

/// A JSON document for samples: keys kept in the order written, and written compactly or
/// indented, as the sender writes it (signatures are over those exact bytes).
indirect enum SampleJSON: ExpressibleByDictionaryLiteral, ExpressibleByArrayLiteral, ExpressibleByStringLiteral,
    ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral, ExpressibleByNilLiteral
{
    case object([(String, SampleJSON)])
    case array([SampleJSON])
    case string(String)
    case number(Int)
    case bool(Bool)
    case null

    init(dictionaryLiteral elements: (String, SampleJSON)...) { self = .object(elements) }
    init(arrayLiteral elements: SampleJSON...) { self = .array(elements) }
    init(stringLiteral value: String) { self = .string(value) }
    init(integerLiteral value: Int) { self = .number(value) }
    init(booleanLiteral value: Bool) { self = .bool(value) }
    init(nilLiteral: ()) { self = .null }

    /// The document's bytes; `indent` nil writes it on one line without spaces.
    func data(indent: String? = nil) -> Data {
        var text = ""
        write(to: &text, indent: indent, depth: 0)
        return Data(text.utf8)
    }

    private func write(to text: inout String, indent: String?, depth: Int) {
        func newline(_ level: Int) {
            guard let indent else { return }
            text += "\n" + String(repeating: indent, count: level)
        }
        switch self {
        case .object(let members):
            guard !members.isEmpty else { text += "{}"; return }
            text += "{"
            for (index, (key, value)) in members.enumerated() {
                if index > 0 { text += "," }
                newline(depth + 1)
                Self.string(key).write(to: &text, indent: indent, depth: depth + 1)
                text += indent == nil ? ":" : ": "
                value.write(to: &text, indent: indent, depth: depth + 1)
            }
            newline(depth)
            text += "}"
        case .array(let elements):
            guard !elements.isEmpty else { text += "[]"; return }
            text += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { text += "," }
                newline(depth + 1)
                element.write(to: &text, indent: indent, depth: depth + 1)
            }
            newline(depth)
            text += "]"
        case .string(let value):
            text += "\""
            for scalar in value.unicodeScalars {
                switch scalar {
                case "\"": text += "\\\""
                case "\\": text += "\\\\"
                case "\n": text += "\\n"
                case "\r": text += "\\r"
                case "\t": text += "\\t"
                case _ where scalar.value < 0x20: text += String(format: "\\u%04x", scalar.value)
                default: text.unicodeScalars.append(scalar)
                }
            }
            text += "\""
        case .number(let value):
            text += String(value)
        case .bool(let value):
            text += value ? "true" : "false"
        case .null:
            text += "null"
        }
    }
}

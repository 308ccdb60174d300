import Foundation

/// A path into a JSON body, as `$(hook.body.PATH)` writes it: keys joined by dots, array
/// positions in brackets (`pull_request.labels[0].name`). Read at acceptance, so the queue keeps
/// only the values its actions use, never the body.
public struct BodyPath: Hashable, Sendable, CustomStringConvertible {
    enum Step: Hashable {
        case key(String)
        case index(Int)
    }

    let steps: [Step]
    public let description: String

    /// Nil unless `text` is keys (letters, digits, `_`, `-`) separated by dots, each optionally
    /// followed by `[n]` positions.
    public init?(_ text: String) {
        guard text.wholeMatch(of: Self.syntax) != nil else { return nil }
        var steps: [Step] = []
        for part in text.split(separator: ".", omittingEmptySubsequences: false) {
            let key = part.prefix { $0 != "[" }
            steps.append(.key(String(key)))
            for match in part.dropFirst(key.count).matches(of: /\[([0-9]+)\]/) {
                guard let index = Int(match.1) else { return nil }
                steps.append(.index(index))
            }
        }
        self.steps = steps
        description = text
    }

    nonisolated(unsafe) static let syntax = /[A-Za-z0-9_-]+(\[[0-9]+\])*(\.[A-Za-z0-9_-]+(\[[0-9]+\])*)*/

    /// The value at this path in `document` (parsed JSON) as one string: text as it is, numbers and
    /// booleans as JSON writes them, objects and arrays as compact JSON; nil when missing or null.
    public func value(in document: Any) -> String? {
        var current: Any = document
        for step in steps {
            switch step {
            case .key(let key):
                guard let object = current as? [String: Any], let next = object[key] else { return nil }
                current = next
            case .index(let index):
                guard let array = current as? [Any], array.indices.contains(index) else { return nil }
                current = array[index]
            }
        }
        switch current {
        case is NSNull: return nil
        case let text as String: return text
        case let number as NSNumber:
            // JSON's true and false arrive as NSNumbers of type `c` (char); JSON numbers never do.
            if String(cString: number.objCType) == "c" { return number.boolValue ? "true" : "false" }
            return number.stringValue
        default:
            guard JSONSerialization.isValidJSONObject(current),
                  let data = try? JSONSerialization.data(withJSONObject: current, options: [.sortedKeys, .withoutEscapingSlashes])
            else { return nil }
            return String(decoding: data, as: UTF8.self)
        }
    }

    /// The values of `paths` in a JSON `body`; empty when the body is not JSON.
    static func values(_ paths: Set<BodyPath>, in body: Data) -> [String: String] {
        guard !paths.isEmpty, let document = try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]) else { return [:] }
        var values: [String: String] = [:]
        for path in paths {
            if let value = path.value(in: document) { values[path.description] = value }
        }
        return values
    }
}

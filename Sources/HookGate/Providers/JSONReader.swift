import Foundation

/// Reads a JSON document in one pass, building only the values a parser asks for and skipping the
/// rest, though checking its syntax as strictly as `JSONDecoder` does.
///
/// `JSONDecoder` builds a dictionary of every member of every object it decodes: for a GitHub push,
/// the hundred-odd members of `repository`, to read three of them. That was 17% of the CPU time of
/// a queued GitHub webhook. Sources with small payloads keep `Codable`; the large, frequent push
/// payloads are read with this.
struct JSONReader {
    private let bytes: UnsafeRawBufferPointer
    private var index = 0
    private var depth = 0
    /// The keys and indexes from the top to the value being read, for error messages (rendered
    /// only when an error is made).
    private var path: [PathComponent] = []

    private enum PathComponent {
        case key(JSONKey)
        case index(Int)

        var text: String {
            switch self {
            case .key(let key): key.description
            case .index(let index): "[\(index)]"
            }
        }
    }

    /// Deeper nesting than this is refused (as `JSONDecoder` refuses it), so hostile input cannot
    /// exhaust the stack.
    static let maximumDepth = 512

    private init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// Reads `data` with `body`, which must consume exactly one value; only whitespace may follow.
    static func read<T>(_ data: Data, _ body: (inout JSONReader) throws -> T) throws(JSONReadError) -> T {
        do {
            return try data.withUnsafeBytes { raw in
                var reader = JSONReader(raw)
                let value = try body(&reader)
                reader.skipWhitespace()
                guard reader.index == raw.count else { throw reader.invalid() }
                return value
            }
        } catch let error as JSONReadError {
            throw error
        } catch {
            throw JSONReadError(problem: .invalid, path: [])
        }
    }

    // MARK: Values

    /// The members of an object, in order: `member` reads the value of the keys it wants and returns
    /// true, or returns false to have the value skipped.
    mutating func object(_ member: (JSONKey, inout JSONReader) throws -> Bool) throws {
        try object(checkingKeys: true, member)
    }

    /// `checkingKeys`: refuse keys with broken escapes, as `JSONDecoder` does in the objects it
    /// decodes (not in those it passes over).
    private mutating func object(checkingKeys: Bool, _ member: (JSONKey, inout JSONReader) throws -> Bool) throws {
        skipWhitespace()
        guard peek() == UInt8(ascii: "{") else { throw mismatch() }
        try enter()
        index += 1
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return
        }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else { throw invalid() }
            let key = try readKey()
            if checkingKeys && key.escaped && key.decoded() == nil { throw invalid() }
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else { throw invalid() }
            index += 1
            path.append(.key(key))
            if try !member(key, &self) { try skipValue() }
            path.removeLast()
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"):
                index += 1
                depth -= 1
                return
            default: throw invalid()
            }
        }
    }

    /// The elements of an array, each read by `element`.
    mutating func array(_ element: (inout JSONReader) throws -> Void) throws {
        skipWhitespace()
        guard peek() == UInt8(ascii: "[") else { throw mismatch() }
        try enter()
        index += 1
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return
        }
        var count = 0
        while true {
            path.append(.index(count))
            try element(&self)
            path.removeLast()
            count += 1
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"):
                index += 1
                depth -= 1
                return
            default: throw invalid()
            }
        }
    }

    /// A string; null or another type is an error.
    mutating func string() throws -> String {
        skipWhitespace()
        switch peek() {
        case UInt8(ascii: "\""): return try readString()
        case UInt8(ascii: "n"): throw JSONReadError(problem: .null, path: renderedPath)
        default: throw mismatch()
        }
    }

    /// A string, or nil for null.
    mutating func optionalString() throws -> String? {
        try isNull() ? nil : string()
    }

    /// True (and the null consumed) when the next value is null.
    mutating func isNull() throws -> Bool {
        skipWhitespace()
        guard peek() == UInt8(ascii: "n") else { return false }
        try literal("null")
        return true
    }

    /// A value of any type, checked and passed over.
    mutating func skipValue() throws {
        skipWhitespace()
        guard let next = peek() else { throw invalid() }
        switch next {
        case UInt8(ascii: "\""): try skipString()
        case UInt8(ascii: "{"): try object(checkingKeys: false) { _, _ in false }
        case UInt8(ascii: "["): try array { try $0.skipValue() }
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try skipNumber()
        default: throw invalid()
        }
    }

    /// The error for a member that is absent, at the object being read.
    func missing(_ key: String) -> JSONReadError {
        JSONReadError(problem: .missing(key), path: renderedPath)
    }

    private var renderedPath: [String] {
        path.map(\.text)
    }

    // MARK: Scanning

    private func peek() -> UInt8? {
        index < bytes.count ? bytes[index] : nil
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    private mutating func enter() throws {
        depth += 1
        guard depth <= Self.maximumDepth else { throw JSONReadError(problem: .tooDeep, path: renderedPath) }
    }

    private mutating func literal(_ word: StaticString) throws {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw invalid() }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { throw invalid() }
        index += count
    }

    /// A number as JSON writes it: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    private mutating func skipNumber() throws {
        if peek() == UInt8(ascii: "-") { index += 1 }
        guard let first = peek(), isDigit(first) else { throw invalid() }
        index += 1
        if first != UInt8(ascii: "0") { skipDigits() }
        if peek() == UInt8(ascii: ".") {
            index += 1
            guard let digit = peek(), isDigit(digit) else { throw invalid() }
            skipDigits()
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            index += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { index += 1 }
            guard let digit = peek(), isDigit(digit) else { throw invalid() }
            skipDigits()
        }
    }

    private mutating func skipDigits() {
        while let byte = peek(), isDigit(byte) { index += 1 }
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    /// Passes over a string (at its opening quote); returns whether it held escapes. Of the escapes
    /// of a string passed over, only `\u` is checked, as `JSONDecoder` checks only that one.
    @discardableResult
    private mutating func skipString() throws -> Bool {
        // A local index (written back at the end) lets the loop run in registers: this loop is
        // most of the reader's time.
        var at = index + 1
        defer { index = at }
        let count = bytes.count
        var escaped = false
        while at < count {
            let byte = bytes[at]
            if byte == UInt8(ascii: "\"") {
                at += 1
                return escaped
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
                at += 2
                if at <= count, bytes[at - 1] == UInt8(ascii: "u") {
                    index = at
                    _ = try hex4()
                    at = index
                }
            } else if byte < 0x20 {
                throw invalid()
            } else {
                at += 1
            }
        }
        throw invalid()
    }

    private mutating func readKey() throws -> JSONKey {
        let start = index + 1
        let escaped = try skipString()
        return JSONKey(raw: UnsafeRawBufferPointer(rebasing: bytes[start..<index - 1]), escaped: escaped)
    }

    /// A string (at its opening quote), its escapes decoded.
    private mutating func readString() throws -> String {
        let start = index + 1
        guard try skipString() else {
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index - 1]), as: UTF8.self)
        }
        let end = index - 1
        index = start
        var scalars = String.UnicodeScalarView()
        var run = start
        func flush(_ upTo: Int) {
            if run < upTo {
                scalars.append(contentsOf: String(decoding: UnsafeRawBufferPointer(rebasing: bytes[run..<upTo]), as: UTF8.self).unicodeScalars)
            }
        }
        while index < end {
            guard bytes[index] == UInt8(ascii: "\\") else {
                index += 1
                continue
            }
            flush(index)
            index += 1
            let kind = bytes[index]
            index += 1
            switch kind {
            case UInt8(ascii: "b"): scalars.append("\u{08}")
            case UInt8(ascii: "f"): scalars.append("\u{0C}")
            case UInt8(ascii: "n"): scalars.append("\n")
            case UInt8(ascii: "r"): scalars.append("\r")
            case UInt8(ascii: "t"): scalars.append("\t")
            case UInt8(ascii: "u"):
                let unit = try hex4()
                if (0xD800..<0xDC00).contains(unit), index + 6 <= end, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") {
                    let mark = index
                    index += 2
                    let low = try hex4()
                    if (0xDC00..<0xE000).contains(low) {
                        scalars.append(Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)) ?? "\u{FFFD}")
                    } else {
                        scalars.append("\u{FFFD}")
                        index = mark
                    }
                } else {
                    scalars.append(Unicode.Scalar(unit) ?? "\u{FFFD}")
                }
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scalars.append(Unicode.Scalar(kind))
            default: throw invalid()
            }
            run = index
        }
        flush(end)
        index = end + 1
        return String(scalars)
    }

    private mutating func hex4() throws -> UInt32 {
        guard index + 4 <= bytes.count else { throw invalid() }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw invalid()
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    private func invalid() -> JSONReadError {
        JSONReadError(problem: .invalid, path: [])
    }

    private func mismatch() -> JSONReadError {
        peek() == nil ? invalid() : JSONReadError(problem: .wrongType, path: renderedPath)
    }
}

/// An object's key as it appears in the document, compared without building a string.
struct JSONKey: CustomStringConvertible {
    let raw: UnsafeRawBufferPointer
    /// Whether it holds escapes (then it is decoded to be compared).
    let escaped: Bool

    static func == (key: JSONKey, name: StaticString) -> Bool {
        guard !key.escaped else { return key.decoded() == "\(name)" }
        guard key.raw.count == name.utf8CodeUnitCount else { return false }
        for offset in 0..<key.raw.count where key.raw[offset] != name.utf8Start[offset] { return false }
        return true
    }

    /// The key with its escapes decoded; nil when they are broken.
    func decoded() -> String? {
        let text = String(decoding: raw, as: UTF8.self)
        guard escaped else { return text }
        return try? JSONReader.read(Data(("\"" + text + "\"").utf8)) { try $0.string() }
    }

    var description: String {
        decoded() ?? String(decoding: raw, as: UTF8.self)
    }
}

/// Why a document could not be read, and where.
struct JSONReadError: Error {
    enum Problem: Equatable {
        case invalid
        case tooDeep
        case wrongType
        case null
        case missing(String)
    }

    let problem: Problem
    let path: [String]

    /// Where reading stopped, without values from the body (the same words as for `Codable`).
    var summary: String {
        let place = path.isEmpty ? "the top level" : path.reduce("") { $0 + ($1.hasPrefix("[") || $0.isEmpty ? $1 : "." + $1) }
        switch problem {
        case .invalid: return "not valid JSON"
        case .tooDeep: return "nested too deeply at \(place)"
        case .wrongType: return "a value has the wrong type at \(place)"
        case .null: return "a value is null at \(place)"
        case .missing(let key): return "`\(key)` is missing at \(place)"
        }
    }
}

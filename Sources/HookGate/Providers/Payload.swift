import Foundation

/// Decoding helpers shared by providers: JSON bodies and the `payload=` form encoding.
enum Payload {
    /// Decodes `data` as `type`; a failure is a 400 that names the event, never echoing the body.
    static func decode<T: Decodable>(_ type: T.Type, from data: Data, event: String) throws(HookFailure) -> T {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw .badRequest("cannot parse the \(event) payload", reason: "the \(event) payload is not the JSON expected: \(summary(of: error))")
        }
    }

    /// The `payload` field of an `application/x-www-form-urlencoded` body, decoded.
    static func formPayload(_ body: Data) throws(HookFailure) -> Data {
        let text = String(decoding: body, as: UTF8.self)
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0] == "payload" else { continue }
            let plus = parts[1].replacingOccurrences(of: "+", with: " ")
            guard let decoded = plus.removingPercentEncoding else {
                throw .badRequest("cannot parse the form body", reason: "the form field `payload` is not valid percent-encoding")
            }
            return Data(decoded.utf8)
        }
        throw .badRequest("form body without a payload field", reason: "an application/x-www-form-urlencoded body must carry the JSON in `payload=`")
    }

    /// Where decoding stopped, without values from the body.
    private static func summary(of error: any Error) -> String {
        guard let error = error as? DecodingError else { return "not valid JSON" }
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return keys.isEmpty ? "the top level" : String(keys.dropFirst(keys.hasPrefix(".") ? 1 : 0))
        }
        switch error {
        case .keyNotFound(let key, let context): return "`\(key.stringValue)` is missing at \(path(context))"
        case .valueNotFound(_, let context): return "a value is null at \(path(context))"
        case .typeMismatch(_, let context): return "a value has the wrong type at \(path(context))"
        case .dataCorrupted(let context): return context.codingPath.isEmpty ? "not valid JSON" : "bad value at \(path(context))"
        @unknown default: return "not valid JSON"
        }
    }
}

import Foundation

/// Base64 as senders and users write it: standard or URL-safe alphabet, padding optional.
enum Base64Text {
    /// The bytes `text` encodes; nil when it is not base64 (or is empty).
    static func decode(_ text: some StringProtocol) -> [UInt8]? {
        var normalized = String(text).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        guard !normalized.isEmpty, normalized.count % 4 != 1 else { return nil }
        if !normalized.hasSuffix("=") {
            normalized += String(repeating: "=", count: (4 - normalized.count % 4) % 4)
        }
        guard let data = Data(base64Encoded: normalized), !data.isEmpty else { return nil }
        return Array(data)
    }
}

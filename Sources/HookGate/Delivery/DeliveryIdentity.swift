import Crypto
import Foundation

/// The id every accepted delivery carries (docs/delivery.md#delivery-ids): the sender's, or a
/// fresh random one when the sender gives none. It is stored with the queue row, and the names of
/// objects created for the delivery derive from it alone, so they are the same on every retry.
enum DeliveryIdentity {
    /// The longest sender id kept as it is; longer ones are replaced by their hash, so a header
    /// cannot make queue rows or duplicate keys large.
    static let maximumLength = 200

    /// The sender's id as hookgate keeps it; nil for none or an empty one.
    static func senderID(_ id: String?) -> String? {
        guard let id, !id.isEmpty else { return nil }
        guard id.utf8.count > maximumLength else { return id }
        return "sha256-" + SHA256.hash(data: Data(id.utf8)).hexString
    }

    /// A new random id for a delivery whose sender gave none.
    static func fresh() -> String {
        "hookgate-" + UUID().uuidString.lowercased()
    }
}

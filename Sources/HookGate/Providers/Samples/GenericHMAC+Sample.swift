import Foundation
import HTTPTypes

extension GenericHMAC {
    /// A small JSON body signed in the endpoint's `signature:` format (`X-Signature: sha256=<hex>`
    /// unless configured otherwise).
    static func sample(_ options: SampleWebhook.Options, for endpoint: Endpoint) throws(SampleWebhook.Problem) -> SampleWebhook {
        let event = try options.event(among: ["push"], source: endpoint.source)
        let format = endpoint.settings(GenericHMACSettings.self)?.format ?? SignatureFormat()
        let body: SampleJSON = ["event": .string(event), "repository": .string(options.gitRepository().full), "id": .string(options.deliveryID)]
        let data = body.data()
        let algorithm = format.algorithm?.hmac ?? .sha256
        let mac = [UInt8](hex: SampleWebhook.hmacHex(data, key: endpoint.key, algorithm: algorithm)) ?? []
        let digest = format.encoding == .hex ? mac.hexString : Data(mac).base64EncodedString()
        // Without a configured algorithm, the prefix names it (`sha256=`).
        let value = (format.algorithm == nil ? algorithm.rawValue + "=" : format.prefix) + digest
        let headers: HTTPFields = [.contentType: "application/json", .userAgent: SampleWebhook.userAgent, format.header: value]
        return SampleWebhook(headers: headers, body: data, summary: "GenericHMAC \(event) (a trigger), signed in \(format.header.rawName)")
    }
}

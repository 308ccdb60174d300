import Foundation
import Testing

@testable import HookGate

/// Signature headers and the keyed HMACs prepared once per endpoint key.
@Suite struct HMACSignatureTests {
    /// RFC 4231, test case 2.
    static let jefeMAC = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    static let jefeData = Data("what do ya want for nothing?".utf8)

    @Test func preparedKeysMatchThePublishedVector() throws {
        let signature = try #require(HMACSignature(prefixed: "sha256=" + Self.jefeMAC))
        #expect(signature.isValid(for: Self.jefeData, key: EndpointKey("Jefe")))
        #expect(!signature.isValid(for: Self.jefeData, key: EndpointKey("Jeff")))
        #expect(!signature.isValid(for: Self.jefeData + Data(" ".utf8), key: EndpointKey("Jefe")))
        // A key file ending in a newline also verifies signatures made with the bare secret.
        #expect(signature.isValid(for: Self.jefeData, key: EndpointKey("Jefe\n")))
        #expect(signature.isValid(for: Self.jefeData, key: EndpointKey(files: [Array("old".utf8), Array("Jefe".utf8)])))
        // The same answers as keying HMAC anew for every request.
        let key = EndpointKey("Jefe\n")
        #expect(signature.isValid(for: Self.jefeData, keys: key.candidates))
    }

    @Test func preparedKeysCanBeUsedAgainAndAgain() throws {
        let key = EndpointKey("Jefe")
        let signature = try #require(HMACSignature(prefixed: "sha256=" + Self.jefeMAC))
        for _ in 0..<3 { #expect(signature.isValid(for: Self.jefeData, key: key)) }
    }

    static let forms: [(String, Bool)] = {
        let mac: String = jefeMAC
        var forms: [(String, Bool)] = [("sha256=" + mac, true), ("SHA256=" + mac, true), ("sha256=" + mac.uppercased(), true)]
        forms.append(("sha256=" + String(mac.dropLast()), false))
        forms.append(("sha256=" + String(mac.dropLast(2)), false))
        forms.append(("sha256=" + mac + "00", false))
        forms.append(("sha256=" + String(mac.dropLast()) + "g", false))
        forms.append(("sha256=é" + String(mac.dropFirst(2)), false))
        forms += [("sha256", false), ("=" + mac, false), ("md5=" + mac, false), ("sha256=", false), ("", false)]
        return forms
    }()

    @Test(arguments: forms)
    func headerForms(header: String, accepted: Bool) {
        #expect((HMACSignature(prefixed: header) != nil) == accepted, "\(header)")
    }

    @Test func refusalsStillSayWhatArrived() {
        #expect(throws: HookFailure.self) { try HMACSignature.parse(prefixed: "sha1=" + String(repeating: "a", count: 40), header: "X", accepting: [.sha256]) }
        do {
            _ = try HMACSignature.parse(prefixed: "sha1=" + String(repeating: "a", count: 40), header: "X-Hub-Signature-256", accepting: [.sha256])
        } catch {
            #expect("\(error)".contains("X-Hub-Signature-256 names sha1"))
        }
    }
}

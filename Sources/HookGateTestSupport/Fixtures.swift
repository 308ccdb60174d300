import Foundation

/// The real payloads under `Tests/HookGateTests/Fixtures` (copied from the providers' docs and
/// public projects; the `*.sig.txt` beside each says where from and how it was signed).
public enum Fixtures {
    /// The package's root folder.
    public static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    public static let directory = packageRoot + "/Tests/HookGateTests/Fixtures"

    public static func path(_ name: String) -> String { directory + "/" + name }

    public static func data(_ name: String) -> Data {
        guard let data = FileManager.default.contents(atPath: path(name)) else { fatalError("missing fixture \(name)") }
        return data
    }

    /// GitHub's push of tag `simple-tag`, as a push of the tag to a commit rather than its deletion
    /// (`github-push-tag-deleted.json` with `after` set, `deleted` false): what tests about
    /// admission and delivery send, since deleted refs are acted on only when a rule asks.
    public static let tagPush: Data = Data(
        String(decoding: data("github-push-tag-deleted.json"), as: UTF8.self)
            .replacingOccurrences(of: #""after": "0000000000000000000000000000000000000000""#, with: #""after": "6113728f27ae82c7b1a177c8d03f9e96e0adf246""#)
            .replacingOccurrences(of: #""deleted": true"#, with: #""deleted": false"#).utf8)

    /// A fresh empty folder under the system temporary folder.
    public static func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "hookgate-test-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A copy of `examples/NAME` with a fresh random key at each of `keys` (paths inside it): the
    /// examples commit no keys, as an operator's copy must not.
    public static func example(_ name: String, keys: [String]) throws -> String {
        let folder = temporaryDirectory() + "/" + name
        try FileManager.default.copyItem(atPath: packageRoot + "/examples/" + name, toPath: folder)
        for key in keys {
            let hex = (0..<24).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
            try hex.write(toFile: folder + "/" + key, atomically: true, encoding: .utf8)
        }
        return folder
    }
}

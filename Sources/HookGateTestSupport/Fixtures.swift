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

    /// A fresh empty folder under the system temporary folder.
    public static func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "hookgate-test-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

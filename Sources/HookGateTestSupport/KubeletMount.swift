import Foundation

/// A folder laid out the way the kubelet mounts a Secret or ConfigMap, updated the way it updates
/// one: each version in its own `..<timestamp>` folder, `..data` a symlink to the current one,
/// every file a symlink through `..data`, and an update an atomic rename of a new `..data` link.
public final class KubeletMount: @unchecked Sendable {
    public let path: String
    private var version = 0

    /// Makes the mount in a new temporary folder with `files` (name → content).
    public init(files: [String: String]) throws {
        path = Fixtures.temporaryDirectory()
        try update(files)
        for name in files.keys {
            try FileManager.default.createSymbolicLink(atPath: path + "/" + name, withDestinationPath: "..data/" + name)
        }
    }

    /// The full path of `name` inside the mount.
    public func file(_ name: String) -> String { path + "/" + name }

    /// Swaps in a new version holding `files`; names new since the start get their symlink too.
    public func update(_ files: [String: String]) throws {
        let manager = FileManager.default
        version += 1
        let folder = "..2026_11_22_00_00_\(String(format: "%02d", version)).\(UUID().uuidString.prefix(8))"
        try manager.createDirectory(atPath: path + "/" + folder, withIntermediateDirectories: false)
        for (name, content) in files {
            try Data(content.utf8).write(to: URL(fileURLWithPath: path + "/" + folder + "/" + name))
        }
        let previous = try? manager.destinationOfSymbolicLink(atPath: path + "/..data")
        try manager.createSymbolicLink(atPath: path + "/..data_tmp", withDestinationPath: folder)
        guard rename(path + "/..data_tmp", path + "/..data") == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path + "/..data"])
        }
        if let previous { try manager.removeItem(atPath: path + "/" + previous) }
        for name in files.keys where (try? manager.destinationOfSymbolicLink(atPath: path + "/" + name)) == nil && version > 1 {
            try manager.createSymbolicLink(atPath: path + "/" + name, withDestinationPath: "..data/" + name)
        }
    }
}

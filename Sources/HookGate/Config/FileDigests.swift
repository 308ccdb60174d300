import Crypto
import Foundation

/// The content of a set of files at one moment, as hashes: what a reload compares to notice a
/// change. Reading the content (following symlinks) rather than watching inodes or modification
/// times catches every way a file changes, including the kubelet's `..data` symlink swap.
public struct FileDigests: Sendable, Equatable {
    /// SHA-256 of each file's bytes; nil when it cannot be read (missing, no permission).
    private var digests: [String: SHA256Digest?]

    /// Reads every file in `paths` now, except those `known` already has a digest of: those keep
    /// the digest `known` took (so a change made since then is still seen as one).
    public init(paths: some Sequence<String>, known: FileDigests? = nil) {
        var digests: [String: SHA256Digest?] = [:]
        for path in paths where digests[path] == nil {
            if let earlier = known?.digests[path] {
                digests[path] = earlier
            } else {
                digests[path] = FileManager.default.contents(atPath: path).map { SHA256.hash(data: $0) }
            }
        }
        self.digests = digests
    }

    /// The files whose content differs from `other` (or that only one of the two lists).
    public func changed(since other: FileDigests) -> [String] {
        Set(digests.keys).union(other.digests.keys).filter { digests[$0] != other.digests[$0] }.sorted()
    }
}

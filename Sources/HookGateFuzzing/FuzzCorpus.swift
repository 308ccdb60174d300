import Foundation

/// The inputs kept in the repository (`Tests/HookGateTests/Fixtures/fuzz`): the seeds made from the
/// fixtures by `seeds.txt`, the hand-written seeds in `seeds/`, and the inputs that once crashed or
/// broke an invariant, in `regressions/`. scripts/fuzz writes the same seeds (in shell) into its corpus.
public enum FuzzCorpus {
    /// One input and where it came from (`seeds.txt:12`, `regressions/NAME`).
    public struct Entry: Sendable, CustomStringConvertible {
        public var name: String
        public var bytes: Data
        public var description: String { name }
    }

    /// Every kept input, in a stable order. `fuzzFolder` is `Tests/HookGateTests/Fixtures/fuzz`;
    /// `repository` is the root that `./` paths in `seeds.txt` are relative to.
    public static func entries(fuzzFolder: URL, repository: URL) throws -> [Entry] {
        try seeds(manifest: fuzzFolder.appendingPathComponent("seeds.txt"), repository: repository)
            + files(in: fuzzFolder.appendingPathComponent("seeds"), named: "seeds/")
            + files(in: fuzzFolder.appendingPathComponent("regressions"), named: "regressions/")
    }

    /// The inputs `seeds.txt` describes: `FILE | TARGET | HEADER ; HEADER …` per line.
    static func seeds(manifest: URL, repository: URL) throws -> [Entry] {
        let fixtures = manifest.deletingLastPathComponent().deletingLastPathComponent()
        var entries: [Entry] = []
        for (index, line) in try String(contentsOf: manifest, encoding: .utf8).split(separator: "\n").enumerated() {
            guard !line.hasPrefix("#"), !line.allSatisfy(\.isWhitespace) else { continue }
            let fields = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == 3 else { throw ManifestError(line: index + 1, message: "expected `FILE | TARGET | HEADERS`") }
            let url = fields[0].hasPrefix("./")
                ? repository.appendingPathComponent(String(fields[0].dropFirst(2)))
                : fixtures.appendingPathComponent(fields[0])
            let headers = fields[2].split(separator: ";").compactMap { header -> (String, String)? in
                guard let colon = header.firstIndex(of: ":") else { return nil }
                return (header[..<colon].trimmingCharacters(in: .whitespaces), header[header.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            }
            let body = try Data(contentsOf: url)
            entries.append(Entry(name: "seeds.txt:\(index + 1) (\(fields[0]))", bytes: FuzzInput.frame(fields[1], headers: headers, body: body)))
        }
        return entries
    }

    static func files(in folder: URL, named prefix: String) throws -> [Entry] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return try names.filter { !$0.hasPrefix(".") }.sorted().map { name in
            Entry(name: prefix + name, bytes: try Data(contentsOf: folder.appendingPathComponent(name)))
        }
    }

    struct ManifestError: Error, CustomStringConvertible {
        var line: Int
        var message: String
        var description: String { "seeds.txt:\(line): \(message)" }
    }
}

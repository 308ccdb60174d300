import Foundation
import HookGate

/// Loads `yaml` as a config file in a fresh folder, beside `files` (key files, templates).
public func loadConfig(_ yaml: String, files: [String: String] = [:]) throws(ConfigError) -> Config {
    let folder = Fixtures.temporaryDirectory()
    for (name, content) in files {
        _ = FileManager.default.createFile(atPath: folder + "/" + name, contents: Data(content.utf8))
    }
    let path = folder + "/config.yaml"
    _ = FileManager.default.createFile(atPath: path, contents: Data(yaml.utf8))
    return try ConfigLoader.load(path: path)
}

public func problems(_ yaml: String, files: [String: String] = [:]) -> [ConfigProblem] {
    do {
        _ = try loadConfig(yaml, files: files)
        return []
    } catch {
        return error.problems
    }
}

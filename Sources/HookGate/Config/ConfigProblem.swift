/// One thing wrong (or worth a warning) in a configuration: where it is and how to fix it.
public struct ConfigProblem: Error, Sendable, Equatable, CustomStringConvertible {
    /// The config file (or key file) the problem is in.
    public var file: String
    /// 1-based line in `file`, when known.
    public var line: Int?
    /// What is wrong, in one sentence.
    public var message: String
    /// What to do about it.
    public var fix: String?

    public init(file: String, line: Int?, message: String, fix: String? = nil) {
        self.file = file
        self.line = line
        self.message = message
        self.fix = fix
    }

    /// `file:line: message (fix: …)`, the form editors and CI logs link to.
    public var description: String {
        var text = file
        if let line { text += ":\(line)" }
        text += ": " + message
        if let fix { text += "; " + fix }
        return text
    }
}

/// Every problem found in a configuration, reported together.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public var problems: [ConfigProblem]
    /// The files the refused config named (itself, keys, templates), so a reload can retry when
    /// one of them changes, including one that does not exist yet.
    public var files: [String]

    public init(problems: [ConfigProblem], files: [String] = []) {
        self.problems = problems
        self.files = files
    }

    public var description: String {
        problems.map(\.description).joined(separator: "\n")
    }
}

import Foundation

/// The built `hookgate` binary, run as a user runs it.
public final class HookGateProcess: @unchecked Sendable {
    /// The binary: `$HOOKGATE_BIN`, or `hookgate` beside the test bundle in the build folder.
    public static let binary: String = {
        if let path = ProcessInfo.processInfo.environment["HOOKGATE_BIN"] { return path }
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while url.path != "/" {
            url.deleteLastPathComponent()
            let candidate = url.appendingPathComponent("hookgate").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return Fixtures.packageRoot + "/.build/debug/hookgate"
    }()

    /// The result of a command that ran to its end.
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Runs `hookgate arguments…` to completion on a thread of its own, so that waiting for it
    /// does not hold one of the few threads async tests share (the command may call a server
    /// this test process runs).
    public static func runInBackground(_ arguments: [String], currentDirectory: String? = nil) async -> Result {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: run(arguments, currentDirectory: currentDirectory)) }
        }
    }

    /// Runs `hookgate arguments…` to completion.
    public static func run(_ arguments: [String], currentDirectory: String? = nil) -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        let stdout = Pipe(), stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        do { try process.run() } catch { fatalError("cannot start \(binary): \(error); build it first (swift build)") }
        let group = DispatchGroup()
        nonisolated(unsafe) var out = Data(), err = Data()
        group.enter()
        DispatchQueue.global().async { out = stdout.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        err = stderr.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self))
    }

    private let process: Process
    private let output = OutputCollector()
    /// The port the server bound (parsed from its "listening on" log line).
    public private(set) var port = 0

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    private init(serve arguments: [String], unsetting: [String]) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        for name in unsetting { environment[name] = nil }
        process.environment = environment
        let stdout = Pipe(), stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        let collector = output
        // At end of file the handler is called again and again with no data: unset it then, or it spins.
        stdout.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty { handle.readabilityHandler = nil } else { collector.appendOut(data) }
        }
        stderr.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty { handle.readabilityHandler = nil } else { collector.appendErr(data) }
        }
        try process.run()
    }

    /// Starts `hookgate` with `arguments` (add `--listen 127.0.0.1:0`) and waits, without
    /// blocking a thread, until it listens.
    /// - Parameter unsetting: environment variables the process must not inherit.
    public static func start(serve arguments: [String], unsetting: [String] = []) async throws -> HookGateProcess {
        let server = try HookGateProcess(serve: arguments, unsetting: unsetting)
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let match = server.output.stderr.firstMatch(of: /listening on [^\s",]*:(\d+)/) {
                server.port = Int(match.1)!
                return server
            }
            if !server.process.isRunning { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        server.stop()
        throw StartError(log: server.output.stderr)
    }

    public struct StartError: Error, CustomStringConvertible {
        public var log: String
        public var description: String { "hookgate did not start listening:\n\(log)" }
    }

    /// What the process wrote so far.
    public var stdout: String { output.stdout }
    public var stderr: String { output.stderr }

    /// Waits until standard output holds `count` lines.
    public func waitForStdoutLines(_ count: Int, timeout: Duration = .seconds(10)) async -> [String] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let lines = stdout.split(separator: "\n").map(String.init)
            if lines.count >= count { return lines }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return stdout.split(separator: "\n").map(String.init)
    }

    /// Sends SIGTERM and waits for the exit; returns the exit status.
    @discardableResult
    public func terminate() async -> Int32 {
        if process.isRunning { process.terminate() }
        return await waitForExit()
    }

    /// Sends SIGTERM without waiting (for `defer`).
    public func stop() {
        if process.isRunning { process.terminate() }
    }

    /// Sends a signal without waiting.
    public func signal(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    public var isRunning: Bool { process.isRunning }

    /// The process's peak resident memory so far (`VmHWM` in /proc), in KiB.
    public var peakResidentKiB: Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return nil }
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
    }

    /// Waits for the process to end, without blocking a thread (the process may need this one's
    /// servers to finish, as when it drains deliveries to a recording server).
    public func waitForExit() async -> Int32 {
        while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { process.terminate() }
    }
}

final class OutputCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var out = Data()
    private var err = Data()

    func appendOut(_ data: Data) { lock.lock(); out.append(data); lock.unlock() }
    func appendErr(_ data: Data) { lock.lock(); err.append(data); lock.unlock() }
    var stdout: String { lock.lock(); defer { lock.unlock() }; return String(decoding: out, as: UTF8.self) }
    var stderr: String { lock.lock(); defer { lock.unlock() }; return String(decoding: err, as: UTF8.self) }
}

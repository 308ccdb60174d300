import Foundation

/// Signatures and tokens computed by an independent implementation: CPython's `hmac`, `hashlib`
/// and (for JWTs) `cryptography`, run as a child process.
public enum Python {
    /// Hex HMAC of `body` with `key`; `algorithm` is a hashlib name (`sha1`, `sha256`, `sha512`).
    public static func hmacHex(key: String, body: Data, algorithm: String = "sha256") -> String {
        run("""
            import hmac, hashlib, sys
            sys.stdout.write(hmac.new(sys.argv[1].encode(), sys.stdin.buffer.read(), hashlib.\(algorithm)).hexdigest())
            """, arguments: [key], input: body)
    }

    /// ``hmacHex(key:body:algorithm:)`` on a thread of its own (for servers a test runs).
    public static func hmacHexInBackground(key: String, body: Data, algorithm: String = "sha256") async -> String {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: hmacHex(key: key, body: body, algorithm: algorithm)) }
        }
    }

    /// Lowercase hex SHA-256 of `data`.
    public static func sha256Hex(_ data: Data) -> String {
        run("import hashlib, sys; sys.stdout.write(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())", input: data)
    }

    /// Runs a long Python program on a thread of its own, so that waiting for it does not hold one
    /// of the few threads async tests share (a held lock, a slow client).
    public static func runInBackground(_ program: String, arguments: [String] = []) async -> String {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: run(program, arguments: arguments)) }
        }
    }

    /// Runs a Python program and returns its standard output; a failure stops the test run loudly.
    public static func run(_ program: String, arguments: [String] = [], input: Data = Data()) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", program] + arguments
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        do { try process.run() } catch { fatalError("cannot run python3: \(error)") }
        stdin.fileHandleForWriting.write(input)
        try? stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            fatalError("python3 failed: \(String(decoding: errors, as: UTF8.self))")
        }
        return String(decoding: output, as: UTF8.self)
    }
}

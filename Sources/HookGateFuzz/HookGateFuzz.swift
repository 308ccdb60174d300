import Foundation
import HookGateFuzzing

#if FUZZING
import CLibFuzzer
#endif

// Built by scripts/fuzz with `-DFUZZING -sanitize=fuzzer`, this target runs libFuzzer over the
// harness. Built normally, it replays input files through the harness instead.

/// The harness, made once per process (it writes the config inputs' key files).
let harness: FuzzHarness = {
    do {
        return try FuzzHarness()
    } catch {
        fatalError("hookgate-fuzz: cannot write the harness's key files: \(error)")
    }
}()

#if FUZZING

/// libFuzzer's callback: one input per call. A broken invariant aborts, so libFuzzer keeps the input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = start.map { Data(bytes: $0, count: count) } ?? Data()
    let problems = harness.runBlocking(bytes).problems
    if !problems.isEmpty { fatalError("hookgate-fuzz: " + problems.joined(separator: "; ")) }
    return 0
}

/// Hands the process to libFuzzer's driver.
///
/// The target keeps its own `main` rather than letting libFuzzer's `main` in (the usual
/// `-parse-as-library` route): SwiftPM links every executable with `--defsym main=HookGateFuzz_main`,
/// which fails when the module defines no entry point.
@main
struct HookGateFuzz {
    static func main() {
        var argc = CommandLine.argc
        var argv = Optional(CommandLine.unsafeArgv)
        exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzTestOneInput))
    }
}

#else

/// `HookGateFuzz FILE|DIR…`: runs every input file (a folder: every file in it) through the harness
/// without libFuzzer, as the fuzz binary would, and exits 1 when an invariant breaks. A crash
/// crashes here too, with a Swift backtrace.
@main
struct HookGateFuzz {
    static func main() async {
        let arguments = CommandLine.arguments.dropFirst()
        guard !arguments.isEmpty, !arguments.contains("-h"), !arguments.contains("--help") else {
            print("usage: HookGateFuzz FILE|DIR…  (replays fuzz inputs through the harness; see docs/fuzzing.md)")
            exit(arguments.isEmpty ? 2 : 0)
        }
        var failed = 0, count = 0
        for url in arguments.flatMap(inputs(at:)) {
            count += 1
            guard let bytes = FileManager.default.contents(atPath: url.path) else {
                print("\(url.path): cannot read")
                failed += 1
                continue
            }
            let problems = await harness.run(bytes).problems
            for problem in problems { print("\(url.path): \(problem)") }
            if !problems.isEmpty { failed += 1 }
        }
        print("replayed \(count) input\(count == 1 ? "" : "s"), \(failed) failed")
        exit(failed == 0 ? 0 : 1)
    }

    /// The file itself, or every regular file under a folder, sorted, but hidden ones (`.gitkeep`).
    static func inputs(at path: String) -> [URL] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue else {
            return [URL(fileURLWithPath: path)]
        }
        let files = FileManager.default.enumerator(atPath: path)?.compactMap { $0 as? String } ?? []
        let visible = files.filter { !$0.split(separator: "/").contains { $0.hasPrefix(".") } }
        return visible.sorted().map { URL(fileURLWithPath: path).appendingPathComponent($0) }.filter { url in
            var isFolder: ObjCBool = false
            return FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) && !isFolder.boolValue
        }
    }
}

#endif

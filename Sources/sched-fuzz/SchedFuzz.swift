#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation

// sched-fuzz: the fuzz target over the line framing, every message parser and the job-spec
// parser (docs/operations.md, "Fuzzing"). Built by Deploy/fuzz.sh with `-sanitize=fuzzer` and
// `-D SCHED_FUZZING`, it is libFuzzer's `LLVMFuzzerTestOneInput`; in a normal build it replays
// files through the same checks (`sched-fuzz [--target lines|specs] FILE|DIR...`).

/// Which parser an input goes to: `lines` (a peer's byte stream) or `specs` (a job-spec file).
enum FuzzTarget: String {
    case lines, specs

    /// Runs one input; a failed check stops the process (`fatalError`), which the fuzzer reports.
    func run(_ bytes: [UInt8]) {
        switch self {
        case .lines: FuzzLines.run(bytes)
        case .specs: FuzzSpecs.run(bytes)
        }
    }
}

/// Stops the process with what went wrong and the input's text, for the fuzzer to record.
func fuzzFailure(_ what: String, _ detail: String) -> Never {
    fatalError("sched-fuzz: \(what)\n\(detail)")
}

#if SCHED_FUZZING
/// The target, from `SCHED_FUZZ_TARGET` (default `lines`), read once.
let fuzzTarget: FuzzTarget = {
    let name = getenv("SCHED_FUZZ_TARGET").map { String(cString: $0) } ?? "lines"
    guard let t = FuzzTarget(rawValue: name) else { fatalError("SCHED_FUZZ_TARGET must be lines or specs, got \(name)") }
    return t
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzTarget.run(size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
#else
/// Replays files (a corpus, a crash) through the checks without libFuzzer.
@main
enum SchedFuzzReplay {
    static func main() {
        var args = Array(CommandLine.arguments.dropFirst())
        var target = FuzzTarget.lines
        if args.first == "--target", args.count > 1, let t = FuzzTarget(rawValue: args[1]) {
            target = t
            args.removeFirst(2)
        }
        guard !args.isEmpty, !args[0].hasPrefix("-") else {
            print("usage: sched-fuzz [--target lines|specs] FILE|DIR...   (fuzzing itself: Deploy/fuzz.sh)")
            exit(2)
        }
        var count = 0
        for path in args {
            for file in files(at: path) {
                guard let data = FileManager.default.contents(atPath: file) else { fatalError("cannot read \(file)") }
                target.run(Array(data))
                count += 1
            }
        }
        print("sched-fuzz: \(count) inputs, all checks passed (\(target.rawValue))")
    }

    /// The regular files of a directory (sorted, not recursive, README.md skipped), or the file itself.
    static func files(at path: String) -> [String] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else { return [path] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.filter { $0 != "README.md" && !$0.hasPrefix(".") }.sorted().map { path + "/" + $0 }
    }
}
#endif

import Testing
import SchedCore
@testable import SchedProtocol

/// Inputs that made the fuzz target (`Sources/sched-fuzz`, `Deploy/fuzz.sh`) fail once, each
/// also a `regression-` seed in Tests/FuzzCorpus/lines. docs/benchmarks.md, "Fuzzing", tells how
/// each was found and fixed.
@Suite("Fuzz regressions")
struct FuzzRegressionTests {
    /// 4 KiB of overlapping widest CPU ranges: `CPUSet(listFormat:)` filled them one member at a
    /// time: 40 s for this line in the fuzz target, and about 8 CPU-minutes in a release build for
    /// a 1 MiB line, which any peer may send before HELLO. Now the ranges are merged and filled a
    /// word at a time (93 ms here, 1.8 s for the 1 MiB line, both in the instrumented fuzz build).
    static let wideRanges = "TASK_STARTED {\"binding\":{\"cpus\":\"" + Array(repeating: "0-1048575", count: 400).joined(separator: ",")
        + "\",\"numaNodes\":\"0\"},\"pid\":1,\"ref\":{\"job\":1,\"task\":0},\"stderrPath\":\"e\",\"stdoutPath\":\"o\"}"

    @Test("overlapping wide CPU ranges decode, quickly, to their union")
    func wideCPURanges() throws {
        let clock = ContinuousClock()
        let start = clock.now
        let fast = try LineCodec.decode(Self.wideRanges[...])
        let codable = try LineCodec.decode(Self.wideRanges[...], scanner: false)
        // Member by member this took minutes in a debug build; merged, milliseconds.
        #expect(clock.now - start < .seconds(5))
        guard case .taskStarted(let t) = fast else { Issue.record("decoded \(fast)"); return }
        #expect(t.binding.cpus.count == 1 << 20)
        #expect(t.binding.cpus.description == "0-1048575")
        #expect(codable == fast)
    }
}

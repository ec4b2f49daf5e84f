import SchedCtlKit
import SchedProtocol

/// One input as a job-spec file for `schedctl submit` (YAML, of which JSON is a subset): read as
/// schedctl reads it; a spec it accepts must have no problems and survive the wire (`SUBMIT`).
enum FuzzSpecs {
    static func run(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        let spec: JobSpec
        do { spec = try JobSpecParser.parse(yaml: text, source: "fuzz.yaml") } catch {
            _ = error.description  // the message schedctl prints, built from the input
            return
        }
        if let problem = spec.problems().first {
            fuzzFailure("the parser accepted a spec with a problem: \(problem.field): \(problem.message)", text)
        }
        FuzzLines.roundTrip(.submit(Submit(spec: spec)), from: text)
    }
}

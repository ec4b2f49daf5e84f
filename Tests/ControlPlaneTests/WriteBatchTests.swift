import SchedCore
import SchedProtocol
@testable import SchedControlPlane
import Testing
import SchedTestSupport

/// A group commit that failed is put back in front of the writes made while it was in flight.
@Suite("WriteBatch: a failed commit merged with the writes made meanwhile")
struct WriteBatchTests {
    func record(_ job: Int64) -> PlacementRecord {
        PlacementRecord(time: "t", job: JobID(job), jobName: "j", request: ResourceRequest(cpus: 1),
                        decision: .unplaceable(PlacementExplanation(policy: "best-fit", nodesEvaluated: 0, nodesFeasible: 0,
                                                                    rejections: [], topCandidates: [])))
    }

    @Test func failedBatchGoesFirstAndNewerJobVersionsWin() {
        var failed = WriteBatch()
        var old = JobInfo(id: JobID(1), spec: spec("a"), state: .pending, submittedAtMs: 0)
        failed.jobs[old.id] = old
        failed.jobs[JobID(2)] = JobInfo(id: JobID(2), spec: spec("b"), state: .pending, submittedAtMs: 0)
        failed.placements = [record(1)]
        failed.placementWallMs = [1]
        failed.outbox = [.line("n1", link: 1, .ping)]
        var later = WriteBatch()
        old.state = .starting
        later.jobs[old.id] = old
        later.placements = [record(3)]
        later.placementWallMs = [3]
        later.outbox = [.line("n1", link: 1, .pong)]

        let merged = failed.followed(by: later)
        #expect(merged.jobs[JobID(1)]?.state == .starting)
        #expect(merged.jobs[JobID(2)]?.state == .pending)
        #expect(merged.placements.map(\.job) == [JobID(1), JobID(3)])
        #expect(merged.outbox.map { if case .line(_, _, let m) = $0 { m.verb } else { "" } } == ["PING", "PONG"])
        #expect(merged.writeCount == 4)
        #expect(merged.placementWallMs.count == merged.placements.count)
    }
}

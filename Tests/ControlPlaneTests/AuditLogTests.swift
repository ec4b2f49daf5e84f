import SchedControlPlane
import SchedCore
import SchedProtocol
import SchedTestSupport
import Testing

@Suite("ControlPlane: the audit log")
struct AuditLogTests {
    @Test("every change is recorded with the token, tenant, role and outcome, in the batch that stores it; refusals too; reads are not")
    func changesAreAudited() {
        var d = PlaneDriver()
        let alice = Principal(tokenID: "t-alice", tenant: "team-a", role: .submitter, user: "alice")
        let viewer = Principal(tokenID: "t-view", tenant: "team-a", role: .viewer)
        let start = d.mark
        let (_, ids, _) = d.submit(spec("a", cpus: 1), as: alice)
        _ = d.request(.submit([spec("b", cpus: 1)], placeAtOnce: true), as: viewer)
        _ = d.request(.cancel(ids[0], stored: nil), as: alice)
        _ = d.request(.drain("nope", reason: nil), as: alice)
        _ = d.read(.listJobs(ListJobs(), storedFinished: nil), as: alice)
        _ = d.settle(store: .works)
        let audit = d.commits(since: start).flatMap(\.audit)
        #expect(audit.map { "\($0.tokenID) \($0.tenant ?? "-") \($0.role.rawValue) \($0.verb) \($0.object) \($0.outcome)" } == [
            "t-alice team-a submitter SUBMIT job \(ids[0]) ok",
            "t-view team-a viewer SUBMIT 1 jobs forbidden",
            "t-alice team-a submitter CANCEL job \(ids[0]) ok",
            "t-alice team-a submitter DRAIN node nope forbidden",
        ])
        #expect(audit.allSatisfy { $0.timeMs == d.now.wallMs })
    }
}

import SchedControlPlane
import SchedCore
import SchedProtocol
import SchedTestSupport
import Testing

@Suite("ControlPlane: admission limits")
struct AdmissionLimitsTests {
    static func driver() -> PlaneDriver {
        var c = PlaneDriver.config
        c.limits.maxJobsPerRequest = 10
        c.limits.maxPendingPerTenant = 12
        c.limits.submitsPerSecond = 1
        c.limits.submitBurst = 3
        return PlaneDriver(config: c)
    }

    func refusal(_ out: [ControlAction], _ id: RequestID) -> ErrorReply? {
        for m in out.replies(to: id) { if case .error(let e) = m { return e } }
        return nil
    }

    func limitsHit(_ d: inout PlaneDriver) -> [String: Int] {
        if case .statusInfo(let s) = d.read(.status) { return s.limitsHit ?? [:] }
        return [:]
    }

    @Test("a request for more jobs than the per-request limit is refused whole, for a cluster admin too, and nothing is stored")
    func jobsPerRequest() {
        var d = Self.driver()
        var big = spec("big", cpus: 1)
        big.array = 6
        let (id, out) = d.request(.submit([big, big], placeAtOnce: false))
        #expect(refusal(out, id)?.code == .limitExceeded)
        #expect(refusal(out, id)?.message == "12 jobs in one request; the limit is 10 (submit them in several)")
        #expect(!out.contains { if case .insertJobs = $0 { true } else { false } })
        #expect(limitsHit(&d) == ["jobs-per-request": 1])
    }

    @Test("a tenant's pending jobs stop at the limit; the submit rate is a token bucket per token; a cluster admin is exempt from both")
    func pendingPerTenantAndRate() {
        var d = Self.driver()
        let alice = Principal(tokenID: "t-alice", tenant: "team-a", role: .submitter, user: "alice")
        var eight = spec("eight", cpus: 1)
        eight.array = 8
        #expect(d.submit(eight, as: alice).jobs.count == 8)
        var five = spec("five", cpus: 1)
        five.array = 5
        let (id, out) = d.request(.submit([five], placeAtOnce: true), as: alice)
        #expect(refusal(out, id)?.code == .limitExceeded)
        #expect(refusal(out, id)?.message.contains("tenant team-a has 8 pending jobs; 5 more would pass the limit of 12") == true)
        // Burst of 3: two used above; the third passes, the fourth is refused until a second passes.
        #expect(d.submit(spec("one", cpus: 1), as: alice).jobs.count == 1)
        let (rid, rout) = d.request(.submit([spec("two", cpus: 1)], placeAtOnce: true), as: alice)
        #expect(refusal(rout, rid)?.code == .limitExceeded)
        #expect(refusal(rout, rid)?.message.contains("faster than 1.0 requests a second") == true)
        d.advance(byMs: 1000)
        #expect(d.submit(spec("three", cpus: 1), as: alice).jobs.count == 1)
        // Another token has its own bucket; a cluster admin has no rate or pending limit.
        let bob = Principal(tokenID: "t-bob", tenant: "team-b", role: .submitter)
        #expect(d.submit(spec("b", cpus: 1), as: bob).jobs.count == 1)
        for _ in 0..<5 { #expect(d.submit(five).jobs.count == 5) }
        #expect(limitsHit(&d) == ["pending-per-tenant": 1, "submit-rate": 1])
    }
}

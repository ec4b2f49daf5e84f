import SchedControlPlane
import SchedCore
import SchedProtocol
import SchedTestSupport
import Testing

/// Every request is authorized on the server from the authenticated principal: roles, tenant
/// scoping (another tenant's job is `not_found`), ownership, and the tenant and Unix user a job
/// is accounted to and runs as.
@Suite("ControlPlane: authorization by role and tenant")
struct AuthorizationTests {
    let aliceSubmits = Principal(tokenID: "t-alice", tenant: "team-a", role: .submitter, user: "alice")
    let bobSubmits = Principal(tokenID: "t-bob", tenant: "team-a", role: .submitter, user: "bob")
    let teamAAdmin = Principal(tokenID: "t-aadmin", tenant: "team-a", role: .tenantAdmin, user: "carol")
    let teamBViews = Principal(tokenID: "t-bview", tenant: "team-b", role: .viewer)
    let teamBSubmits = Principal(tokenID: "t-bsub", tenant: "team-b", role: .submitter)

    func error(_ d: inout PlaneDriver, _ r: ClientRequest, as p: Principal) -> ErrorReply? {
        if case .error(let e) = d.read(r, as: p) { return e }
        return nil
    }

    /// The ERR code among the replies to `id`, if any.
    func code(_ out: [ControlAction], _ id: RequestID) -> WireErrorCode? {
        for m in out.replies(to: id) { if case .error(let e) = m { return e.code } }
        return nil
    }

    func job(_ d: inout PlaneDriver, _ id: JobID, as p: Principal = .clusterAdmin) -> JobInfo? {
        if case .jobInfo(let j) = d.read(.getJob(id, stored: nil), as: p) { return j }
        return nil
    }

    @Test("a job is accounted to the token's tenant and records its owner and Unix user; another tenant in the spec is refused")
    func submitTakesTheTokensTenantAndUser() {
        var d = PlaneDriver()
        let (_, ids, _) = d.submit(spec("a", cpus: 1), as: aliceSubmits)
        let j = job(&d, ids[0])
        #expect(j?.spec.tenant == "team-a")
        #expect(j?.owner == "alice")
        #expect(j?.runAs == "alice")

        var other = spec("b", cpus: 1)
        other.tenant = "team-b"
        let (id, out) = d.request(.submit([other], placeAtOnce: true), as: aliceSubmits)
        guard case .error(let e) = out.replies(to: id).first else { Issue.record("expected ERR, got \(out.replies(to: id))"); return }
        #expect(e.code == .forbidden)
        #expect(e.message.contains("'team-b' is not this token's tenant"))

        // No Unix user on the token: the task runs as nobody; root only where the tenant allows it.
        let anonymous = Principal(tokenID: "t-x", tenant: "team-b", role: .submitter)
        let (_, nobodyJobs, _) = d.submit(spec("c", cpus: 1), as: anonymous)
        #expect(job(&d, nobodyJobs[0])?.runAs == "nobody")
        let rootToken = Principal(tokenID: "t-r", tenant: "team-b", role: .submitter, user: "root")
        let (rid, rout) = d.request(.submit([spec("d", cpus: 1)], placeAtOnce: true), as: rootToken)
        #expect(code(rout, rid) == .forbidden)
        let allowed = Principal(tokenID: "t-r2", tenant: "ops", role: .submitter, user: "root", mayRunAsRoot: true)
        let (_, rootJobs, _) = d.submit(spec("e", cpus: 1), as: allowed)
        #expect(job(&d, rootJobs[0])?.runAs == "root")
    }

    @Test("another tenant's job is not_found for every verb, worded as for a job that does not exist, and left out of listings")
    func otherTenantsJobsAreInvisible() {
        var d = PlaneDriver()
        let (_, ids, _) = d.submit(spec("secret", cpus: 1), as: aliceSubmits)
        let id = ids[0]
        let missing = error(&d, .getJob(JobID(999), stored: nil), as: teamBViews)
        #expect(missing?.code == .notFound)
        for r: ClientRequest in [.getJob(id, stored: nil), .explain(id, stored: nil, latest: nil), .wait(id, stored: nil)] {
            let e = error(&d, r, as: teamBViews)
            #expect(e?.code == .notFound)
            #expect(e?.message == "no job \(id)")
        }
        #expect(error(&d, .cancel(id, stored: nil), as: teamBSubmits)?.code == .notFound)
        #expect(job(&d, id)?.state == .pending, "the refused cancel changed nothing")
        guard case .jobList(let theirs) = d.read(.listJobs(ListJobs(), storedFinished: nil), as: teamBViews),
              case .jobList(let ours) = d.read(.listJobs(ListJobs(), storedFinished: nil), as: bobSubmits),
              case .jobList(let all) = d.read(.listJobs(ListJobs(), storedFinished: nil)) else {
            Issue.record("no JOB_LIST")
            return
        }
        #expect(theirs.jobs.isEmpty)
        #expect(ours.jobs.map(\.id) == [id])
        #expect(all.jobs.map(\.id) == [id])
        guard case .statusInfo(let s) = d.read(.status, as: teamBViews) else { Issue.record("no STATUS_INFO"); return }
        #expect(s.jobs.isEmpty)
        #expect(s.tenants?["team-a"] == nil)
    }

    @Test("roles: a viewer cannot submit, a submitter cancels only its own jobs, a tenant admin any of its tenant's, only a cluster admin drains")
    func rolesLimitWhatEachTokenDoes() {
        var d = PlaneDriver()
        _ = d.register(node: "n1")
        let viewer = Principal(tokenID: "t-v", tenant: "team-a", role: .viewer)
        let (vid, vout) = d.request(.submit([spec("v", cpus: 1)], placeAtOnce: true), as: viewer)
        guard case .error(let ve) = vout.replies(to: vid).first else { Issue.record("viewer submitted"); return }
        #expect(ve.code == .forbidden)
        #expect(ve.message == "SUBMIT needs role submitter; this token's role is viewer")

        let (_, ids, _) = d.submit(spec("mine", cpus: 64), as: aliceSubmits)   // waits: more than the node has
        let id = ids[0]
        let refused = error(&d, .cancel(id, stored: nil), as: bobSubmits)
        #expect(refused?.code == .forbidden)
        #expect(refused?.message.contains("submitted by alice") == true)
        #expect(job(&d, id)?.state == .pending)

        let before = d.mark
        let (cid, _) = d.request(.cancel(id, stored: nil), as: teamAAdmin)
        _ = d.settle(store: .works)
        #expect(d.actions(since: before).replies(to: cid).contains { if case .jobInfo(let j) = $0 { j.state == .cancelled } else { false } })
        #expect(job(&d, id)?.state == .cancelled)

        let (did, dout) = d.request(.drain("n1", reason: "maintenance"), as: teamAAdmin)
        #expect(code(dout, did) == .forbidden)
        guard case .nodeList(let nodes) = d.read(.listNodes(topology: false), as: viewer) else { Issue.record("no NODE_LIST"); return }
        #expect(nodes.nodes.map(\.status) == [.ready], "the refused drain changed nothing; nodes are visible to every role")
    }

    @Test("a job's environment values are read by its tenant and its submitter only; others who see the job get the names with (hidden)")
    func environmentIsTheTenantsSecret() {
        var d = PlaneDriver()
        var s = spec("a", cpus: 1)
        s.env = ["API_KEY": "k-123", "MODE": "fast"]
        let (_, ids, _) = d.submit(s, as: aliceSubmits)
        let stored = job(&d, ids[0])!
        #expect(JobSecrets.visible(stored, to: bobSubmits).spec.env == s.env, "same tenant")
        #expect(JobSecrets.visible(stored, to: aliceSubmits).spec.env == s.env)
        let admin = JobSecrets.visible(stored, to: .clusterAdmin)
        #expect(admin.spec.env == ["API_KEY": "(hidden)", "MODE": "(hidden)"])
        #expect(admin.spec.command == stored.spec.command && admin.id == stored.id, "only the values change")
        guard case .jobList(let l) = JobSecrets.visible(.jobList(JobList(jobs: [stored, stored])), to: .clusterAdmin) else { Issue.record("no list"); return }
        #expect(l.jobs.allSatisfy { $0.spec.env["API_KEY"] == "(hidden)" })
        // The admin's own job: it submitted it, so it reads it.
        var own = spec("b", cpus: 1)
        own.env = ["TOKEN": "x"]
        let (_, mine, _) = d.submit(own, as: .clusterAdmin)
        #expect(JobSecrets.visible(job(&d, mine[0])!, to: .clusterAdmin).spec.env == ["TOKEN": "x"])
    }
}

import SchedControlPlane
import SchedCore
import SchedProtocol
import Testing
import SchedTestSupport

/// The durability rule, on the control plane itself: every change takes effect in memory at
/// once and is written to the batch; lines to agents and confirmations of changes leave only
/// once the batch's commit succeeded; a failed commit is kept and retried every 200 ms; a change
/// still not stored after `storeRetryMs` is answered ACCEPTED, once; reads and ERR replies are
/// answered at once, and an ERR never takes effect later. The test plays the store and the clock.
@Suite("ControlPlane: durability rules")
struct ControlPlaneDurabilityTests {
    @Test("REGISTERED leaves at once (the node stays up through an outage); the lines after it wait for the node's record to be stored")
    func registerDuringAnOutage() {
        var d = PlaneDriver()
        let start = d.mark
        // The agent reports an exit schedd never heard of (ACK_EXIT) and a task it does not know (KILL_TASK).
        let (link, out) = d.register(node: "n1", tasks: [TaskReport(ref: TaskRef(job: JobID(77)), exit: TaskExit(exitCode: 0)),
                                                          TaskReport(ref: TaskRef(job: JobID(78)), pid: 5)])
        // REGISTERED promises nothing durable and the agent heartbeats only after it: it is the
        // one line that does not wait (docs/architecture.md, "The durability rule").
        #expect(out.lines(to: link).map(\.verb) == ["REGISTERED"])
        d.settle(store: .fails)
        #expect(d.commits(since: start).count == 1)
        #expect(d.commits(since: start).allSatisfy { $0.nodes.map(\.name) == ["n1"] })
        // The agent heartbeats through an outage longer than the node timeout (5 s): still up,
        // and the node's record is retried with every commit.
        for _ in 0..<6 {
            d.run(forMs: 1000, store: .fails)
            d.handle(.heartbeat(Heartbeat(node: "n1", running: 1), link: link))
            d.handle(.checkLiveness)
        }
        #expect(d.node("n1")?.status == .ready)
        let failed = d.commits(since: start)
        #expect(failed.count >= 30, "a failed commit is retried every 200 ms: \(failed.count) attempts")
        #expect(failed.allSatisfy { $0.nodes.contains { $0.name == "n1" } })
        #expect(d.actions(since: start).lines(to: link).map(\.verb) == ["REGISTERED"],
                "lines that follow REGISTERED left before the node was stored")

        // The store takes the retry: the held lines leave, in order, and REGISTERED is not repeated.
        let stored = d.mark
        d.run(forMs: 200, store: .works)
        #expect(d.commits(since: stored).first?.nodes.map(\.name) == ["n1"])
        let lines = d.actions(since: stored).lines(to: link)
        #expect(lines.map(\.verb) == ["ACK_EXIT", "KILL_TASK"])
        #expect(lines.first?.ackExit?.ref == TaskRef(job: JobID(77)))
        #expect(lines.last?.killTask?.ref == TaskRef(job: JobID(78)))
        #expect(d.plane.uncommittedWrites == 0)
    }

    @Test("ACK_EXIT (and WAIT's answer) is not sent while the exit's commit fails, and is sent once it is stored")
    func exitIsAcknowledgedOnlyOnceStored() {
        var d = PlaneDriver()
        let (link, job) = d.runningJob(on: "n1")
        let (wait, waitOut) = d.request(.wait(job, stored: nil))
        #expect(waitOut.replies(to: wait).isEmpty)

        let start = d.mark
        #expect(d.exited(job, on: "n1").lines(to: link).isEmpty)
        // In memory the job has ended at once (a read says so); nothing reports it yet.
        #expect(d.job(job)?.state == .completed)
        d.run(forMs: 1000, store: .fails)
        let failed = d.commits(since: start)
        #expect(failed.count >= 5)
        #expect(failed.allSatisfy { $0.jobs.first { $0.id == job }?.state == .completed })
        #expect(d.actions(since: start).lines(to: link).compactMap(\.ackExit).isEmpty, "ACK_EXIT sent for an exit not stored")
        #expect(d.actions(since: start).replies(to: wait).isEmpty, "WAIT answered with an end not stored")

        let stored = d.mark
        d.run(forMs: 200, store: .works)
        #expect(d.commits(since: stored).count == 1)
        #expect(d.actions(since: stored).lines(to: link).compactMap(\.ackExit).map(\.ref) == [TaskRef(job: job)])
        #expect(d.actions(since: stored).replies(to: wait).map { $0.jobInfo?.state } == [.completed])
        #expect(d.plane.uncommittedWrites == 0)
    }

    @Test("a cancel's KILL_TASK waits for its commit; no reply until stored, ACCEPTED at the store deadline, no second reply once stored")
    func cancelDuringAnOutage() {
        var d = PlaneDriver()
        let (link, job) = d.runningJob(on: "n1")
        let start = d.mark
        let (cancel, out) = d.request(.cancel(job, stored: nil))
        #expect(out.replies(to: cancel).isEmpty)
        #expect(out.lines(to: link).isEmpty)
        #expect(d.isArmed(.storeDeadline(cancel)))
        // Kept in memory at once: a read shows the cancel asked for.
        #expect(d.job(job)?.cancelRequested == true)

        d.run(forMs: Int64(d.storeRetryMs) - 1, store: .fails)
        #expect(d.commits(since: start).count >= 4)
        #expect(d.commits(since: start).allSatisfy { $0.jobs.first { $0.id == job }?.cancelRequested == true })
        #expect(d.actions(since: start).replies(to: cancel).isEmpty, "a cancel was answered before it was stored or its deadline")
        #expect(d.isArmed(.storeDeadline(cancel)))

        // The deadline: ACCEPTED (kept, takes effect once stored), not an error; still no KILL_TASK.
        d.run(forMs: 1, store: .fails)
        let replies = d.actions(since: start).replies(to: cancel)
        #expect(replies.count == 1)
        #expect(replies.first?.accepted?.request == "CANCEL", "\(replies.map(\.verb))")
        #expect(d.actions(since: start).lines(to: link).compactMap(\.killTask).isEmpty, "KILL_TASK sent for a cancel not stored")

        // Stored at last: the KILL_TASK leaves, the request is not answered again.
        let stored = d.mark
        d.run(forMs: 200, store: .works)
        #expect(d.commits(since: stored).first?.jobs.first { $0.id == job }?.cancelRequested == true)
        #expect(d.actions(since: stored).lines(to: link).compactMap(\.killTask).map(\.ref) == [TaskRef(job: job)])
        d.run(forMs: 5000, store: .works)
        #expect(d.actions(since: start).allReplies(to: cancel).count == 1, "a change answered ACCEPTED was answered again")

        // The agent stops it: cancelled.
        d.exited(job, on: "n1", TaskExit(signal: 15))
        d.settle(store: .works)
        #expect(d.job(job)?.state == .cancelled)
    }

    @Test("a cancel stored before its deadline is confirmed once, and the deadline then answers nothing")
    func cancelStoredInTimeIsConfirmedOnce() {
        var d = PlaneDriver()
        let (link, job) = d.runningJob(on: "n1")
        let start = d.mark
        let (cancel, _) = d.request(.cancel(job, stored: nil))
        d.settle(store: .fails)
        #expect(d.actions(since: start).replies(to: cancel).isEmpty)
        #expect(d.actions(since: start).lines(to: link).isEmpty)
        d.run(forMs: 200, store: .works)
        let replies = d.actions(since: start).replies(to: cancel)
        #expect(replies.map(\.verb) == ["JOB_INFO"])
        #expect(replies.first?.jobInfo?.cancelRequested == true)
        #expect(d.actions(since: start).lines(to: link).compactMap(\.killTask).map(\.ref) == [TaskRef(job: job)])
        // The deadline passes: nothing more.
        d.run(forMs: Int64(d.storeRetryMs) * 2, store: .works)
        #expect(d.actions(since: start).allReplies(to: cancel).count == 1)
    }

    @Test("a cancel answered ERR (unknown job, job already finished) changes nothing, then or later")
    func refusedCancelChangesNothing() {
        var d = PlaneDriver()
        let (link, done) = d.runningJob(on: "n1")
        d.exited(done, on: "n1")
        d.settle(store: .works)
        #expect(d.job(done)?.state == .completed)

        // A write is waiting for a refusing store while the refused requests come in.
        let other = d.submit(spec("other")).jobs[0]
        d.settle(store: .fails)
        #expect(d.plane.uncommittedWrites > 0)
        let start = d.mark
        var writes = d.plane.uncommittedWrites
        let refused: [(ClientRequest, WireErrorCode)] = [
            (.cancel(done, stored: nil), .conflict),
            (.cancel(JobID(99), stored: nil), .notFound),
            (.drain("nope", reason: nil), .notFound),
            (.undrain("nope"), .notFound),
        ]
        var ids: [RequestID] = []
        for (request, code) in refused {
            let (id, out) = d.request(request)
            ids.append(id)
            // Answered at once, in the same call, while the store still refuses.
            #expect(out.replies(to: id).map { $0.errorReply?.code } == [code])
            #expect(!d.isArmed(.storeDeadline(id)))
            // Only its audit record is written (the refusal is audited, nothing else changes).
            writes += 1
            #expect(d.plane.uncommittedWrites == writes, "a refused request wrote more than its audit record")
        }
        #expect(d.job(done)?.state == .completed)
        #expect(d.job(done)?.cancelRequested != true)

        // Nothing of them is stored or acted on later, whatever the store does.
        d.run(forMs: Int64(d.storeRetryMs) * 2, store: .fails)
        d.run(forMs: 1000, store: .works)
        #expect(d.plane.uncommittedWrites == 0)
        for c in d.commits(since: start) {
            #expect(c.jobs.allSatisfy { $0.id == other }, "a refused cancel was stored: \(c.jobs.map(\.id))")
            #expect(c.nodes.isEmpty)
        }
        #expect(d.commits(since: start).flatMap(\.audit).map(\.outcome).suffix(4) == ["conflict", "not_found", "not_found", "not_found"])
        for id in ids { #expect(d.actions(since: start).allReplies(to: id).count == 1, "a refused request was answered again") }
        #expect(d.actions(since: start).lines(to: link).compactMap(\.killTask).isEmpty)
        #expect(d.job(done)?.state == .completed)
        #expect(d.node("n1")?.status == .ready)
    }

    @Test("a drain during an outage: drained in memory at once, ACCEPTED at the deadline, stored once the store works, answered once")
    func drainDuringAnOutage() {
        var d = PlaneDriver()
        let (link, _) = d.register(node: "n1")
        d.settle(store: .works)
        let start = d.mark
        let (drain, out) = d.request(.drain("n1", reason: "maintenance"))
        #expect(out.replies(to: drain).isEmpty)
        #expect(d.node("n1")?.status == .drained)
        // New work no longer goes there, stored or not.
        let job = d.submit(spec()).jobs[0]
        #expect(d.job(job)?.state == .pending)

        d.run(forMs: Int64(d.storeRetryMs) - 1, store: .fails)
        #expect(d.actions(since: start).replies(to: drain).isEmpty)
        #expect(d.commits(since: start).allSatisfy { $0.nodes.first { $0.name == "n1" }?.drained == true })
        d.run(forMs: 1, store: .fails)
        #expect(d.actions(since: start).replies(to: drain).map { $0.accepted?.request } == ["DRAIN"])

        let stored = d.mark
        d.run(forMs: 200, store: .works)
        let node = d.commits(since: stored).first?.nodes.first { $0.name == "n1" }
        #expect(node?.drained == true)
        #expect(node?.drainReason == "maintenance")
        #expect(d.plane.uncommittedWrites == 0)
        d.run(forMs: 5000, store: .works)
        #expect(d.actions(since: start).allReplies(to: drain).count == 1)
        #expect(d.node("n1")?.status == .drained)
        #expect(d.job(job)?.state == .pending)
        #expect(d.actions(since: start).lines(to: link).compactMap(\.startTask).isEmpty)
    }

    @Test("a gang's START_TASKs: none while the batch holding its members' placements fails, all of them once it is stored")
    func gangStartsOnlyOnceStoredWhole() {
        var d = PlaneDriver()
        let (link, _) = d.register(node: "n1", topology: smallTopology(cores: 4, threads: 1))
        d.settle(store: .works)
        var g = spec("gang", cpus: 2)
        g.array = 2
        g.gang = true
        let start = d.mark
        let members = d.submit(g).jobs
        #expect(members.count == 2)
        // Placed whole in memory at once.
        for m in members { #expect(d.job(m)?.state == .starting) }

        d.run(forMs: 1000, store: .fails)
        let failed = d.commits(since: start)
        #expect(failed.count >= 5)
        for c in failed {
            // One transaction holds both members' placements: never one without the other.
            #expect(Set(c.jobs.filter { $0.state == .starting }.map(\.id)) == Set(members))
            #expect(c.placements.count == 2)
        }
        #expect(d.actions(since: start).lines(to: link).compactMap(\.startTask).isEmpty,
                "a member was started although the gang's placement was not stored")

        // The retry is stored: the one commit's outcome sends every member's START_TASK.
        #expect(d.isArmed(.retryCommit))
        d.advance(byMs: 200)
        d.fire(.retryCommit)
        let starts = d.finishCommit(.works).lines(to: link).compactMap(\.startTask)
        #expect(Set(starts.map(\.ref.job)) == Set(members))
        #expect(starts.count == 2 && starts[0].assignment.pus.isDisjoint(with: starts[1].assignment.pus))
        #expect(d.plane.uncommittedWrites == 0)
    }
}

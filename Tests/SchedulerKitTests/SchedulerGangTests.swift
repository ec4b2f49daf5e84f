import SchedCore
import SchedProtocol
import SchedulerKit
import Testing
import SchedTestSupport

@Suite("Gangs in the scheduler: preemption, backfill, failure")
struct SchedulerGangTests {
    func gang(_ name: String, members: Int, cpus: Int, priority: Int? = nil, limit: Int? = nil) -> JobSpec {
        var s = spec(name, cpus: cpus)
        s.array = members
        s.gang = true
        s.priority = priority
        s.timeLimitSeconds = limit
        return s
    }

    func preemptible(_ name: String, cpus: Int) -> JobSpec {
        var s = spec(name, cpus: cpus)
        s.preemptible = true
        return s
    }

    @Test("a waiting gang of higher priority preempts room for all its members, and starts only once they stopped")
    func gangPreempts() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        var a = try await AgentConn(s, node: "n1", registering: smallTopology(cores: 4, threads: 1))
        var b = try await AgentConn(s, node: "n2", registering: smallTopology(cores: 4, threads: 1))
        let v1 = try await s.submit(preemptible("v1", cpus: 4)), v2 = try await s.submit(preemptible("v2", cpus: 4))
        let n1 = try #require(try await s.job(v1.id).node)
        let (onA, onB) = n1 == "n1" ? (v1.id, v2.id) : (v2.id, v1.id)
        await a.started(onA)
        await b.started(onB)
        _ = await a.received()
        _ = await b.received()
        let g = try await s.submit(gang("train", members: 2, cpus: 4, priority: 10))
        let killsA = await a.received().compactMap(\.killTask), killsB = await b.received().compactMap(\.killTask)
        #expect(killsA.map(\.ref.job) == [onA] && killsB.map(\.ref.job) == [onB])
        #expect(killsA.first?.reason == "preempted by job \(g.id)")
        for id in [g.id, JobID(g.id.rawValue + 1)] {
            let m = try await s.job(id)
            #expect(m.state == .pending)
            #expect(m.reason?.contains("waiting for preempted jobs to stop") == true)
        }
        // One victim gone: still no member placed (never part of a gang).
        await a.exited(onA, TaskExit(signal: 15))
        #expect(await a.received().compactMap(\.startTask).isEmpty)
        #expect(try await s.job(g.id).state == .pending)
        // Both gone: the whole gang starts; the victims are requeued.
        await b.exited(onB, TaskExit(signal: 15))
        let startsA = await a.received().compactMap(\.startTask)
        let starts = startsA + (await b.received()).compactMap(\.startTask)
        #expect(Set(starts.map(\.ref.job)) == [g.id, JobID(g.id.rawValue + 1)])
        #expect(try await s.job(onA).state == .pending)
        #expect(try await s.job(onA).preemptions == 1)
    }

    @Test("a victim gang is stopped whole, and not while one of its members is still starting")
    func victimGangWholeOrNotAtAll() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        var a = try await AgentConn(s, node: "n1", registering: smallTopology(cores: 2, threads: 1))
        var b = try await AgentConn(s, node: "n2", registering: smallTopology(cores: 2, threads: 1))
        var g = gang("low", members: 2, cpus: 2)
        g.preemptible = true
        let first = try await s.submit(g)
        let ids = [first.id, JobID(first.id.rawValue + 1)]
        let onA = try await s.job(ids[0]).node == "n1" ? ids[0] : ids[1]
        let onB = onA == ids[0] ? ids[1] : ids[0]
        await a.started(onA)                                   // the other member is still starting
        _ = await a.received()
        _ = await b.received()
        var urgentSpec = spec("urgent", cpus: 2)
        urgentSpec.priority = 10
        let urgent = try await s.submit(urgentSpec)
        #expect(await a.received().compactMap(\.killTask).isEmpty)
        #expect(await b.received().compactMap(\.killTask).isEmpty)
        // Once both run, the gang goes whole, although one member's node would have been enough.
        await b.started(onB)
        await s.schedulePendingFromTick()
        let killsA = await a.received().compactMap(\.killTask)
        let killsB = await b.received().compactMap(\.killTask)
        #expect(killsA.map(\.ref.job) == [onA] && killsB.map(\.ref.job) == [onB])
        #expect(killsA.first?.reason == "preempted by job \(urgent.id)")
    }

    @Test("a gang that would not fit even with every evictable job gone stops nothing")
    func noPartialPreemption() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        var a = try await AgentConn(s, node: "n1", registering: smallTopology(cores: 4, threads: 1))
        var b = try await AgentConn(s, node: "n2", registering: smallTopology(cores: 4, threads: 1))
        let v = try await s.submit(preemptible("v", cpus: 4))
        let keep = try await s.submit(spec("keep", cpus: 4))          // not preemptible
        for j in [v, keep] { if try await s.job(j.id).node == "n1" { await a.started(j.id) } else { await b.started(j.id) } }
        _ = await a.received()
        _ = await b.received()
        let g = try await s.submit(gang("train", members: 2, cpus: 4, priority: 10))
        #expect(await a.received().compactMap(\.killTask).isEmpty)
        #expect(await b.received().compactMap(\.killTask).isEmpty)
        #expect(try await s.job(g.id).reason?.hasPrefix("gang of 2: 0/2 nodes available") == true)
    }

    @Test("a gang at the head gets a reservation; work behind it runs only if it ends before the gang's start")
    func gangReservation() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        let a = try await AgentConn(s, node: "n1", registering: smallTopology(cores: 4, threads: 1))
        let b = try await AgentConn(s, node: "n2", registering: smallTopology(cores: 4, threads: 1))
        var l1 = spec("long1", cpus: 3), l2 = spec("long2", cpus: 3)
        l1.timeLimitSeconds = 100
        l2.timeLimitSeconds = 200
        for j in [try await s.submit(l1), try await s.submit(l2)] {
            if try await s.job(j.id).node == "n1" { await a.started(j.id) } else { await b.started(j.id) }
        }
        let g = try await s.submit(gang("train", members: 2, cpus: 4, priority: 5))
        let head = try await s.job(g.id)
        let start = try #require(head.estimatedStartMs)
        #expect(start >= head.submittedAtMs + 199_000)
        #expect(try await s.job(JobID(g.id.rawValue + 1)).estimatedStartMs == start)
        // Behind it: without a time limit nothing may take the reserved nodes; a short job or gang may.
        let unlimited = try await s.submit(spec("unlimited", cpus: 1))
        #expect(try await s.job(unlimited.id).state == .pending)
        #expect(try await s.job(unlimited.id).reason?.contains("reserved for an earlier job") == true)
        let slowGang = try await s.submit(gang("slow", members: 2, cpus: 1, limit: 1000))
        #expect(try await s.job(slowGang.id).state == .pending)
        let quickGang = try await s.submit(gang("quick", members: 2, cpus: 1, limit: 10))
        #expect(try await s.job(quickGang.id).state == .starting)
        #expect(try await s.job(JobID(quickGang.id.rawValue + 1)).state == .starting)
        let x = try await s.explain(g.id)
        #expect(x.current?.summary.hasPrefix("0/2 nodes available") == true)
    }

    @Test("a gang placed by backfill never delays the head job's reservation")
    func gangRespectsSingleReservation() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        let a = try await AgentConn(s, node: "n1", registering: smallTopology(cores: 4, threads: 1))
        var long = spec("long", cpus: 3)
        long.timeLimitSeconds = 100
        let l = try await s.submit(long)
        await a.started(l.id)
        var big = spec("big", cpus: 4)
        big.priority = 5
        let bigJob = try await s.submit(big)
        #expect(try await s.job(bigJob.id).estimatedStartMs != nil)
        let unlimited = try await s.submit(gang("unlimited", members: 1, cpus: 1))
        #expect(try await s.job(unlimited.id).state == .pending)
        #expect(try await s.job(unlimited.id).reason == "gang of 1: 0/1 nodes available: 1 reserved for an earlier job")
        let quick = try await s.submit(gang("quick", members: 1, cpus: 1, limit: 10))
        #expect(try await s.job(quick.id).state == .starting)
    }

    @Test("a failed member stops its siblings (KILL_TASK); the gang ends failed with the reason and stopped records")
    func failedMemberStopsGang() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let s = try h.makeScheduler()
        var a = try await AgentConn(s, node: "n1", registering: smallTopology(cores: 2, threads: 1))
        var b = try await AgentConn(s, node: "n2", registering: smallTopology(cores: 2, threads: 1))
        let g = try await s.submit(gang("train", members: 3, cpus: 1))
        let ids = (0..<3).map { JobID(g.id.rawValue + Int64($0)) }
        var nodeOf: [JobID: NodeID] = [:]
        for id in ids { nodeOf[id] = try await s.job(id).node }
        for id in ids { if nodeOf[id] == "n1" { await a.started(id) } else { await b.started(id) } }
        _ = await a.received()
        _ = await b.received()
        let failing = ids[1]
        if nodeOf[failing] == "n1" { await a.exited(failing, TaskExit(exitCode: 3)) } else { await b.exited(failing, TaskExit(exitCode: 3)) }
        let killsOnA = await a.received().compactMap(\.killTask)
        let kills = killsOnA + (await b.received()).compactMap(\.killTask)
        #expect(Set(kills.map(\.ref.job)) == [ids[0], ids[2]])
        #expect(kills.allSatisfy { $0.reason == "gang member job \(failing) failed" && $0.signal == nil })
        #expect(try await s.job(ids[0]).reason == "stopping with its gang: member job \(failing) failed")
        for id in [ids[0], ids[2]] {
            if nodeOf[id] == "n1" { await a.exited(id, TaskExit(signal: 15)) } else { await b.exited(id, TaskExit(signal: 15)) }
        }
        for id in [ids[0], ids[2]] {
            let m = try await s.job(id)
            #expect(m.state == .failed)
            #expect(m.reason == "stopped with its gang: member job \(failing) failed")
        }
        let f = try await s.job(failing)
        #expect(f.state == .failed && f.reason == "exit code 3; its gang of 3 was stopped")
        let stopped = try await s.logRecords(LogQuery()).filter { $0.outcome == .stopped }
        #expect(Set(stopped.map(\.job)) == Set(ids))
        #expect(stopped.allSatisfy { $0.summary == "gang stopped: member job \(failing) (rank 1) failed: exit code 3" })
        let x = try await s.explain(ids[0])
        #expect(x.latest?.outcome == .stopped)
    }

    @Test("a member lost with its node stops the gang; after a restart the stop is asked for again")
    func lostMemberAndRestart() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        var ids: [JobID] = []
        var onB: JobID?
        do {
            let s = try h.makeScheduler()
            let a = try await AgentConn(s, node: "n1", registering: smallTopology(cores: 1, threads: 1))
            var b = try await AgentConn(s, node: "n2", registering: smallTopology(cores: 1, threads: 1))
            let g = try await s.submit(gang("train", members: 2, cpus: 1))
            ids = [g.id, JobID(g.id.rawValue + 1)]
            for id in ids { if try await s.job(id).node == "n1" { await a.started(id) } else { await b.started(id); onB = id } }
            _ = await b.received()
            // n1 falls silent: its member is lost, which stops the member on n2.
            h.clock.advance(by: 3000)
            try await b.heartbeat()
            h.clock.advance(by: 3000)
            await s.tick()
            let kills = await b.received().compactMap(\.killTask)
            #expect(kills.map(\.ref.job) == [try #require(onB)])
        }
        // schedd restarts before n2's exit arrives: n2 re-registers still running it and is asked again.
        let s2 = try h.makeScheduler()
        var b2 = await AgentConn(s2, node: "n2")
        let replies = try await b2.register(smallTopology(cores: 1, threads: 1),
                                            tasks: [TaskReport(ref: TaskRef(job: onB!), pid: 7, binding: someBinding)])
        #expect(replies.compactMap(\.killTask).map(\.ref.job) == [onB!])
        await b2.exited(onB!, TaskExit(signal: 15))
        #expect(try await s2.job(onB!).state == .failed)
        #expect(try await s2.job(onB!).reason?.hasPrefix("stopped with its gang: member job") == true)
    }
}

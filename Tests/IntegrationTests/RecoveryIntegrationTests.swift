import Foundation
import SchedClient
import SchedCore
import SchedProtocol
import Testing
import SchedIntegrationSupport

extension Integration {
@Suite(.serialized)
struct RecoveryIntegrationTests {
    /// A task that records each start in `marker`, then waits until `release` exists.
    static func waiter(_ c: TestCluster, _ name: String, exitCode: Int = 0) -> [String] {
        let marker = c.dir + "/\(name).starts", release = c.dir + "/\(name).release"
        return ["sh", "-c", "echo $$ >> \(marker); while [ ! -e \(release) ]; do sleep 0.05; done; exit \(exitCode)"]
    }

    @Test("kill -9 schedd with jobs running, restart: nothing lost, nothing doubled")
    func killNineAndRestart() async throws {
        let c = try await TestCluster.standard()
        defer { c.shutdown() }
        let runHost = try await c.submit(JobSpec(name: "a", command: Self.waiter(c, "a"), resources: ResourceRequest(cpus: 1)))
        let runArm = try await c.submit(JobSpec(name: "b", command: Self.waiter(c, "b", exitCode: 5),
                                                resources: ResourceRequest(cpus: 8, arch: "aarch64")))
        let done = try await c.submit(JobSpec(name: "c", command: ["sh", "-c", "exit 3"]))
        let pending = try await c.submit(JobSpec(name: "d", command: ["true"], resources: ResourceRequest(gpus: 64)))
        let doneBefore = try await c.waitTerminal(done)
        #expect(doneBefore.state == .failed && doneBefore.exit?.exitCode == 3)
        let aBefore = try await c.waitForState(runHost, .running)
        _ = try await c.waitForState(runArm, .running)

        c.killSchedd9()
        // While schedd is down, job b finishes on its agent; the agent keeps the exit for later.
        _ = FileManager.default.createFile(atPath: c.dir + "/b.release", contents: nil)
        try await c.startSchedd()
        try await c.waitForNodes(["dgx2", "host", "kunpeng"], status: .ready)

        let a = try await c.job(runHost)
        #expect(a.state == .running)
        #expect(a.pid == aBefore.pid)
        let b = try await c.waitForState(runArm, .failed)
        #expect(b.exit?.exitCode == 5)
        let cJob = try await c.job(done)
        #expect(cJob.state == .failed && cJob.exit?.exitCode == 3)
        #expect(try await c.job(pending).state == .pending)
        guard case .jobList(let all) = try await c.request(.listJobs(ListJobs())) else { throw TestFailure("no JOB_LIST") }
        #expect(all.jobs.map(\.id).sorted() == [runHost, runArm, done, pending].sorted())

        _ = FileManager.default.createFile(atPath: c.dir + "/a.release", contents: nil)
        let aEnd = try await c.waitTerminal(runHost)
        #expect(aEnd.state == .completed)
        // Each task's process started exactly once.
        #expect(c.read(c.dir + "/a.starts").split(separator: "\n").count == 1)
        #expect(c.read(c.dir + "/b.starts").split(separator: "\n").count == 1)
    }

    @Test("cancel sends SIGTERM; a task that ignores it gets SIGKILL after the grace period")
    func cancelRunningJobs() async throws {
        let c = try await TestCluster.standard()
        defer { c.shutdown() }
        let polite = try await c.submit(JobSpec(command: ["sleep", "300"], resources: ResourceRequest(arch: "aarch64")))
        let stubborn = try await c.submit(JobSpec(command: ["sh", "-c", "trap '' TERM; echo ready; while true; do sleep 0.05; done"],
                                                  resources: ResourceRequest(arch: "aarch64"), killGraceSeconds: 1))
        _ = try await c.waitForState(polite, .running)
        let s = try await c.waitForState(stubborn, .running)
        _ = try await eventually("stubborn task trapped TERM") { c.read(s.stdoutPath ?? "").contains("ready") ? true : nil }
        _ = try await c.request(.cancel(JobRequest(job: polite)))
        _ = try await c.request(.cancel(JobRequest(job: stubborn)))
        let p = try await c.waitTerminal(polite)
        #expect(p.state == .cancelled)
        #expect(p.exit?.signal == SIGTERM)
        let st = try await c.waitTerminal(stubborn)
        #expect(st.state == .cancelled)
        #expect(st.exit?.signal == SIGKILL)
        // Cancelling again is refused.
        await #expect(throws: (any Error).self) { _ = try await c.request(.cancel(JobRequest(job: polite))) }
    }

    @Test("a command that cannot start fails the job with 127; the node stays healthy")
    func missingCommandFails() async throws {
        let c = try await TestCluster.standard()
        defer { c.shutdown() }
        let id = try await c.submit(JobSpec(command: ["/nonexistent/program"]))
        let j = try await c.waitTerminal(id)
        #expect(j.state == .failed)
        #expect(j.exit?.exitCode == 127)
        #expect(c.read(try #require(j.stderrPath)).contains("cannot run /nonexistent/program"))
        #expect(try await c.nodes().allSatisfy { $0.status == .ready })
    }

    @Test("an agent that dies is marked down; its running job fails instead of hanging")
    func agentLossMarksNodeDown() async throws {
        let c = try await TestCluster.standard()
        defer { c.shutdown() }
        let id = try await c.submit(JobSpec(command: ["sleep", "300"], resources: ResourceRequest(gpus: 1)))
        _ = try await c.waitForState(id, .running)
        let agent = try #require(c.agents["dgx2"])
        kill(agent.processIdentifier, SIGKILL)
        agent.waitUntilExit()
        try await c.waitForNodes(["dgx2"], status: .down)
        let j = try await c.waitTerminal(id)
        #expect(j.state == .failed)
        #expect(j.reason?.contains("node dgx2 down") == true)
    }

    @Test("kill -9 of an agent: its tasks run on under their shims; the restarted agent reports them and their exits")
    func agentKillNineKeepsTasks() async throws {
        let c = try await TestCluster.standard()
        defer { c.shutdown() }
        let arm = ResourceRequest(cpus: 1, arch: "aarch64")
        // "through" runs through the crash; "during" ends while no agent runs.
        let through = try await c.submit(JobSpec(name: "through", command: Self.waiter(c, "through", exitCode: 7), resources: arm))
        let during = try await c.submit(JobSpec(name: "during", command: Self.waiter(c, "during", exitCode: 4), resources: arm))
        let before = try await c.waitForState(through, .running)
        _ = try await c.waitForState(during, .running)
        let agent = try #require(c.agents["kunpeng"])
        kill(agent.processIdentifier, SIGKILL)
        agent.waitUntilExit()

        _ = FileManager.default.createFile(atPath: c.dir + "/during.release", contents: nil)
        let exitFile = c.dir + "/agent-kunpeng/tasks/\(during.rawValue).0/exit"
        _ = try await eventually("the shim of 'during' records its exit") { c.read(exitFile).isEmpty ? nil : true }
        #expect(c.read(exitFile) == "exit 4\n")
        try c.startAgent("kunpeng", xml: "128arm-2pa2n8cluster4co.xml")

        // The new agent reports the exit it found on disk, and the task that still runs.
        let d = try await c.waitTerminal(during)
        #expect(d.state == .failed)
        #expect(d.exit?.exitCode == 4)
        let t = try await c.job(through)
        #expect(t.state == .running)
        #expect(t.pid == before.pid)
        _ = FileManager.default.createFile(atPath: c.dir + "/through.release", contents: nil)
        let tEnd = try await c.waitTerminal(through)
        #expect(tEnd.exit?.exitCode == 7)
        // Started once each; schedd never saw the node go down.
        #expect(c.read(c.dir + "/through.starts").split(separator: "\n").count == 1)
        #expect(c.read(c.dir + "/during.starts").split(separator: "\n").count == 1)
        #expect(try await c.nodes().first { $0.name == "kunpeng" }?.status == .ready)
    }

    @Test("an agent stopped with --keep-tasks-on-stop leaves its task running; the next agent adopts it")
    func agentRestartKeepsTasks() async throws {
        let c = try await TestCluster.standard()
        defer { c.shutdown() }
        let id = try await c.submit(JobSpec(name: "kept", command: Self.waiter(c, "kept", exitCode: 3),
                                            resources: ResourceRequest(cpus: 1, arch: "aarch64")))
        let before = try await c.waitForState(id, .running)
        // Restart the node's agent with the flag, then stop it gracefully (SIGTERM) mid-task.
        let first = try #require(c.agents["kunpeng"])
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        try c.startAgent("kunpeng", xml: "128arm-2pa2n8cluster4co.xml", extra: ["--keep-tasks-on-stop"])
        _ = try await eventually("the flagged agent adopted the task") {
            c.read(c.dir + "/agent-kunpeng.log").contains("task recovered") ? true : nil
        }
        let second = try #require(c.agents["kunpeng"])
        second.terminate()
        second.waitUntilExit()
        #expect(second.terminationStatus == 0)
        // The task outlived the agent, which said so, and the next agent reports it running.
        let pidAlive = FileManager.default.fileExists(atPath: "/proc/\(try #require(before.pid))")
        #expect(pidAlive)
        #expect(c.read(c.dir + "/agent-kunpeng.log").contains("its tasks keep running"))
        try c.startAgent("kunpeng", xml: "128arm-2pa2n8cluster4co.xml")
        _ = FileManager.default.createFile(atPath: c.dir + "/kept.release", contents: nil)
        let end = try await c.waitTerminal(id)
        #expect(end.exit?.exitCode == 3)
        #expect(end.pid == before.pid)
        #expect(c.read(c.dir + "/kept.starts").split(separator: "\n").count == 1)
    }

    @Test("schedd killed -9 in the middle of a stream of submissions loses no acknowledged job")
    func killNineDuringSubmissions() async throws {
        let c = try await TestCluster.standard()
        defer { c.shutdown() }
        // Submit over one connection until 40 jobs are acknowledged, then kill schedd while the
        // connection keeps submitting (some requests are in flight when it dies).
        let acknowledged = Collected()
        let submitter = Task {
            try await SchedClient.with(try c.endpoint()) { s in
                var n = 0
                while true {
                    guard case .submitted(let sub) = try await s.request(.submit(Submit(spec: JobSpec(command: ["true"],
                        resources: ResourceRequest(gpus: 99))))) else { return }
                    acknowledged.append(Data("\(sub.job)\n".utf8))
                    n += 1
                }
            }
        }
        _ = try await eventually("40 acknowledged submissions") {
            acknowledged.text.split(separator: "\n").count >= 40 ? true : nil
        }
        c.killSchedd9()
        _ = await submitter.result
        let acked = Set(acknowledged.text.split(separator: "\n").compactMap { Int64($0) })
        try await c.startSchedd()
        guard case .jobList(let l) = try await c.request(.listJobs(ListJobs(limit: 100_000))) else { throw TestFailure("no JOB_LIST") }
        let stored = Set(l.jobs.map(\.id.rawValue))
        #expect(acked.isSubset(of: stored), "acknowledged but lost: \(acked.subtracting(stored).sorted())")
        #expect(l.jobs.allSatisfy { $0.state == .pending && $0.spec.resources.gpus == 99 })
        // ids are dense: nothing half-written in between.
        #expect(stored == Set(1...Int64(stored.count)))
    }

    /// SIGUSR1, and a real-time signal (the task's shim must pass both on, not die of them).
    @Test("a higher-priority job preempts a preemptible one: checkpoint signal, requeue, both run", arguments: [10, 40] as [Int32])
    func preemptionWithCheckpointSignal(signal: Int32) async throws {
        let c = try await TestCluster.standard()
        defer { c.shutdown() }
        _ = try await c.request(.drain(NodeRequest(node: "kunpeng")))
        _ = try await c.request(.drain(NodeRequest(node: "dgx2")))
        let checkpoint = c.dir + "/checkpoint"
        let starts = c.dir + "/victim.starts"
        let victim = try await c.submit(JobSpec(
            name: "victim",
            command: ["sh", "-c", "trap 'echo checkpointed >> \(checkpoint); exit 0' \(signal); echo $$ >> \(starts); while true; do sleep 0.05; done"],
            resources: ResourceRequest(cpus: 2), killGraceSeconds: 5, preemptible: true, checkpointSignal: signal))
        _ = try await c.waitForState(victim, .running)
        _ = try await eventually("victim started") { c.read(starts).isEmpty ? nil : true }
        let urgent = try await c.submit(JobSpec(name: "urgent", command: ["true"], resources: ResourceRequest(cpus: 2), priority: 10))
        let u = try await c.waitTerminal(urgent)
        #expect(u.state == .completed && u.node == "host")
        #expect(c.read(checkpoint) == "checkpointed\n")
        // The victim was re-queued and runs again once the room is back.
        let again = try await eventually("victim running again") { () -> JobInfo? in
            let j = try? await c.job(victim)
            return j?.state == .running && c.read(starts).split(separator: "\n").count == 2 ? j : nil
        }
        #expect(again.preemptions == 1)
        guard case .jobInfo(let cancelled) = try await c.request(.cancel(JobRequest(job: victim))) else { throw TestFailure("no JOB_INFO") }
        #expect(cancelled.cancelRequested == true)
    }

    @Test("a service replica whose process dies is started again")
    func serviceReplicaRestarts() async throws {
        let c = try await TestCluster.standard()
        defer { c.shutdown() }
        let starts = c.dir + "/svc.starts"
        let id = try await c.submit(JobSpec(name: "svc", command: ["sh", "-c", "echo $$ >> \(starts); exec sleep 300"],
                                            resources: ResourceRequest(arch: "aarch64"), service: true))
        let first = try await c.waitForState(id, .running)
        let pid = try #require(first.pid)
        _ = try await eventually("first start recorded") { c.read(starts).isEmpty ? nil : true }
        kill(pid, SIGKILL)
        let again = try await eventually("replica restarted") { () -> JobInfo? in
            let j = try? await c.job(id)
            return j?.state == .running && j?.pid != pid ? j : nil
        }
        #expect(again.restarts == 1)
        _ = try await eventually("second start recorded") { c.read(starts).split(separator: "\n").count == 2 ? true : nil }
        // The job's pid is the task's shim; killing it killed the command under it too.
        let command = try #require(c.read(starts).split(separator: "\n").first.flatMap { Int32($0) })
        #expect(command != pid)
        _ = try await eventually("the first replica's command is gone") {
            FileManager.default.fileExists(atPath: "/proc/\(command)") ? nil : true
        }
        // Cancelling ends it for good.
        _ = try await c.request(.cancel(JobRequest(job: id)))
        #expect(try await c.waitTerminal(id).state == .cancelled)
    }

    @Test("a task that runs past its time limit is stopped and the job fails with that reason")
    func timeLimitEnforced() async throws {
        let c = try await TestCluster.standard()
        defer { c.shutdown() }
        let id = try await c.submit(JobSpec(command: ["sleep", "300"], resources: ResourceRequest(arch: "aarch64"),
                                            killGraceSeconds: 1, timeLimitSeconds: 1))
        let j = try await c.waitTerminal(id)
        #expect(j.state == .failed)
        #expect(j.exit?.signal == SIGTERM)
        #expect(j.reason == "time limit of 1 s reached")
    }
}
}

import Foundation
import SchedCore
import SchedProtocol
import Testing
import SchedIntegrationSupport

extension Integration {
/// Gang failure, rolling updates of services and tenant caps through the real daemon, agents and schedctl.
@Suite(.serialized)
struct GangServiceIntegrationTests {
    @Test("a gang member that exits non-zero stops the other members' processes; the gang ends failed")
    func failedMemberStopsGang() async throws {
        let c = try await TestCluster.standard()
        defer { c.shutdown() }
        let release = c.dir + "/release"
        let script = "if [ \"$SCHED_GANG_RANK\" = 1 ]; then while [ ! -e \(release) ]; do sleep 0.05; done; exit 3; fi; exec sleep 300"
        let first = try await c.submit(JobSpec(name: "train", command: ["sh", "-c", script], resources: ResourceRequest(arch: "aarch64"),
                                               array: 3, gang: true))
        let ids = (0..<3).map { JobID(first.rawValue + Int64($0)) }
        var pids: [JobID: Int32] = [:]
        for id in ids {
            let running = try await c.waitForState(id, .running)
            let pid = try #require(running.pid)
            pids[id] = pid
        }
        _ = FileManager.default.createFile(atPath: release, contents: nil)
        let failed = try await c.waitTerminal(ids[1])
        #expect(failed.state == .failed)
        #expect(failed.reason == "exit code 3; its gang of 3 was stopped")
        for id in [ids[0], ids[2]] {
            let j = try await c.waitTerminal(id)
            #expect(j.state == .failed)
            #expect(j.exit?.signal == SIGTERM)
            #expect(j.reason == "stopped with its gang: member job \(ids[1]) failed")
            // The process is gone.
            #expect(kill(pids[id]!, 0) != 0)
        }
        let (s1, show, _) = try c.schedctl(["show", "\(ids[0])"])
        #expect(s1 == 0)
        #expect(show.contains("Reason:") && show.contains("stopped with its gang: member job \(ids[1]) failed"))
        #expect(show.contains("Gang:") && show.contains("rank 0"))
        let (_, explain, _) = try c.schedctl(["explain", "\(ids[2])"])
        #expect(explain.contains("Stopped") && explain.contains("gang stopped: member job \(ids[1]) (rank 1) failed: exit code 3"))
        let (_, log, _) = try c.schedctl(["log", "--job", "\(ids[0])"])
        #expect(log.contains("stopped"))
    }

    @Test("a waiting gang preempts room for all its members: both victims checkpoint before any member starts")
    func gangPreemptsWithCheckpoint() async throws {
        let c = try await TestCluster.standard()
        defer { c.shutdown() }
        let events = c.dir + "/events", ready = c.dir + "/ready"
        var victims: [JobID] = []
        for i in 0..<2 {
            victims.append(try await c.submit(JobSpec(
                name: "victim\(i)",
                command: ["sh", "-c", "trap 'echo checkpointed >> \(events); exit 0' USR1; echo $$ >> \(ready); while true; do sleep 0.05; done"],
                resources: ResourceRequest(cpus: 64, arch: "aarch64"), killGraceSeconds: 5, preemptible: true, checkpointSignal: 10)))
        }
        for v in victims { _ = try await c.waitForState(v, .running) }
        // Both have installed their USR1 trap (the signal may only come after that).
        _ = try await eventually("victims ready") { c.read(ready).split(separator: "\n").count == 2 ? true : nil }
        let first = try await c.submit(JobSpec(name: "train", command: ["sh", "-c", "echo gang $SCHED_GANG_RANK >> \(events)"],
                                               resources: ResourceRequest(cpus: 64, arch: "aarch64"), array: 2, priority: 10, gang: true))
        for id in [first, JobID(first.rawValue + 1)] {
            let j = try await c.waitTerminal(id)
            #expect(j.state == .completed && j.node == "kunpeng")
        }
        let lines = c.read(events).split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        #expect(Array(lines.prefix(2)) == ["checkpointed", "checkpointed"])
        #expect(Set(lines.suffix(2)) == ["gang 0", "gang 1"])
        for v in victims {
            let again = try await c.waitForState(v, .running)
            #expect(again.preemptions == 1)
        }
    }

    @Test("schedctl update rolls a service to a new command, replica by replica, and show reports the revision")
    func rollingUpdate() async throws {
        let c = try await TestCluster.standard()
        defer { c.shutdown() }
        let starts = c.dir + "/starts"
        func spec(_ version: String) -> String {
            """
            name: web
            command: echo \(version) $SCHED_ARRAY_TASK_ID >> \(starts); exec sleep 300
            resources: {arch: aarch64}
            service: true
            array: 2
            kill_grace: 1s
            """
        }
        let v1 = c.dir + "/v1.yaml", v2 = c.dir + "/v2.yaml"
        try spec("v1").write(toFile: v1, atomically: true, encoding: .utf8)
        try spec("v2").write(toFile: v2, atomically: true, encoding: .utf8)
        let (s0, idText, _) = try c.schedctl(["submit", v1])
        #expect(s0 == 0)
        let first = try #require(Int64(idText.split(separator: "-").first?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""))
        let ids = [JobID(first), JobID(first + 1)]
        var oldPids: [JobID: Int32] = [:]
        for id in ids {
            let running = try await c.waitForState(id, .running)
            let pid = try #require(running.pid)
            oldPids[id] = pid
        }
        let (s1, out, err) = try c.schedctl(["update", "\(ids[1])", v2, "--wait"])
        #expect(s1 == 0, "\(err)")
        #expect(out.contains("rolling update to revision 2 started"))
        #expect(out.contains("every replica runs revision 2"))
        for id in ids {
            let j = try await c.waitForState(id, .running)
            #expect(j.revision == 2 && j.spec.command.last?.contains("echo v2") == true)
            #expect(j.pid != oldPids[id])
            #expect(kill(oldPids[id]!, 0) != 0)
        }
        let lines = c.read(starts).split(separator: "\n").map(String.init)
        #expect(lines.filter { $0.hasPrefix("v2") }.sorted() == ["v2 0", "v2 1"])
        let (_, show, _) = try c.schedctl(["show", "\(ids[0])"])
        #expect(show.contains("revision 2"))
        // Updating a job that is not a service is refused with a clear error.
        let plain = try await c.submit(JobSpec(command: ["true"], resources: ResourceRequest(arch: "aarch64")))
        let (s2, _, e2) = try c.schedctl(["update", "\(plain)", v2])
        #expect(s2 != 0)
        #expect(e2.contains("not a service"))
    }

    @Test("a tenant at its cap waits on an idle fleet and explain says why")
    func tenantCap() async throws {
        let c = try await TestCluster.standard(scheddArgs: ["--tenant", "guests=max-cpus:1"])
        defer { c.shutdown() }
        let one = try await c.submit(JobSpec(command: ["sleep", "300"], resources: ResourceRequest(arch: "aarch64"), tenant: "guests"))
        _ = try await c.waitForState(one, .running)
        let two = try await c.submit(JobSpec(command: ["true"], resources: ResourceRequest(arch: "aarch64"), tenant: "guests"))
        let held = try await eventually("held by the cap") { () -> JobInfo? in
            let j = try? await c.job(two)
            return j?.reason?.hasPrefix("tenant cap") == true ? j : nil
        }
        #expect(held.state == .pending)
        let (_, explain, _) = try c.schedctl(["explain", "\(two)"])
        #expect(explain.contains("Held: tenant cap: guests holds 1 of max 1 cpus, needs 1 more"))
        let (_, status, _) = try c.schedctl(["status"])
        #expect(status.contains("tenant guests:") && status.contains("cap 1 cpus"))
        _ = try await c.request(.cancel(JobRequest(job: one)))
        #expect(try await c.waitTerminal(two).state == .completed)
    }

    @Test("schedd refuses a bad --tenant cap with a clear message", arguments: [
        ("x=cpus:4,max-cpus:2", "--tenant x: max-cpus 2 is below the guaranteed cpus 4"),
        ("x=max-cpu:2", "--tenant x: unknown key 'max-cpu' (cpus, gpus, max-cpus, max-gpus, allow-root)"),
        ("x=max-gpus:lots", "--tenant x: bad max-gpus 'lots' (a number >= 0)"),
    ])
    func badTenantFlag(flag: String, message: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: TestCluster.binDir + "/schedd")
        p.arguments = ["--tenant", flag, "--state-dir", FileManager.default.temporaryDirectory.path + "/never-used"]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus != 0)
        #expect(text.contains(message), "\(text)")
    }
}
}

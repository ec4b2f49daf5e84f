import Foundation
import SchedCore
import SchedProtocol
import Testing
import SchedIntegrationSupport

/// schedd plus three real agents (this host, an emulated Kunpeng 920, an emulated DGX-2) on 127.0.0.1.
extension Integration {
@Suite(.serialized)
struct PlacementIntegrationTests {
    @Test("a job's Cpus_allowed_list and Mems_allowed_list equal its placement record")
    func bindingMatchesPlacementRecord() async throws {
        let c = try await TestCluster.standard()
        defer { c.shutdown() }
        // Keep the job on this host, where node numbering is host numbering.
        _ = try await c.request(.drain(NodeRequest(node: "kunpeng")))
        _ = try await c.request(.drain(NodeRequest(node: "dgx2")))
        let id = try await c.submit(JobSpec(command: ["grep", "-E", "Cpus_allowed_list|Mems_allowed_list", "/proc/self/status"]))
        let job = try await c.waitTerminal(id)
        #expect(job.state == .completed)
        let a = try #require(job.assignment)
        #expect(a.node == "host")
        let out = c.read(try #require(job.stdoutPath))
        #expect(allowedList(out, "Cpus_allowed_list") == a.pus)
        #expect(allowedList(out, "Mems_allowed_list") == a.numaNodes)
        // The placement log holds the same placement.
        guard case .explanation(let x) = try await c.request(.explain(JobRequest(job: id))) else { throw TestFailure("no explanation") }
        let record = try #require(x.latest)
        #expect(record.outcome == .placed)
        #expect(record.pus == a.pus && record.numaNodes == a.numaNodes && record.node == "host")
    }

    @Test("on an emulated node the task is bound to the mapped host PUs it reports")
    func emulatedBindingUsesHostMapping() async throws {
        let c = try await TestCluster.standard()
        defer { c.shutdown() }
        let id = try await c.submit(JobSpec(command: ["grep", "Cpus_allowed_list", "/proc/self/status"],
                                            resources: ResourceRequest(cpus: 4, arch: "aarch64")))
        let job = try await c.waitTerminal(id)
        #expect(job.state == .completed)
        let a = try #require(job.assignment)
        #expect(a.node == "kunpeng")
        #expect(a.pus.count == 4)
        let binding = try #require(job.hostBinding)
        #expect(allowedList(c.read(try #require(job.stdoutPath)), "Cpus_allowed_list") == binding.cpus)
        // Emulated PU of rank r maps to the host's allowed PU r mod count (docs/topology.md).
        var hostPUs = CPUSet()
        for i in 0..<ProcessInfo.processInfo.activeProcessorCount { hostPUs.insert(i) }
        let allowed = allowedList(c.read("/proc/self/status"), "Cpus_allowed_list") ?? hostPUs
        let expected = CPUSet(a.pus.map { allowed.members[$0 % allowed.count] })
        #expect(binding.cpus == expected)
    }

    @Test("a 4-GPU job lands on the DGX-2 with its GPUs and cores from one NUMA node")
    func gpuJobIsNUMALocalOnDGX2() async throws {
        let c = try await TestCluster.standard()
        defer { c.shutdown() }
        let id = try await c.submit(JobSpec(command: ["sh", "-c", "echo $CUDA_VISIBLE_DEVICES; echo $SCHED_GPUS"],
                                            resources: ResourceRequest(cpus: 1, gpus: 4, gpuModel: "v100")))
        let job = try await c.waitTerminal(id)
        #expect(job.state == .completed)
        let a = try #require(job.assignment)
        #expect(a.node == "dgx2")
        #expect(a.gpus.count == 4)
        let topo = try #require(try await c.nodes(topology: true).first { $0.name == "dgx2" }?.topology)
        #expect(a.numaNodes.count == 1)
        let numa = try #require(a.numaNodes.members.first)
        let numaCPUs = try #require(topo.numaNodes.first { $0.id == numa }).cpus
        #expect(a.pus.isSubset(of: numaCPUs))
        for g in a.gpus { #expect(topo.gpus[g].numaNodes == a.numaNodes, "GPU \(g) is not local to NUMA \(numa)") }
        let lines = c.read(try #require(job.stdoutPath)).split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        #expect(lines[0].split(separator: ",").count == 4)
        #expect(lines[1] == a.gpus.map(String.init).joined(separator: ","))
    }

    @Test("--arch aarch64 (or its alias arm64) lands on the Kunpeng agent", arguments: ["aarch64", "arm64"])
    func archConstraint(arch: String) async throws {
        let c = try await TestCluster.standard()
        defer { c.shutdown() }
        let id = try await c.submit(JobSpec(command: ["uname", "-m"], resources: ResourceRequest(cpus: 2, arch: arch)))
        let job = try await c.waitTerminal(id)
        #expect(job.state == .completed)
        #expect(job.node == "kunpeng")
        let record = try #require(try await c.explain(id).latest)
        let wrongArch = try #require(record.explanation.rejections.first { $0.reason == .wrongArch })
        #expect(wrongArch.nodes == 2)
    }

    @Test("a job that fits nowhere stays pending and explain gives the numbers")
    func unplaceableJobIsExplained() async throws {
        let c = try await TestCluster.standard()
        defer { c.shutdown() }
        let id = try await c.submit(JobSpec(command: ["true"], resources: ResourceRequest(cpus: 1, gpus: 17)))
        let x = try await c.explain(id)
        #expect(x.job.state == .pending)
        let current = try #require(x.current)
        #expect(current.summary == "0/3 nodes available: 3 too few free GPUs")
        let r = try #require(current.explanation.rejections.first)
        #expect(r.requested == 17 && r.bestFree == 16 && r.bestCapacity == 16)
        // Two constraints at once: arch rules out two nodes, GPUs the third.
        let id2 = try await c.submit(JobSpec(command: ["true"], resources: ResourceRequest(cpus: 1, gpus: 1, arch: "aarch64")))
        #expect(try await c.explain(id2).current?.summary == "0/3 nodes available: 2 wrong arch, 1 too few free GPUs")
        // The CLI prints the same, readably.
        let (status, out, _) = try c.schedctl(["explain", "\(id)"])
        #expect(status == 0)
        #expect(out.contains("3 nodes: too few free GPUs (requested 17; best such node has 16 free of 16)"))
        #expect(try await c.job(id).state == .pending)
    }

    @Test("a drained node gets no new work; undrain lets it run")
    func drainAndUndrain() async throws {
        let c = try await TestCluster.standard()
        defer { c.shutdown() }
        guard case .nodeInfo(let n) = try await c.request(.drain(NodeRequest(node: "kunpeng", reason: "maintenance"))) else { throw TestFailure("no NODE_INFO") }
        #expect(n.status == .drained)
        let id = try await c.submit(JobSpec(command: ["true"], resources: ResourceRequest(arch: "aarch64")))
        let x = try await c.explain(id)
        #expect(x.current?.summary == "0/3 nodes available: 1 draining, 2 wrong arch")
        _ = try await c.request(.undrain(NodeRequest(node: "kunpeng")))
        let job = try await c.waitTerminal(id)
        #expect(job.state == .completed && job.node == "kunpeng")
    }
}
}

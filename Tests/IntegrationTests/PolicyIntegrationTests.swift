import Foundation
import SchedCore
import SchedProtocol
import Testing
import SchedIntegrationSupport

extension Integration {
/// GPU shares, node selectors and per-queue policies through the real daemon and agents.
@Suite(.serialized)
struct PolicyIntegrationTests {
    @Test("two half-GPU tasks run at the same time on the same DGX-2 GPU")
    func halfGPUTasksShareOneGPU() async throws {
        let c = try await TestCluster.standard()
        defer { c.shutdown() }
        let release = c.dir + "/release"
        let cmd = ["sh", "-c", "echo $CUDA_VISIBLE_DEVICES $SCHED_GPU_SHARE_MILLI $CUDA_MPS_ACTIVE_THREAD_PERCENTAGE; while [ ! -e \(release) ]; do sleep 0.05; done"]
        let half = ResourceRequest(cpus: 1, gpus: 1, gpuMilli: 500)
        let a = try await c.submit(JobSpec(command: cmd, resources: half))
        let b = try await c.submit(JobSpec(command: cmd, resources: half))
        let ja = try await c.waitForState(a, .running), jb = try await c.waitForState(b, .running)
        let ga = try #require(ja.assignment?.gpus), gb = try #require(jb.assignment?.gpus)
        #expect(ga.count == 1 && ga == gb)
        #expect(ja.assignment?.gpuMilli == 500)
        // The node counts one GPU in use.
        #expect(try await c.nodes().first { $0.name == "dgx2" }?.gpusUsed == 1)
        _ = FileManager.default.createFile(atPath: release, contents: nil)
        let out = c.read(try #require(try await c.waitTerminal(a).stdoutPath)).split(separator: " ")
        #expect(out.count == 3)
        #expect(out[1] == "500" && out[2].hasPrefix("50"))
        _ = try await c.waitTerminal(b)
        #expect(try await c.nodes().first { $0.name == "dgx2" }?.gpusUsed == 0)
    }

    @Test("a node selector picks the labelled node; the NVLink domain is a label")
    func nodeSelector() async throws {
        let c = try await TestCluster.standard(dgx2Args: ["--label", "zone=lab", "--nvlink-domain", "rack-7"])
        defer { c.shutdown() }
        let dgx = try #require(try await c.nodes().first { $0.name == "dgx2" })
        #expect(dgx.labels == ["zone": "lab", "nvlink.domain": "rack-7"])
        let id = try await c.submit(JobSpec(command: ["true"], resources: ResourceRequest(labels: ["nvlink.domain": "rack-7"])))
        #expect(try await c.waitTerminal(id).node == "dgx2")
        let none = try await c.submit(JobSpec(command: ["true"], resources: ResourceRequest(labels: ["zone": "elsewhere"])))
        #expect(try await c.explain(none).current?.summary == "0/3 nodes available: 3 node labels do not match")
    }

    @Test("each queue ranks with its own policy; an unknown queue is refused")
    func queuesHaveTheirPolicies() async throws {
        let c = try await TestCluster.standard(scheddArgs: ["--queue", "wide=spread", "--queue", "dense=pack"])
        defer { c.shutdown() }
        // A 2-CPU arm-or-x86 task: pack prefers the 2-PU host (fills it), spread the 128-PU Kunpeng.
        let packed = try await c.submit(JobSpec(command: ["true"], resources: ResourceRequest(cpus: 2), queue: "dense"))
        let packedJob = try await c.waitTerminal(packed)
        let spread = try await c.submit(JobSpec(command: ["true"], resources: ResourceRequest(cpus: 2), queue: "wide"))
        let spreadJob = try await c.waitTerminal(spread)
        #expect(packedJob.node == "host")
        #expect(spreadJob.node == "kunpeng")
        #expect(try await c.explain(packed).latest?.policy == "most-allocated")
        #expect(try await c.explain(spread).latest?.policy == "least-allocated")
        await #expect(throws: (any Error).self) {
            _ = try await c.submit(JobSpec(command: ["true"], queue: "nope"))
        }
        let (_, status, _) = try c.schedctl(["status"])
        #expect(status.contains("queues:          default=best-fit, dense=most-allocated, wide=least-allocated"))
    }

    @Test("a gang starts all its members at once with their rank and peers, or none")
    func gangAllOrNothing() async throws {
        let c = try await TestCluster.standard(dgx2Args: ["--nvlink-domain", "rack-7"])
        defer { c.shutdown() }
        let cmd = ["sh", "-c", "echo $SCHED_GANG_SIZE $SCHED_GANG_RANK $SCHED_GANG_LEADER $CUDA_VISIBLE_DEVICES"]
        // 3 × 4 GPUs fit the DGX-2's 16 inside its NVLink domain.
        let first = try await c.submit(JobSpec(command: cmd, resources: ResourceRequest(gpus: 4), array: 3, gang: true, nvlink: .required))
        var lines: [String] = []
        for i in 0..<3 {
            let j = try await c.waitTerminal(JobID(first.rawValue + Int64(i)))
            #expect(j.state == .completed && j.node == "dgx2")
            lines.append(c.read(try #require(j.stdoutPath)))
        }
        #expect(lines.map { $0.split(separator: " ").prefix(3).joined(separator: " ") } == ["3 0 dgx2", "3 1 dgx2", "3 2 dgx2"])
        // 5 × 4 GPUs cannot fit 16: no member starts, all wait with the gang's reason.
        let big = try await c.submit(JobSpec(command: ["true"], resources: ResourceRequest(gpus: 4), array: 5, gang: true))
        for i in 0..<5 {
            let j = try await c.job(JobID(big.rawValue + Int64(i)))
            #expect(j.state == .pending)
            #expect(j.reason?.hasPrefix("gang of 5: ") == true)
        }
    }

    @Test("a job with alternative shapes runs in the fastest one that fits, and the record says why")
    func alternativeShapes() async throws {
        let c = try await TestCluster.standard()
        defer { c.shutdown() }
        let arm = TaskShape(resources: ResourceRequest(cpus: 16, arch: "aarch64"), speedMilli: 400)
        // No H100 anywhere: the 0.4-speed Arm shape runs on the Kunpeng.
        let slow = try await c.submit(JobSpec(command: ["sh", "-c", "echo $SCHED_SHAPE"],
                                              resources: ResourceRequest(cpus: 1, gpus: 1, gpuModel: "H100"), alternatives: [arm]))
        let j = try await c.waitTerminal(slow)
        #expect(j.node == "kunpeng" && j.shape == 1 && j.assignment?.pus.count == 16)
        #expect(c.read(try #require(j.stdoutPath)) == "1\n")
        let record = try #require(try await c.explain(slow).latest)
        #expect(record.shape == 1)
        #expect(record.summary.hasPrefix("shape 1 (speed 0.4): faster shape 0 fit nowhere; placed on kunpeng"))
        // A V100 is free: the full-speed GPU shape wins.
        let fast = try await c.submit(JobSpec(command: ["true"], resources: ResourceRequest(cpus: 1, gpus: 1, gpuModel: "V100"),
                                              alternatives: [arm]))
        let f = try await c.waitTerminal(fast)
        #expect(f.node == "dgx2" && f.shape == 0)
    }
}
}

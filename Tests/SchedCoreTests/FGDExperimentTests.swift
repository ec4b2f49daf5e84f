import Testing
@testable import SchedCore

/// The experiment driver: tuned pod lists, a small end-to-end replay checked by hand, and the
/// replay with arrivals and departures.
@Suite("FGD experiment")
struct FGDExperimentTests {
    static func pod(_ name: String, gpus: Int, milli: Int, cpu: Int = 1000) -> TracePod {
        TracePod(name: name, request: ShareRequest(cpuMilli: cpu, memoryMiB: 1, gpus: gpus, gpuMilli: milli))
    }
    /// Six pods, 2.8 GPUs of demand in all.
    static let trace = [pod("p0", gpus: 1, milli: 500), pod("p1", gpus: 1, milli: 1000), pod("p2", gpus: 0, milli: 0),
                        pod("p3", gpus: 1, milli: 300), pod("p4", gpus: 1, milli: 1000), pod("p5", gpus: 0, milli: 0)]

    @Test("tuned list: deterministic per seed, a permutation plus copies, demand within 1.3 x capacity")
    func tuning() {
        let cap = 4000  // 4 GPUs: target 5200 thousandths
        let a = FGDExperiment.tunedPods(Self.trace, capacityMilli: cap, seed: 42).pods
        let b = FGDExperiment.tunedPods(Self.trace, capacityMilli: cap, seed: 42).pods
        let c = FGDExperiment.tunedPods(Self.trace, capacityMilli: cap, seed: 43).pods
        #expect(a == b)
        #expect(a != c)
        // The first six are a shuffle of the trace; the rest are copies of trace pods.
        let reqs = Self.trace.map(\.request)
        #expect(a.prefix(6).sorted { $0.cpuMilli * 10_000 + $0.gpuDemandMilli < $1.cpuMilli * 10_000 + $1.gpuDemandMilli }
                == reqs.sorted { $0.cpuMilli * 10_000 + $0.gpuDemandMilli < $1.cpuMilli * 10_000 + $1.gpuDemandMilli })
        #expect(a.dropFirst(6).allSatisfy { reqs.contains($0) })
        let total = a.reduce(0) { $0 + $1.gpuDemandMilli }
        #expect(total <= 5200 && total > 5200 - 1000)
    }

    @Test("node order: node i (by name) goes to position perm[i], as the simulator's %04d- name prefix sorts")
    func nodeOrder() {
        var r = GoRandom(seed: 9), copy = GoRandom(seed: 9)
        let names = (0..<50).map { "openb-node-\($0)" }
        let ordered = FGDExperiment.simulatorNodeOrder(names, rng: &r)
        let perm = copy.perm(50)
        // Rename as the simulator does and sort by the new names: the same order.
        func prefixed(_ i: Int) -> String {
            let digits = String(perm[i])
            let pad = String(repeating: "0", count: 4 - digits.count)
            return pad + digits + "-" + names[i]
        }
        let renamed: [String] = names.indices.map(prefixed).sorted()
        let expected: [String] = renamed.map { String($0.dropFirst(5)) }
        #expect(ordered == expected)
        #expect(r.int63() == copy.int63())
    }

    @Test("end-to-end replay on two nodes, checked by hand")
    func replay() {
        // Nodes: A with 2 GPUs, B with 1 GPU (index order A, B). GpuPacking, ties to the first node.
        let a = ShareNode(model: "T4", cpuMilli: 8000, memoryMiB: 100, gpus: 2)
        let b = ShareNode(model: "T4", cpuMilli: 8000, memoryMiB: 100, gpus: 1)
        let pods = [ShareRequest(cpuMilli: 1000, gpus: 1, gpuMilli: 600),   // empty nodes: A 31, B 32 → B GPU 0
                    ShareRequest(cpuMilli: 1000, gpus: 1, gpuMilli: 600),   // B cannot share (400 left); A 31 → A GPU 0
                    ShareRequest(cpuMilli: 1000, gpus: 1, gpuMilli: 400),   // shared GPUs: A 100-4=96, B 96 → A (first), GPU 0
                    ShareRequest(cpuMilli: 1000, gpus: 2, gpuMilli: 1000),  // needs 2 whole GPUs: none → fails
                    ShareRequest(cpuMilli: 1000, gpus: 1, gpuMilli: 1000)]  // A's GPU 1 is the only whole one
        var nodes = [a, b]
        var rng = GoRandom(seed: 1)
        let curve = FGDExperiment.replay(pods, on: &nodes, scorer: PackingScorer(policy: .gpuPacking), rng: &rng)
        #expect(nodes[0].gpuFree == [0, 0])
        #expect(nodes[1].gpuFree == [400])
        #expect(curve.arrivedMilli == [0, 600, 1200, 1600, 3600, 4600])
        #expect(curve.allocatedMilli == [0, 600, 1200, 1600, 1600, 2600])
        #expect(curve.failed == 1)
        // Capacity 3000: the 2-GPU pod arrives at 120% and fails: unallocated (3600-1600)/3000 = 66.7%.
        #expect(abs(curve.unallocatedPercent(at: 120) - 2000.0 / 30) < 1e-9)
        #expect(curve.unallocatedPercent(at: 53) == 0)
    }

    @Test("arrivals and departures: a task waits until a GPU frees up")
    func timed() {
        let node = ShareNode(model: "T4", cpuMilli: 8000, memoryMiB: 100, gpus: 1)
        let trace = [TracePod(name: "a", request: ShareRequest(cpuMilli: 1000, gpus: 1, gpuMilli: 1000), createdAt: 0, deletedAt: 10),
                     TracePod(name: "b", request: ShareRequest(cpuMilli: 1000, gpus: 1, gpuMilli: 1000), createdAt: 2, deletedAt: 7),
                     TracePod(name: "c", request: ShareRequest(cpuMilli: 1000, gpus: 2, gpuMilli: 1000), createdAt: 3, deletedAt: 4)]
        let r = TimedReplay(nodes: [node], policy: .fragmentationPacking, workload: TargetWorkload(shapes: []), sampleEvery: 5).run(trace)
        // b arrives at 2, starts at 10 when a leaves, runs 5 s: delay 8, JCT 13. c never fits (2 GPUs).
        #expect(r.queueingDelays == [0, 8])
        #expect(r.completionTimes == [10, 13])
        #expect(r.neverFits == 1)
        // A sample at t shows the fleet just before the events at t; one more follows the last event.
        #expect(r.samples.map(\.time) == [0, 5, 10, 15, 20])
        #expect(r.samples[0].gpuUsedPct == 0)
        #expect(r.samples[1].gpuUsedPct == 100 && r.samples[1].queued == 1)
        #expect(r.samples[3].gpuUsedPct == 100 && r.samples[3].queued == 0)
        #expect(r.samples[4].gpuUsedPct == 0)
    }
}

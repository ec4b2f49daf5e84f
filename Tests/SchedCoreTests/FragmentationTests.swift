import Testing
import SchedCore
import SchedTestSupport

/// FGD's fragmentation measure, the fragmentation-aware policy, and the workload tracker.
/// Fixture: 16 PUs (2 NUMA × 4 cores × 2 threads), 4 GPUs (0-1 on NUMA 0, 2-3 on NUMA 1).
/// Expectations are worked by hand.
@Suite("Fragmentation")
struct FragmentationTests {
    static let topo = TopologyFixture.make(numa: 2, coresPerNUMA: 4, threadsPerCore: 2, gpusPerNUMA: 2)

    /// A node whose GPUs have `used` thousandths in use (no PUs).
    static func node(_ id: String, used: [Int]) -> NodeState { TopologyFixture.node(id, topo, gpuMilliUsed: used) }
    static func share(_ milli: Int, cpus: Int = 1) -> ResourceRequest { ResourceRequest(cpus: cpus, gpus: 1, gpuMilli: milli) }
    static let whole = ResourceRequest(cpus: 1, gpus: 1)

    /// GPUs free 1000, 400, 0, 0.
    static let sample = node("n", used: [0, 600, 1000, 1000])

    @Test("fragmented share for one shape", arguments: [
        (share(500), 400),                                // GPU 1's 400 is below 500
        (whole, 400),                                     // GPU 1 is partly used
        (share(300), 0),                                  // every free share can take 300
        (ResourceRequest(cpus: 17, gpus: 1, gpuMilli: 500), 1400),   // can't fit: all 1000 + 400
        (ResourceRequest(cpus: 1, gpus: 2), 1400),        // only one whole GPU
        (ResourceRequest(cpus: 1, gpus: 1, gpuModel: "T4"), 1400),   // no GPU of the model
        (ResourceRequest(cpus: 1, memoryBytes: 200 * GiB), 1400),    // memory doesn't fit
        (ResourceRequest(cpus: 4), 0),                    // CPU-only shape that fits
        (ResourceRequest(cpus: 16), 0),
    ] as [(ResourceRequest, Int)])
    func fragmentedForShape(shape: ResourceRequest, expected: Int) {
        #expect(Fragmentation.fragmented(Self.sample, for: shape) == expected)
    }

    @Test func noFreeShareMeansNoFragmentation() {
        let full = Self.node("n", used: [1000, 1000, 1000, 1000])
        #expect(Fragmentation.fragmented(full, for: ResourceRequest(cpus: 99, gpus: 1)) == 0)
        #expect(Fragmentation.fragmented(TopologyFixture.node("c", TopologyFixture.kunpeng()), for: Self.whole) == 0)
    }

    @Test func popularityWeighted() {
        let p = WorkloadProfile(shapes: [.init(request: Self.share(500), weight: 3), .init(request: ResourceRequest(cpus: 4), weight: 1)])
        #expect(Fragmentation.fragmented(Self.sample, workload: p) == 3 * 400 + 1 * 0)
        let q = WorkloadProfile(shapes: [.init(request: ResourceRequest(cpus: 17), weight: 2), .init(request: Self.whole, weight: 1),
                                         .init(request: Self.share(300), weight: 0)])   // weight 0 is dropped
        #expect(q.shapes.count == 2)
        #expect(q.totalWeight == 3)
        #expect(Fragmentation.fragmented(Self.sample, workload: q) == 2 * 1400 + 400)
    }

    @Test("placement score 50 - 50 × Δ / C")
    func placementScores() {
        let p = WorkloadProfile(shapes: [.init(request: Self.share(500), weight: 1)])
        func on(_ g: Int) -> Assignment { Assignment(node: "n", pus: CPUSet([0]), numaNodes: NUMASet([0]), gpus: [g], gpuMilli: 300) }
        // 300 on GPU 1 (400 → 100 free): fragmentation 400 → 100, Δ = -300: 50 - (-15000 / 4000 = -3) = 53.
        #expect(Fragmentation.score(Self.share(300), node: Self.sample, assignment: on(1), workload: p) == 53)
        // 300 on GPU 0 (1000 → 700 free, still ≥ 500): Δ = 0 → 50.
        #expect(Fragmentation.score(Self.share(300), node: Self.sample, assignment: on(0), workload: p) == 50)
        // Without a profile the request is its own workload: same numbers for a 500-shaped task.
        #expect(Fragmentation.score(Self.share(500), node: Self.sample,
                                    assignment: Assignment(node: "n", pus: CPUSet([0]), numaNodes: NUMASet([0]), gpus: [0], gpuMilli: 500),
                                    workload: WorkloadProfile()) == 50)
    }

    @Test("a CPU-only task that eats a GPU node's CPUs strands its GPUs")
    func cpuOnlyOnGPUNode() throws {
        let n = TopologyFixture.node("n", Self.topo)
        let p = WorkloadProfile(shapes: [.init(request: Self.whole, weight: 1)])
        // 16 CPUs: afterwards no GPU shape fits, all 4000 becomes fragmented: 50 - 50 × 4000 / 4000 = 0.
        let all = try #require(CPUAllocator.pick(ResourceRequest(cpus: 16), on: n))
        #expect(SchedulingPolicy.fragmentationAware.score(ResourceRequest(cpus: 16), on: n, assignment: all, workload: p) == 0)
        let half = try #require(CPUAllocator.pick(ResourceRequest(cpus: 8), on: n))
        #expect(SchedulingPolicy.fragmentationAware.score(ResourceRequest(cpus: 8), on: n, assignment: half, workload: p) == 50)
    }

    @Test("FGD sends a 500 share where it fragments less; best fit picks the other node")
    func fgdVersusBestFit() throws {
        // n1: GPU 0 at 200 (free 800), GPUs 1-3 full. The share must go on GPU 0 → 300 left, below 500:
        //     fragmentation 0 → 300, Δ 300 → 50 - 15000 / 4000 = 47.  Best fit: (6 + 0 + 3700/40 = 92) / 3 = 32.
        // n2: GPU 0 at 700 (free 300), GPUs 1-3 free. The share takes GPU 1 (→ 500 free, still usable):
        //     fragmentation 300 → 300, Δ 0 → 50.  Best fit: (6 + 0 + 1200/40 = 30) / 3 = 12.
        let fleet = ClusterSnapshot(nodes: [Self.node("n1", used: [200, 1000, 1000, 1000]), Self.node("n2", used: [700, 0, 0, 0])])
        let r = Self.share(500)
        for workload in [WorkloadProfile(), WorkloadProfile(shapes: [.init(request: r, weight: 5)])] {
            let d = Placer(policy: .fragmentationAware, workload: workload).place(r, in: fleet)
            guard case .placed(let a, let score, let e) = d else { Issue.record("not placed: \(d)"); return }
            #expect(a.node == "n2")
            #expect(a.gpus == [1])
            #expect(score == 50)
            #expect(e.topCandidates == [CandidateScore(node: "n2", score: 50), CandidateScore(node: "n1", score: 47)])
        }
        let b = Placer(policy: .bestFit).place(r, in: fleet)
        guard case .placed(let a, let score, let e) = b else { Issue.record("not placed: \(b)"); return }
        #expect(a.node == "n1")
        #expect(a.gpus == [0])
        #expect(score == 32)
        #expect(e.topCandidates == [CandidateScore(node: "n1", score: 32), CandidateScore(node: "n2", score: 12)])
    }

    // MARK: - WorkloadTracker

    static func summary(_ p: WorkloadProfile) -> [String] {
        p.shapes.map { s in
            let r = s.request
            return "\(r.cpus)c/\(r.gpus)g/\(r.gpuMilli)/\(r.gpuModel ?? "-")/\(r.memoryBytes / GiB)G:\(s.weight)"
        }
    }

    @Test func shapesKeyedByCPUsRoundedUpToPowerOfTwo() {
        var t = WorkloadTracker()
        t.observe(ResourceRequest(cpus: 3, memoryBytes: 8 * GiB))
        t.observe(ResourceRequest(cpus: 4, memoryBytes: 2 * GiB))   // same key as 3; the larger memory is kept
        t.observe(ResourceRequest(cpus: 5))
        t.observe(ResourceRequest(cpus: 1, gpuModel: "T4", gpuMilli: 500))   // CPU-only: share and model ignored
        t.observe(ResourceRequest(cpus: 2, gpus: 1, gpuModel: "T4", gpuMilli: 500))
        // Ties (1000 each) ordered by (GPUs, share, CPUs).
        #expect(Self.summary(t.profile()) == ["4c/0g/1000/-/8G:2000", "1c/0g/1000/-/0G:1000", "8c/0g/1000/-/0G:1000",
                                               "2c/1g/500/T4/0G:1000"])
    }

    @Test func weightsHalveEveryDecayEvery() {
        var t = WorkloadTracker(decayEvery: 4, coverage: 100)
        for _ in 0..<3 { t.observe(ResourceRequest(cpus: 1)) }
        t.observe(ResourceRequest(cpus: 2))                        // 4th: 3000, 1000 → 1500, 500
        #expect(Self.summary(t.profile()) == ["1c/0g/1000/-/0G:1500", "2c/0g/1000/-/0G:500"])
        t.observe(ResourceRequest(cpus: 1))                        // 2500
        for _ in 0..<3 { t.observe(ResourceRequest(cpus: 2)) }     // 8th: 2500, 3500 → 1250, 1750
        #expect(Self.summary(t.profile()) == ["2c/0g/1000/-/0G:1750", "1c/0g/1000/-/0G:1250"])
    }

    @Test("a shape halved to 0 disappears")
    func decayedShapesVanish() {
        var t = WorkloadTracker(decayEvery: 1, coverage: 100)
        t.observe(ResourceRequest(cpus: 2))                        // 1000 → 500
        for _ in 0..<8 { t.observe(ResourceRequest(cpus: 1)) }     // B: 250, 125, 62, 31, 15, 7, 3, 1
        #expect(Self.summary(t.profile()) == ["1c/0g/1000/-/0G:996", "2c/0g/1000/-/0G:1"])
        t.observe(ResourceRequest(cpus: 1))                        // A: (996 + 1000) / 2 = 998; B: 0
        #expect(Self.summary(t.profile()) == ["1c/0g/1000/-/0G:998"])
    }

    @Test("coverage cut-off and the maxShapes cap", arguments: [
        (80, 32, 2), (81, 32, 3), (50, 32, 1), (51, 32, 2), (0, 32, 1), (100, 2, 2), (100, 1, 1), (100, 32, 3),
    ])
    func coverageAndCap(coverage: Int, maxShapes: Int, count: Int) {
        // 5000, 3000, 2000 of 10000: A alone covers 50 %, A + B 80 % (a shape is added while covered < coverage).
        var t = WorkloadTracker(coverage: coverage, maxShapes: maxShapes)
        for (cpus, n) in [(4, 2), (1, 5), (2, 3)] { for _ in 0..<n { t.observe(ResourceRequest(cpus: cpus)) } }
        let all = ["1c/0g/1000/-/0G:5000", "2c/0g/1000/-/0G:3000", "4c/0g/1000/-/0G:2000"]
        #expect(Self.summary(t.profile()) == Array(all.prefix(count)))
    }

    /// Profiles from observing `shapes` once each, in every rotation of the list, forwards and backwards.
    static func profilesOverOrders(_ shapes: [ResourceRequest]) -> [[String]] {
        var profiles: [[String]] = []
        for rotation in 0..<shapes.count {
            for reversed in [false, true] {
                var order = Array(shapes[rotation...] + shapes[..<rotation])
                if reversed { order.reverse() }
                var t = WorkloadTracker(coverage: 100)
                for r in order { t.observe(r) }
                profiles.append(Self.summary(t.profile()))
            }
        }
        return profiles
    }

    @Test("profile order does not depend on the order of observations")
    func deterministicOrder() {
        let shapes = [ResourceRequest(cpus: 4, gpus: 1), Self.share(500, cpus: 2), ResourceRequest(cpus: 8),
                      ResourceRequest(cpus: 1), ResourceRequest(cpus: 16, gpus: 2)]
        // Equal weights: ordered by (GPUs, share, CPUs).
        let expected = ["1c/0g/1000/-/0G:1000", "8c/0g/1000/-/0G:1000", "2c/1g/500/-/0G:1000", "4c/1g/1000/-/0G:1000",
                        "16c/2g/1000/-/0G:1000"]
        for p in Self.profilesOverOrders(shapes) { #expect(p == expected) }
    }

    @Test("shapes that differ only in GPU model have a fixed order too")
    func deterministicOrderAcrossModels() {
        let shapes = ["A100", "H100", "L4", "T4", "V100", "A10"].map { ResourceRequest(cpus: 32, gpus: 4, gpuModel: $0) }
        let profiles = Self.profilesOverOrders(shapes)
        #expect(Set(profiles.map { $0.joined(separator: ";") }).count == 1, "orders differ: \(Set(profiles))")
        // With a cap of one shape, which model survives must not depend on chance either.
        var kept: Set<String> = []
        for first in [true, false] {
            for _ in 0..<20 {
                var t = WorkloadTracker(maxShapes: 1)
                for r in first ? shapes : shapes.reversed() { t.observe(r) }
                kept.formUnion(t.profile().shapes.compactMap(\.request.gpuModel))
            }
        }
        #expect(kept.count == 1, "kept: \(kept)")
    }
}

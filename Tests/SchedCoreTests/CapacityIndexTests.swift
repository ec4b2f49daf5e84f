@testable import SchedCore
import Testing
import SchedTestSupport

@Suite("Capacity buckets and the capacity index")
struct CapacityIndexTests {
    @Test("bucket counts and the largest key below match a brute-force count after random moves")
    func bucketsMatchBruteForce() {
        var rng = SplitMix64(seed: 11)
        var buckets = CapacityBuckets(maxKey: 40)
        var keyOf: [Int] = []            // per node, -1 = not filed
        var slot: [Int32] = []
        for step in 0..<3000 {
            if keyOf.count < 60 || rng.chance(40) {
                let k = rng.int(0...45)   // above maxKey clamps to maxKey
                keyOf.append(buckets.clamp(k))
                slot.append(0)
                buckets.insert(Int32(keyOf.count - 1), key: k, slot: &slot[keyOf.count - 1])
            } else {
                let i = rng.int(0...(keyOf.count - 1))
                guard keyOf[i] >= 0 else { continue }
                if let moved = buckets.remove(key: keyOf[i], slot: slot[i]) { slot[Int(moved)] = slot[i] }
                keyOf[i] = -1
            }
            let q = rng.int(0...42)
            let filed = keyOf.filter { $0 >= 0 }
            #expect(buckets.count(atLeast: q) == filed.filter { $0 >= q }.count, "step \(step) q \(q)")
            #expect(buckets.largestKey(below: q) == filed.filter { $0 < q }.max(), "step \(step) q \(q)")
            #expect(buckets.total == filed.count)
        }
        // Every filed node sits in the list of its key, at its slot.
        for (i, k) in keyOf.enumerated() where k >= 0 { #expect(buckets.lists[k][Int(slot[i])].node == Int32(i)) }
    }

    /// A fleet of 48 nodes of six kinds, some drained.
    static func fleet(_ rng: inout SplitMix64) -> [NodeState] {
        var registry = NodeClassRegistry()
        let kinds: [NodeTopology] = [
            TopologyFixture.make(numa: 2, coresPerNUMA: 4, threadsPerCore: 2, gpusPerNUMA: 2, gpuModel: "Tesla V100-SXM2-32GB"),
            TopologyFixture.make(numa: 2, coresPerNUMA: 4, threadsPerCore: 2, gpusPerNUMA: 1, gpuModel: "Tesla T4"),
            TopologyFixture.make(arch: "aarch64", numa: 4, coresPerNUMA: 6, threadsPerCore: 1, memoryPerNUMA: 16 * GiB),
            TopologyFixture.make(numa: 1, coresPerNUMA: 6, threadsPerCore: 2, memoryPerNUMA: 8 * GiB),
            TopologyFixture.kunpeng(),
            TopologyFixture.dgx2(),
        ]
        return (0..<48).map { i in
            registry.node(id: NodeID("n-\(i < 10 ? "0" : "")\(i)"), topology: kinds[rng.int(0...(kinds.count - 1))],
                          schedulable: !rng.chance(8), unschedulableReason: rng.chance(50) ? .draining : .notReady)
        }
    }

    /// The index kept up to date step by step says what an index built afresh says.
    static func sameAsFresh(_ s: ClusterSnapshot) -> Bool {
        let fresh = CapacityIndex(nodes: s.nodes)
        guard fresh.keys == s.index.keys, fresh.unschedulable == s.index.unschedulable,
              fresh.pools.count == s.index.pools.count else { return false }
        for (a, b) in zip(fresh.pools, s.index.pools) {
            guard a.key == b.key, a.live == b.live, a.grid == b.grid else { return false }
            for d in CapacityIndex.Dimension.allCases {
                let (x, y) = (a.buckets(d), b.buckets(d))
                for k in 0...(x.maxKey + 1) where x.count(atLeast: k) != y.count(atLeast: k) { return false }
                // Every entry carries its node's current filed capacity.
                for list in y.lists { for e in list where e.keys != s.index.keys[Int(e.node)] { return false } }
            }
        }
        return true
    }

    @Test("kept up to date through applies, releases and drains; the limited placer places exactly when the exhaustive one does",
          arguments: [1, 2, 3, 4, 5] as [UInt64])
    func incrementalIndexAndCompleteness(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var snapshot = ClusterSnapshot(nodes: Self.fleet(&rng))
        var live: [Assignment] = []
        let limited = Placer(), exhaustive = Placer(candidateLimit: nil)
        var placed = 0, refused = 0
        for step in 0..<400 {
            let roll = rng.int(0...99)
            if roll < 30, !live.isEmpty {
                let a = live.remove(at: rng.int(0...(live.count - 1)))
                snapshot.release(a, fromNodeAt: snapshot.position(of: a.node)!)
            } else if roll < 35 {
                let i = rng.int(0...(snapshot.nodes.count - 1))
                snapshot.setSchedulable(!snapshot.nodes[i].schedulable, reason: .draining, at: i)
            } else {
                let gpus = rng.chance(30) ? rng.int(1...2) : 0
                let r = ResourceRequest(cpus: rng.int(1...12), memoryBytes: Int64(rng.int(0...12)) * GiB, gpus: gpus,
                                        gpuModel: gpus > 0 && rng.chance(30) ? "V100" : nil,
                                        arch: rng.chance(15) ? "aarch64" : nil,
                                        gpuMilli: gpus == 1 && rng.chance(40) ? rng.int(1...9) * 100 : 1000)
                let d = limited.place(r, in: snapshot), full = exhaustive.place(r, in: snapshot)
                switch (d, full) {
                case (.placed(let a, _, let e), .placed(_, let bestScore, _)):
                    let i = snapshot.position(of: a.node)!
                    #expect(limited.check(r, on: snapshot.nodes[i]) == .success(a), "step \(step)")
                    // Same preference tier as the best node anywhere; never better than the best.
                    let allFeasible = snapshot.nodes.filter { limited.check(r, on: $0).isSuccess }
                    let bestTier = allFeasible.map { Placer.tier(r, $0) }.max()!
                    #expect(e.chosen?.tier == bestTier, "step \(step)")
                    let bestInTier = allFeasible.filter { Placer.tier(r, $0) == bestTier }
                        .map { SchedulingPolicy.bestFit.score(r, on: $0) }.max()!
                    #expect(bestScore == bestInTier, "step \(step): exhaustive is not the best")
                    snapshot.apply(a, toNodeAt: i)
                    live.append(a)
                    placed += 1
                case (.unplaceable(let e), .unplaceable):
                    // Nothing fits anywhere, by brute force over every node.
                    #expect(!snapshot.nodes.contains { limited.check(r, on: $0).isSuccess }, "step \(step): a node fits")
                    #expect(e.nodesNotExamined == nil, "step \(step)")
                    #expect(e.rejections.reduce(0) { $0 + $1.nodes } == snapshot.nodes.count, "step \(step)")
                    refused += 1
                default:
                    Issue.record("step \(step): limited \(d) but exhaustive \(full)")
                }
            }
            #expect(Self.sameAsFresh(snapshot), "step \(step): index drifted")
        }
        #expect(placed > 100 && refused > 10)
    }

    @Test("with many fitting nodes the policy ranks the first 8, tightest first, and says how many it skipped")
    func candidateLimit() {
        var registry = NodeClassRegistry()
        let topo = TopologyFixture.make(numa: 1, coresPerNUMA: 8, threadsPerCore: 1)
        var snapshot = ClusterSnapshot(nodes: (0..<20).map { registry.node(id: NodeID("n\($0 < 10 ? "0" : "")\($0)"), topology: topo) })
        // n13 has 2 PUs left: the tightest node for a 2-PU task.
        let filler = Placer().check(ResourceRequest(cpus: 6), on: snapshot.nodes[13])
        guard case .success(let a) = filler else { Issue.record("no pick"); return }
        snapshot.apply(a, toNodeAt: 13)
        guard case .placed(let chosen, _, let e) = Placer().place(ResourceRequest(cpus: 2), in: snapshot) else {
            Issue.record("not placed")
            return
        }
        #expect(chosen.node == "n13")
        #expect(e.nodesFeasible == 8)
        #expect(e.nodesNotExamined == 12)
        #expect(e.summary == "8/20 nodes available; 12 not examined (enough candidates found first)")
        // Exhaustive: every node ranked, same choice.
        guard case .placed(let same, _, let all) = Placer(candidateLimit: nil).place(ResourceRequest(cpus: 2), in: snapshot) else {
            Issue.record("not placed")
            return
        }
        #expect(same == chosen)
        #expect(all.nodesFeasible == 20 && all.nodesNotExamined == nil)
        // Spreading walks loosest first: an empty node, never the tight one.
        guard case .placed(let spread, _, _) = Placer(policy: .leastAllocated).place(ResourceRequest(cpus: 2), in: snapshot) else {
            Issue.record("not placed")
            return
        }
        #expect(spread.node != "n13")
    }

    @Test("a node whose topology changes in place gets usage arrays of the new shape and is re-indexed")
    func topologyChange() {
        var snapshot = ClusterSnapshot(nodes: [TopologyFixture.node("a", TopologyFixture.make(numa: 1, coresPerNUMA: 4))])
        #expect(snapshot.nodes[0].gpuMilliUsed.isEmpty)
        let bigger = TopologyFixture.make(numa: 2, coresPerNUMA: 4, gpusPerNUMA: 1)
        snapshot.modifyNode(at: 0) { $0.topology = bigger }
        #expect(snapshot.nodes[0].gpuMilliUsed == [0, 0])
        #expect(snapshot.nodes[0].usedMemory == [0, 0])
        #expect(Self.sameAsFresh(snapshot))
        guard case .placed(let a, _, _) = Placer().place(ResourceRequest(cpus: 2, memoryBytes: GiB, gpus: 2), in: snapshot) else {
            Issue.record("the new GPUs are not seen")
            return
        }
        snapshot.apply(a, toNodeAt: 0)
        #expect(snapshot.nodes[0].freeGPUCount == 0)
        #expect(Self.sameAsFresh(snapshot))
    }

    @Test("every change through the snapshot's methods moves its version on; reading does not")
    func versionCountsChanges() {
        var snapshot = ClusterSnapshot(nodes: [TopologyFixture.node("a", TopologyFixture.make(numa: 1, coresPerNUMA: 4))])
        #expect(snapshot.version == 0)
        guard case .placed(let a, _, _) = Placer().place(ResourceRequest(cpus: 2), in: snapshot) else { Issue.record("not placed"); return }
        #expect(snapshot.version == 0)
        snapshot.apply(a, toNodeAt: 0)
        let copy = snapshot
        snapshot.release(a, fromNodeAt: 0)
        snapshot.setSchedulable(false, reason: .draining, at: 0)
        snapshot.modifyNode(at: 0) { $0.labels["zone"] = "b" }
        #expect(copy.version == 1)
        #expect(snapshot.version == 4)
    }
}

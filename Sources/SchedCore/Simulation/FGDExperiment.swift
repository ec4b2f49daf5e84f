/// The FGD paper's experiment (Weng et al., USENIX ATC '23, §6; shared/data/SOURCES.md §2):
/// per seed, sort the trace's tasks by name, shuffle them with Go's generator seeded with the
/// seed, append random copies until the GPU demand reaches `ratio` × capacity, then try every
/// task once, in order, skipping what fits nowhere, and record the allocation curve.
public enum FGDExperiment {
    /// The tuned task list for `seed`, and the generator in the state the simulator's scheduling
    /// continues from (it draws Random's picks and tie-breaks from the same stream).
    public static func tunedPods(_ trace: [TracePod], capacityMilli: Int, ratio: Double = 1.3,
                                 seed: Int64) -> (pods: [ShareRequest], rng: GoRandom) {
        var rng = GoRandom(seed: seed)
        _ = rng.int()  // the simulator logs one rand.Int() right after seeding
        let byName = trace.sorted { $0.name < $1.name }
        var order = byName
        rng.shuffle(&order)
        var pods = order.map(\.request)
        var total = pods.reduce(0) { $0 + $1.gpuDemandMilli }
        let target = ratio * Double(capacityMilli)
        guard ratio > 0, !byName.isEmpty, Double(total) < target else { return (pods, rng) }
        while true {
            let copy = byName[rng.intn(byName.count)].request
            // As the simulator does: the stop test adds the copy's per-GPU share, not its total.
            if Double(total + copy.gpuMilli) > target { break }
            total += copy.gpuDemandMilli
            pods.append(copy)
        }
        return (pods, rng)
    }

    /// Tries each task once on `nodes` (which it mutates) and returns the curve.
    public static func replay(_ pods: [ShareRequest], on nodes: inout [ShareNode], scorer: PackingScorer,
                              rng: inout GoRandom) -> AllocationCurve {
        var curve = AllocationCurve(capacityMilli: nodes.reduce(0) { $0 + $1.gpuCount * 1000 })
        curve.arrivedMilli.reserveCapacity(pods.count + 1)
        curve.allocatedMilli.reserveCapacity(pods.count + 1)
        var placer = SharePlacer(scorer: scorer, nodes: nodes)
        var arrived = 0, allocated = 0
        for pod in pods {
            arrived += pod.gpuDemandMilli
            if placer.place(pod, rng: &rng) != nil {
                allocated += pod.gpuDemandMilli
            } else {
                curve.failed += 1
                if arrived <= curve.capacityMilli {
                    let kind = pod.gpus == 0 ? 0 : pod.sharesGPU ? 1 : pod.gpus == 1 ? 2 : pod.gpus == 2 ? 3 : 4
                    curve.failedBeforeFull[kind] += kind == 0 ? 1 : pod.gpuDemandMilli
                }
            }
            if curve.freeAtFull.isEmpty, arrived >= curve.capacityMilli {
                var f = [0, 0]
                for n in placer.nodes {
                    for g in n.gpuFree { if g == 1000 { f[1] += 1000 } else { f[0] += g } }
                }
                curve.freeAtFull = f
            }
            curve.arrivedMilli.append(arrived)
            curve.allocatedMilli.append(allocated)
        }
        nodes = placer.nodes
        return curve
    }

    /// The simulator's node order for equal scores. After tuning, it sorts the nodes by name and
    /// renames node i to `String(format: "%04d-", perm[i]) + name` with `perm = rand.Perm(n)` drawn
    /// from the same generator; ties then go to the smallest name, i.e. the smallest `perm[i]`.
    /// Takes `nodes` sorted by name and returns them in that order (and draws the `Perm`).
    public static func simulatorNodeOrder<T>(_ nodes: [T], rng: inout GoRandom) -> [T] {
        let perm = rng.perm(nodes.count)
        var out = nodes
        for (i, p) in perm.enumerated() { out[p] = nodes[i] }
        return out
    }

    /// One seed of one policy: tune, order the nodes as the simulator does (`simulatorNodeOrder`,
    /// unless `permuteNodes` is false: then ties go to the first node of `nodes`), replay, curve.
    /// `nodes` must be sorted by name. `workload` is FGD's target workload (the original trace,
    /// before tuning).
    public static func run(trace: [TracePod], nodes: [ShareNode], policy: PackingPolicy, seed: Int64,
                           workload: TargetWorkload, ratio: Double = 1.3, permuteNodes: Bool = true) -> AllocationCurve {
        let capacity = nodes.reduce(0) { $0 + $1.gpuCount * 1000 }
        var (pods, rng) = tunedPods(trace, capacityMilli: capacity, ratio: ratio, seed: seed)
        var fleet = permuteNodes ? simulatorNodeOrder(nodes, rng: &rng) : nodes
        return replay(pods, on: &fleet, scorer: PackingScorer(policy: policy, workload: workload), rng: &rng)
    }
}

/// Replays a trace with arrivals and departures (capacity planning): each task arrives at its
/// creation time, waits in a FIFO queue until it fits, runs for (deletion − creation) seconds,
/// then leaves. Placement goes through `SharePlacer` with the chosen policy. Pure: time is the
/// trace's, not a clock.
///
/// On every event time the queue is tried in order; after `maxMissesPerEvent` tasks in a row do
/// not fit, the rest wait for the next event (bounded work per event on long queues).
public struct TimedReplay {
    /// One sample of the fleet over time: the state just before the events at `time`.
    public struct Sample: Sendable, Hashable {
        public var time: Int
        /// Percent of GPU share, CPU and memory held.
        public var gpuUsedPct: Double, cpuUsedPct: Double, memoryUsedPct: Double
        /// Free GPU share on partly used GPUs, in percent of GPU capacity.
        public var partialFreeGPUPct: Double
        /// FGD fragmentation (free GPU share the target workload cannot use), percent of capacity.
        public var fragmentationPct: Double
        public var running: Int, queued: Int
    }

    /// What happened to the tasks, and the samples.
    public struct Result: Sendable {
        public var samples: [Sample] = []
        /// Seconds each started task waited (start − creation).
        public var queueingDelays: [Int] = []
        /// Seconds from creation to finish of each finished task.
        public var completionTimes: [Int] = []
        /// Tasks still queued at the end of the trace, and tasks no node could ever hold.
        public var neverStarted = 0
        public var neverFits = 0
        public var tasks = 0
    }

    public var nodes: [ShareNode]
    public var policy: PackingPolicy
    public var workload: TargetWorkload
    public var sampleEvery: Int
    public var maxMissesPerEvent = 64

    public init(nodes: [ShareNode], policy: PackingPolicy, workload: TargetWorkload, sampleEvery: Int) {
        self.nodes = nodes
        self.policy = policy
        self.workload = workload
        self.sampleEvery = max(1, sampleEvery)
    }

    /// Runs the replay. `progress(done, total)` is called every few thousand tasks.
    public func run(_ trace: [TracePod], progress: ((Int, Int) -> Void)? = nil) -> Result {
        let fleet = nodes
        var result = Result()
        let pods = trace.filter { $0.createdAt != nil }.sorted { ($0.createdAt!, $0.name) < ($1.createdAt!, $1.name) }
        result.tasks = pods.count
        var placer = SharePlacer(scorer: PackingScorer(policy: policy, workload: workload), nodes: fleet)
        placer.preferCPUNodesForCPUTasks = true
        var rng = GoRandom(seed: 1)
        var running = MinHeap()  // (finish time, pod index, node, gpus)
        var placedOn: [Int: (node: Int, gpus: [Int])] = [:]
        var queue: [Int] = []
        var queueHead = 0
        let capacity = (gpu: fleet.reduce(0) { $0 + $1.gpuCount * 1000 }, cpu: fleet.reduce(0) { $0 + $1.cpuMilliCapacity },
                        memory: fleet.reduce(0) { $0 + $1.memoryMiBCapacity })
        let empty = fleet
        func everFits(_ p: ShareRequest) -> Bool { empty.contains { PackingScorer.fits(p, $0) } }

        func sample(at t: Int) {
            var gpuFree = 0, cpuFree = 0, memFree = 0, partial = 0
            var frag = 0.0
            for n in placer.nodes {
                gpuFree += n.gpuFreeTotal
                cpuFree += n.cpuMilliFree
                memFree += n.memoryMiBFree
                for f in n.gpuFree where f > 0 && f < 1000 { partial += f }
                if !workload.isEmpty && n.gpuCount > 0 { frag += GPUFragmentation.amount(of: n, workload: workload) }
            }
            func pct(_ used: Int, _ cap: Int) -> Double { cap > 0 ? Double(used) * 100 / Double(cap) : 0 }
            let g = Double(max(1, capacity.gpu))
            result.samples.append(Sample(time: t, gpuUsedPct: pct(capacity.gpu - gpuFree, capacity.gpu),
                                         cpuUsedPct: pct(capacity.cpu - cpuFree, capacity.cpu),
                                         memoryUsedPct: pct(capacity.memory - memFree, capacity.memory),
                                         partialFreeGPUPct: Double(partial) * 100 / g, fragmentationPct: frag * 100 / g,
                                         running: running.count, queued: queue.count - queueHead))
        }

        var next = 0
        var nextSample = pods.first?.createdAt ?? 0
        while next < pods.count || !running.isEmpty {
            let tArrive = next < pods.count ? pods[next].createdAt! : Int.max
            let tLeave = running.peek?.finish ?? Int.max
            let now = min(tArrive, tLeave)
            while nextSample <= now && nextSample != Int.max {
                sample(at: nextSample)
                nextSample += sampleEvery
            }
            // Departures first, then arrivals, then the queue.
            while let top = running.peek, top.finish == now {
                _ = running.pop()
                if let (i, gpus) = placedOn.removeValue(forKey: top.pod) {
                    placer.release(pods[top.pod].request, node: i, gpus: gpus)
                }
                result.completionTimes.append(now - pods[top.pod].createdAt!)
            }
            while next < pods.count && pods[next].createdAt! == now {
                if everFits(pods[next].request) { queue.append(next) } else { result.neverFits += 1 }
                next += 1
                if next % 2000 == 0 { progress?(next, pods.count) }
            }
            var misses = 0, k = queueHead
            var keep: [Int] = []
            while k < queue.count {
                let p = queue[k]
                k += 1
                if misses >= maxMissesPerEvent { keep.append(p); continue }
                if let (i, gpus) = placer.place(pods[p].request, rng: &rng) {
                    placedOn[p] = (i, gpus)
                    result.queueingDelays.append(now - pods[p].createdAt!)
                    let runFor = max(1, (pods[p].deletedAt ?? now + 1) - pods[p].createdAt!)
                    running.push(.init(finish: now + runFor, pod: p))
                    misses = 0
                } else {
                    keep.append(p)
                    misses += 1
                }
            }
            queue = keep
            queueHead = 0
            if next >= pods.count && running.isEmpty { break }
        }
        sample(at: nextSample)
        result.neverStarted = queue.count
        progress?(pods.count, pods.count)
        return result
    }

    /// A binary min-heap of running tasks by finish time.
    struct MinHeap {
        struct Entry { var finish: Int; var pod: Int }
        var items: [Entry] = []
        var isEmpty: Bool { items.isEmpty }
        var count: Int { items.count }
        var peek: Entry? { items.first }
        mutating func push(_ e: Entry) {
            items.append(e)
            var i = items.count - 1
            while i > 0 {
                let p = (i - 1) / 2
                if items[p].finish <= items[i].finish { break }
                items.swapAt(p, i)
                i = p
            }
        }
        mutating func pop() -> Entry? {
            guard !items.isEmpty else { return nil }
            let top = items[0]
            let last = items.removeLast()
            if !items.isEmpty {
                items[0] = last
                var i = 0
                while true {
                    let l = 2 * i + 1, r = l + 1
                    var m = i
                    if l < items.count && items[l].finish < items[m].finish { m = l }
                    if r < items.count && items[r].finish < items[m].finish { m = r }
                    if m == i { break }
                    items.swapAt(i, m)
                    i = m
                }
            }
            return top
        }
    }
}

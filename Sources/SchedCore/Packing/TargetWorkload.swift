/// The workload FGD defends: the task shapes a fleet typically receives and how often each comes.
///
/// Built as the FGD paper's simulator builds it: count identical (CPU, GPU share, GPU count, GPU
/// models) shapes, most popular first, keep shapes until they cover `coverage` percent of tasks
/// (CPU-only tasks included), and renormalise their frequencies to sum to 1.
public struct TargetWorkload: Sendable {
    /// One shape and its frequency (0...1).
    public struct Shape: Sendable, Hashable {
        public var request: ShareRequest
        public var frequency: Double
    }
    public private(set) var shapes: [Shape]
    /// The distinct CPU requests of the shapes, ascending: fragmentation depends on a node's free
    /// CPU only through which of them fit.
    public private(set) var cpuThresholds: [Int]

    public init(shapes: [Shape]) {
        self.shapes = shapes
        cpuThresholds = Array(Set(shapes.map(\.request.cpuMilli))).sorted()
    }

    /// The popular shapes among `tasks` covering `coverage` percent of them.
    public init(tasks: [ShareRequest], coverage: Double = 95) {
        struct Key: Hashable { var cpu: Int, milli: Int, gpus: Int, models: [String] }
        var counts: [Key: Int] = [:]
        for t in tasks { counts[Key(cpu: t.cpuMilli, milli: t.gpuMilli, gpus: t.gpus, models: t.gpuModels), default: 0] += 1 }
        // Most popular first; equal counts: larger CPU, then share, then GPUs, then models first.
        let sorted = counts.sorted { a, b in
            if a.value != b.value { return a.value > b.value }
            let l = (a.key.cpu, a.key.milli, a.key.gpus), r = (b.key.cpu, b.key.milli, b.key.gpus)
            if l != r { return l > r }
            return a.key.models.joined(separator: "|") > b.key.models.joined(separator: "|")
        }
        let total = Double(tasks.count)
        var kept: [(Key, Int)] = []
        var covered = 0.0
        for (k, v) in sorted where kept.isEmpty || covered < coverage * total / 100 {
            kept.append((k, v))
            covered += Double(v)
        }
        self.init(shapes: kept.map { k, v in
            Shape(request: ShareRequest(cpuMilli: k.cpu, gpus: k.gpus, gpuMilli: k.milli, gpuModels: k.models),
                  frequency: Double(v) / covered)
        })
    }

    public var isEmpty: Bool { shapes.isEmpty }}

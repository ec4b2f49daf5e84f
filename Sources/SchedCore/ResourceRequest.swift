/// What one task of a job needs from a single node.
public struct ResourceRequest: Sendable, Codable, Hashable {
    /// Processing units (hardware threads), as Slurm's `--cpus-per-task` counts them. At least 1.
    public var cpus: Int
    /// Memory in bytes; 0 reserves none (best effort), the task is still bound to its NUMA nodes.
    public var memoryBytes: Int64
    /// Whole GPUs.
    public var gpus: Int
    /// Required GPU model: a case-insensitive substring of the model name (`V100`, `T4`).
    public var gpuModel: String?
    /// Required CPU architecture (`x86_64`, `aarch64`); aliases `arm64` and `amd64` are accepted.
    public var arch: String?
    /// Share of each GPU in thousandths (1...1000). Below 1000 the task shares one GPU with
    /// others (then `gpus` must be 1); 1000 means whole GPUs.
    public var gpuMilli: Int
    /// Node labels the node must carry, each with exactly this value (like a Kubernetes nodeSelector).
    public var labels: [String: String]

    public init(cpus: Int = 1, memoryBytes: Int64 = 0, gpus: Int = 0, gpuModel: String? = nil, arch: String? = nil,
                gpuMilli: Int = 1000, labels: [String: String] = [:]) {
        self.cpus = cpus
        self.memoryBytes = memoryBytes
        self.gpus = gpus
        self.gpuModel = gpuModel
        self.arch = arch
        self.gpuMilli = gpuMilli
        self.labels = labels
    }

    /// Whether this asks for part of one GPU rather than whole GPUs.
    public var sharesGPU: Bool { gpus > 0 && gpuMilli < 1000 }
    /// Total GPU demand in thousandths of a GPU.
    public var gpuDemandMilli: Int { gpus * gpuMilli }

    enum CodingKeys: String, CodingKey { case cpus, memoryBytes, gpus, gpuModel, arch, gpuMilli, labels }

    /// Omits fields at their defaults (`gpuMilli` 1000, no labels), so older readers and golden
    /// lines see the same JSON as before these fields existed.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(cpus, forKey: .cpus)
        try c.encode(memoryBytes, forKey: .memoryBytes)
        try c.encode(gpus, forKey: .gpus)
        try c.encodeIfPresent(gpuModel, forKey: .gpuModel)
        try c.encodeIfPresent(arch, forKey: .arch)
        if gpuMilli != 1000 { try c.encode(gpuMilli, forKey: .gpuMilli) }
        if !labels.isEmpty { try c.encode(labels, forKey: .labels) }
    }

    /// Decodes with defaults for absent fields, so hand-written JSON may name only what it needs.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        cpus = try c.decodeIfPresent(Int.self, forKey: .cpus) ?? 1
        memoryBytes = try c.decodeIfPresent(Int64.self, forKey: .memoryBytes) ?? 0
        gpus = try c.decodeIfPresent(Int.self, forKey: .gpus) ?? 0
        gpuModel = try c.decodeIfPresent(String.self, forKey: .gpuModel)
        arch = try c.decodeIfPresent(String.self, forKey: .arch)
        gpuMilli = try c.decodeIfPresent(Int.self, forKey: .gpuMilli) ?? 1000
        labels = try c.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
    }

    /// Whether a node's labels satisfy `labels`.
    public func labelsMatch(_ nodeLabels: [String: String]) -> Bool {
        labels.allSatisfy { nodeLabels[$0.key] == $0.value }
    }

    /// Canonical architecture name: `arm64` → `aarch64`, `amd64` → `x86_64`.
    public static func canonicalArch(_ a: String) -> String {
        switch a.lowercased() {
        case "arm64", "aarch64", "armv8", "arm": return "aarch64"
        case "amd64", "x86_64", "x86-64", "x64": return "x86_64"
        case "ppc64le", "power", "ppc64": return a.lowercased() == "ppc64" ? "ppc64" : "ppc64le"
        default: return a.lowercased()
        }
    }

    /// Whether a GPU's model satisfies `gpuModel` (case-insensitive substring).
    public func gpuModelMatches(_ model: String) -> Bool {
        guard let want = gpuModel, !want.isEmpty else { return true }
        return model.lowercased().contains(want.lowercased())
    }
}

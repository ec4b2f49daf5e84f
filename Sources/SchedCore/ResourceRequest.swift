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

    public init(cpus: Int = 1, memoryBytes: Int64 = 0, gpus: Int = 0, gpuModel: String? = nil, arch: String? = nil) {
        self.cpus = cpus
        self.memoryBytes = memoryBytes
        self.gpus = gpus
        self.gpuModel = gpuModel
        self.arch = arch
    }

    enum CodingKeys: String, CodingKey { case cpus, memoryBytes, gpus, gpuModel, arch }

    /// Decodes with defaults for absent fields, so hand-written JSON may name only what it needs.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        cpus = try c.decodeIfPresent(Int.self, forKey: .cpus) ?? 1
        memoryBytes = try c.decodeIfPresent(Int64.self, forKey: .memoryBytes) ?? 0
        gpus = try c.decodeIfPresent(Int.self, forKey: .gpus) ?? 0
        gpuModel = try c.decodeIfPresent(String.self, forKey: .gpuModel)
        arch = try c.decodeIfPresent(String.self, forKey: .arch)
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

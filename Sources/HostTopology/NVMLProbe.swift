import SchedCore
#if canImport(Glibc)
import Glibc
#endif

/// One GPU as NVML reports it at run time.
public struct NVMLDevice: Sendable, Hashable {
    /// NVML device index.
    public var index: Int
    /// Model, e.g. `Tesla V100-SXM2-32GB`.
    public var name: String
    /// Total device memory in bytes.
    public var memoryBytes: Int64
    /// `GPU-xxxxxxxx-...`.
    public var uuid: String
    /// Normalised PCI bus id `dddd:bb:dd.f` (lowercase, 4-digit domain).
    public var pciBusID: String

    public init(index: Int, name: String, memoryBytes: Int64, uuid: String, pciBusID: String) {
        self.index = index
        self.name = name
        self.memoryBytes = memoryBytes
        self.uuid = uuid
        self.pciBusID = pciBusID
    }
}

/// Reads GPUs from NVML, loaded with `dlopen` at run time so that nothing links against the
/// NVIDIA driver. Every failure (no library, no symbol, no driver, no device) yields `[]`.
public enum NVMLProbe {
    /// GPUs NVML reports, in NVML index order; `[]` when NVML is unavailable.
    public static func devices() -> [NVMLDevice] {
        guard let lib = NVMLLibrary.open() else { return [] }
        defer { lib.close() }
        return lib.devices() ?? []
    }

    /// Adds NVML data to hwloc's GPUs matched by PCI bus id (model, memory and UUID from NVML
    /// win when non-empty) and appends NVML GPUs that hwloc did not see, named `nvml<index>`.
    /// `index` is renumbered to the position.
    public static func merge(_ devices: [NVMLDevice], into gpus: [GPUInfo]) -> [GPUInfo] {
        var result = gpus
        let positions = Dictionary(gpus.enumerated().compactMap { i, g in
            g.pciBusID.flatMap(GPUNaming.normalizeBusID).map { ($0, i) }
        }, uniquingKeysWith: { first, _ in first })
        for dev in devices {
            let bus = GPUNaming.normalizeBusID(dev.pciBusID)
            if let bus, let i = positions[bus] {
                if !dev.name.isEmpty { result[i].model = dev.name }
                if dev.memoryBytes > 0 { result[i].memoryBytes = dev.memoryBytes }
                if !dev.uuid.isEmpty { result[i].uuid = dev.uuid }
            } else {
                result.append(GPUInfo(index: result.count, name: "nvml\(dev.index)", vendor: "NVIDIA", model: dev.name,
                                      memoryBytes: dev.memoryBytes, uuid: dev.uuid.isEmpty ? nil : dev.uuid,
                                      pciBusID: bus ?? dev.pciBusID))
            }
        }
        for i in result.indices { result[i].index = i }
        return result
    }
}

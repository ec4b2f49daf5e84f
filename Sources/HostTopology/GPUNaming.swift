import CHwloc
import SchedCore

/// Rules that decide what counts as a GPU and how GPUs are named and ordered.
enum GPUNaming {
    static let nvidiaVendorID: UInt32 = 0x10de
    static let amdVendorID: UInt32 = 0x1002
    static let intelVendorID: UInt32 = 0x8086
    static let osdevGPU = Int32(HWLOC_OBJ_OSDEV_GPU.rawValue)
    static let osdevCoproc = Int32(HWLOC_OBJ_OSDEV_COPROC.rawValue)

    /// OS-device name prefixes in order of preference for `GPUInfo.name`.
    static let prefixes = ["cuda", "nvml", "rsmi", "opencl", "card"]

    /// Whether an OS device stands for a GPU: named cuda*/nvml*/rsmi*/opencl*/card*, of osdev
    /// type GPU or CoProc. OpenCL devices must be GPUs (not CPU devices); DRM `card*` devices
    /// count only on NVIDIA or AMD PCI devices, since server BMC VGA chips expose `card0` too.
    static func isGPUDevice(name: String, osdevType: Int32, openCLType: String?, pciVendor: UInt32?) -> Bool {
        guard osdevType == osdevGPU || osdevType == osdevCoproc, let prefix = prefixes.first(where: { name.hasPrefix($0) }) else { return false }
        switch prefix {
        case "opencl": return openCLType == nil || openCLType == "GPU"
        case "card": return pciVendor == nvidiaVendorID || pciVendor == amdVendorID
        default: return true
        }
    }

    /// Whether a PCI device without a GPU OS device is still a GPU: an NVIDIA VGA (0x0300) or 3D
    /// (0x0302) controller. Vendor 0 (unknown: sysfs dumps that lack the vendor file) is accepted
    /// for those classes too; real devices never report vendor 0. NVSwitches are excluded.
    static func isBareGPU(vendor: UInt32, classID: UInt32, subtype: String?) -> Bool {
        guard subtype != "NVSwitch", classID == 0x0300 || classID == 0x0302 else { return false }
        return vendor == nvidiaVendorID || vendor == 0
    }

    /// Rank of an OS-device name for choosing `GPUInfo.name` (lower is preferred).
    static func namePriority(_ name: String) -> Int {
        prefixes.firstIndex { name.hasPrefix($0) } ?? prefixes.count
    }

    /// Short vendor name from hwloc's `GPUVendor` info, the PCI vendor id or the `PCIVendor` info.
    static func vendor(gpuVendor: String?, pciVendorID: UInt32?, pciVendor: String?) -> String {
        if let v = gpuVendor?.lowercased() {
            if v.contains("nvidia") { return "NVIDIA" }
            if v.contains("advanced micro devices") || v.hasPrefix("amd") { return "AMD" }
            if v.contains("intel") { return "Intel" }
        }
        switch pciVendorID {
        case nvidiaVendorID: return "NVIDIA"
        case amdVendorID: return "AMD"
        case intelVendorID: return "Intel"
        default: return gpuVendor ?? pciVendor ?? "unknown"
        }
    }

    /// GPU order: by PCI bus id (numerically: domain, bus, device, function), GPUs without a bus id
    /// last, ordered by name prefix and number.
    static func sortsBefore(_ a: GPUInfo, _ b: GPUInfo) -> Bool {
        switch (a.pciBusID.flatMap(busKey), b.pciBusID.flatMap(busKey)) {
        case let (ka?, kb?): return ka.lexicographicallyPrecedes(kb)
        case (.some, nil): return true
        case (nil, .some): return false
        case (nil, nil):
            let (pa, pb) = (namePriority(a.name), namePriority(b.name))
            if pa != pb { return pa < pb }
            let (na, nb) = (trailingNumber(a.name), trailingNumber(b.name))
            return na != nb ? na < nb : a.name < b.name
        }
    }

    /// `dddd:bb:dd.f` (any number of hex digits per field) → [domain, bus, device, function].
    static func busKey(_ id: String) -> [UInt64]? {
        let parts = id.split { $0 == ":" || $0 == "." }
        guard parts.count == 4 else { return nil }
        let key = parts.compactMap { UInt64($0, radix: 16) }
        return key.count == 4 ? key : nil
    }

    /// Canonical `dddd:bb:dd.f`: lowercase, domain of at least 4 digits without extra leading zeros
    /// (NVML writes the domain with 8 digits: `00000000:3B:00.0` → `0000:3b:00.0`).
    static func normalizeBusID(_ id: String) -> String? {
        guard let k = busKey(id.trimmingWhitespace) else { return nil }
        return hex(k[0], 4) + ":" + hex(k[1], 2) + ":" + hex(k[2], 2) + "." + String(k[3], radix: 16)
    }

    private static func hex(_ v: UInt64, _ width: Int) -> String {
        let s = String(v, radix: 16)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    /// hwloc's memory-size infos are KiB, written as `16671616` or (newer backends) `16671616KiB`.
    static func bytes(fromKiB text: String) -> Int64? {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        let unit = text.dropFirst(digits.count).trimmingWhitespace
        guard let kib = Int64(digits), ["", "KiB", "kB", "KB"].contains(unit) else { return nil }
        return kib.multipliedReportingOverflow(by: 1024).overflow ? nil : kib * 1024
    }

    static func trailingNumber(_ name: String) -> Int {
        Int(String(name.reversed().prefix { $0.isNumber }.reversed())) ?? -1
    }
}

extension StringProtocol {
    var trimmingWhitespace: String {
        let chars = Array(self)
        guard let start = chars.firstIndex(where: { !$0.isWhitespace }),
              let end = chars.lastIndex(where: { !$0.isWhitespace }) else { return "" }
        return String(chars[start...end])
    }
}

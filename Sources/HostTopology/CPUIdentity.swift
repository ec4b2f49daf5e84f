import CHwloc
#if canImport(Glibc)
import Glibc
#endif

/// Architecture and CPU model naming, from hwloc infos.
enum CPUIdentity {
    /// `uname -m` spelling of an architecture name: `x86_64`, `aarch64`, `ppc64le`, else lowercased.
    static func normalizeArch(_ raw: String) -> String {
        let a = raw.lowercased()
        switch a {
        case "x86_64", "amd64", "x64": return "x86_64"
        case "aarch64", "arm64", "armv8", "armv8l": return "aarch64"
        case "ppc64le", "ppc64el", "powerpc64le": return "ppc64le"
        default: return a
        }
    }

    /// Guesses the architecture from package infos when the root has no `Architecture` info.
    static func inferArch(vendor: String?, model: String?, implementer: String?) -> String? {
        if let vendor, ["GenuineIntel", "AuthenticAMD", "HygonGenuine", "CentaurHauls"].contains(vendor) {
            return "x86_64"
        }
        if implementer != nil { return "aarch64" }
        if let model, model.hasPrefix("POWER") { return "ppc64le" }
        return nil
    }

    /// Marketing names for Arm (implementer, part) pairs that appear on servers.
    static func armModel(implementer: String, part: String?) -> String? {
        guard let part, let imp = parseHex(implementer), let p = parseHex(part) else { return nil }
        let known: [UInt32: [UInt32: String]] = [
            0x48: [0xd01: "Kunpeng 920"],
            0x41: [0xd0c: "Neoverse-N1", 0xd40: "Neoverse-V1", 0xd49: "Neoverse-N2", 0xd4f: "Neoverse-V2",
                   0xd85: "Cortex-X925", 0xd87: "Cortex-A725"],
            0xc0: [0xac3: "Ampere-1", 0xac4: "Ampere-1a"],
        ]
        return known[imp]?[p] ?? "Arm implementer \(implementer) part \(part)"
    }

    static func parseHex(_ s: String) -> UInt32? {
        let t = s.lowercased().hasPrefix("0x") ? String(s.dropFirst(2)) : s
        return UInt32(t, radix: 16)
    }

    /// `uname -m` of this machine.
    static func unameMachine() -> String? {
        var u = utsname()
        guard uname(&u) == 0 else { return nil }
        return withUnsafeBytes(of: &u.machine) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}

extension HwlocTopology {
    /// Normalised architecture: root `Architecture` info, else inferred from CPU infos, else
    /// (host only) `uname -m`, else `unknown`.
    func arch(isHost: Bool) -> String {
        if let a = Self.info(root, "Architecture") { return CPUIdentity.normalizeArch(a) }
        let pkg = objects(HWLOC_OBJ_PACKAGE).first
        let info = { (name: String) in pkg.flatMap { Self.info($0, name) } ?? Self.info(self.root, name) }
        if let a = CPUIdentity.inferArch(vendor: info("CPUVendor"), model: info("CPUModel"),
                                         implementer: info("CPUImplementer")) {
            return a
        }
        if isHost, let m = CPUIdentity.unameMachine() { return CPUIdentity.normalizeArch(m) }
        return "unknown"
    }

    /// The first package's `CPUModel`, else a name from its Arm implementer/part, else nil.
    func cpuModel() -> String? {
        let pkg = objects(HWLOC_OBJ_PACKAGE).first
        let info = { (name: String) in pkg.flatMap { Self.info($0, name) } ?? Self.info(self.root, name) }
        if let model = info("CPUModel") { return model }
        if let implementer = info("CPUImplementer") {
            return CPUIdentity.armModel(implementer: implementer, part: info("CPUPart"))
        }
        return nil
    }
}

import CNuma
import SchedCore

/// Free memory per NUMA node of the running host, from libnuma.
public enum NUMAMemoryProbe {
    /// Free bytes keyed by NUMA node OS index; empty when libnuma reports NUMA as unavailable.
    public static func freeBytes() -> [Int: Int64] {
        guard numa_available() >= 0 else { return [:] }
        var result: [Int: Int64] = [:]
        let maxNode = numa_max_node()
        guard maxNode >= 0 else { return [:] }
        for node in 0...maxNode {
            var free: Int64 = 0
            if numa_node_size64(node, &free) >= 0 { result[Int(node)] = free }
        }
        return result
    }
}

/// Conversions between `NUMASet` and libnuma's `struct bitmask`.
enum NUMABitmask {
    /// Members of a libnuma bitmask; frees it when `consume` is true.
    static func set(_ mask: UnsafeMutablePointer<bitmask>?, consume: Bool) -> NUMASet {
        guard let mask else { return NUMASet() }
        defer { if consume { numa_bitmask_free(mask) } }
        var result = NUMASet()
        for i in 0..<UInt32(clamping: mask.pointee.size) where numa_bitmask_isbitset(mask, i) != 0 {
            result.insert(Int(i))
        }
        return result
    }

    /// NUMA nodes this process may allocate from (`Mems_allowed`), nil when libnuma is unavailable.
    static func memsAllowed() -> NUMASet? {
        guard numa_available() >= 0 else { return nil }
        return set(numa_get_mems_allowed(), consume: true)
    }
}

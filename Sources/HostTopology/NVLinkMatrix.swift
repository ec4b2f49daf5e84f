import CHwloc

extension HwlocTopology {
    /// GPU×GPU NVLink bandwidth (MB/s) from hwloc's `NVLinkBandwidth` distances, indexed like
    /// `gpus`; nil when the topology has no such matrix or it names none of the GPUs.
    ///
    /// When GPUs reach each other through NVSwitches, hwloc's MERGE_SWITCH_PORTS and
    /// TRANSITIVE_CLOSURE transforms also turn GPU↔switch links into GPU↔GPU bandwidth (the larger of
    /// the direct and the switched value is kept). Entries involving non-GPU objects (switches,
    /// CPUs) are dropped; the diagonal is 0.
    func nvlinkBandwidth(_ found: DiscoveredGPUs) -> [[Int64]]? {
        let n = found.gpus.count
        guard n > 0 else { return nil }
        var count: UInt32 = 0
        guard hwloc_distances_get_by_name(handle, "NVLinkBandwidth", &count, nil, 0) == 0, count > 0 else { return nil }
        var list = [UnsafeMutablePointer<hwloc_distances_s>?](repeating: nil, count: Int(count))
        guard hwloc_distances_get_by_name(handle, "NVLinkBandwidth", &count, &list, 0) == 0 else { return nil }
        let fetched = list.prefix(Int(count)).compactMap { $0 }
        defer { for d in fetched { hwloc_distances_release(handle, d) } }
        guard let dist = fetched.first else { return nil }

        var matrix = [[Int64]](repeating: [Int64](repeating: 0, count: n), count: n)
        guard accumulate(dist, found, into: &matrix) else { return nil }
        // hwloc 2.9's closure zeroes matrices that have no switch, so only apply it with NVSwitches.
        if hasNVSwitch(dist),
           hwloc_distances_transform(handle, dist, HWLOC_DISTANCES_TRANSFORM_MERGE_SWITCH_PORTS, nil, 0) == 0,
           hwloc_distances_transform(handle, dist, HWLOC_DISTANCES_TRANSFORM_TRANSITIVE_CLOSURE, nil, 0) == 0 {
            _ = accumulate(dist, found, into: &matrix)
        }
        return matrix
    }

    /// Folds the GPU↔GPU entries of `dist` into `matrix` (keeping the larger value); false when
    /// no object of `dist` is one of the GPUs.
    private func accumulate(_ dist: UnsafeMutablePointer<hwloc_distances_s>, _ found: DiscoveredGPUs,
                            into matrix: inout [[Int64]]) -> Bool {
        let size = Int(dist.pointee.nbobjs)
        let positions: [Int?] = (0..<size).map { i in
            dist.pointee.objs[i].flatMap { found.positionByObject[$0.pointee.gp_index] }
        }
        guard positions.contains(where: { $0 != nil }) else { return false }
        for i in 0..<size {
            guard let a = positions[i] else { continue }
            for j in 0..<size {
                guard let b = positions[j], a != b else { continue }
                matrix[a][b] = max(matrix[a][b], Int64(clamping: dist.pointee.values[i * size + j]))
            }
        }
        return true
    }

    private func hasNVSwitch(_ dist: UnsafeMutablePointer<hwloc_distances_s>) -> Bool {
        (0..<Int(dist.pointee.nbobjs)).contains { i in
            dist.pointee.objs[i].map { Self.subtype($0) == "NVSwitch" } ?? false
        }
    }
}

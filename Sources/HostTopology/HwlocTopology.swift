import CHwloc
import SchedCore
#if canImport(Glibc)
import Glibc
#endif

/// A loaded hwloc topology. Owns the `hwloc_topology_t` and destroys it on deinit; neither the
/// handle nor any object pointer leaves this target.
final class HwlocTopology {
    typealias Object = UnsafeMutablePointer<hwloc_obj>

    let handle: hwloc_topology_t

    init(_ source: TopologySource) throws(TopologyError) {
        var topo: hwloc_topology_t?
        guard hwloc_topology_init(&topo) == 0, let topo else {
            throw TopologyError(.initFailed, function: "hwloc_topology_init", errno: TopologyError.currentErrno,
                                context: "cannot initialise hwloc")
        }
        handle = topo  // from here on deinit destroys it, including when configuration throws
        try configure(source)
    }

    deinit { hwloc_topology_destroy(handle) }

    private func configure(_ source: TopologySource) throws(TopologyError) {
        let context: String
        let failure: TopologyError.Code
        switch source {
        case .host:
            context = "cannot discover the host topology"
            failure = .loadFailed
        case .xml(let path):
            context = "cannot load hwloc XML \(path)"
            failure = .xmlLoadFailed
            if access(path, R_OK) != 0 {
                throw TopologyError(failure, function: "access", errno: TopologyError.currentErrno, context: context)
            }
            if hwloc_topology_set_xml(handle, path) != 0 {
                throw TopologyError(failure, function: "hwloc_topology_set_xml", errno: TopologyError.currentErrno,
                                    context: context)
            }
        }
        // Keep PCI devices and OS devices that matter (GPUs, NICs, NVSwitches) for GPU discovery.
        if hwloc_topology_set_io_types_filter(handle, HWLOC_TYPE_FILTER_KEEP_IMPORTANT) != 0 {
            throw TopologyError(.loadFailed, function: "hwloc_topology_set_io_types_filter",
                                errno: TopologyError.currentErrno, context: context)
        }
        if hwloc_topology_load(handle) != 0 {
            throw TopologyError(failure, function: "hwloc_topology_load", errno: TopologyError.currentErrno,
                                context: context)
        }
    }

    // MARK: - Objects

    var root: Object { hwloc_get_root_obj(handle) }

    /// All objects of a normal (non-I/O, non-memory) or special type, in logical order.
    func objects(_ type: hwloc_obj_type_t) -> [Object] {
        var result: [Object] = []
        var obj = hwloc_get_next_obj_by_type(handle, type, nil)
        while let o = obj {
            result.append(o)
            obj = hwloc_get_next_obj_by_type(handle, type, o)
        }
        return result
    }

    /// The nearest ancestor (excluding `obj`) for which `match` holds.
    func ancestor(of obj: Object, where match: (Object) -> Bool) -> Object? {
        var cur = obj.pointee.parent
        while let c = cur {
            if match(c) { return c }
            cur = c.pointee.parent
        }
        return nil
    }

    /// The first non-I/O ancestor of an I/O object, whose cpuset and nodeset give its locality.
    func nonIOAncestor(of obj: Object) -> Object? { hwloc_get_non_io_ancestor_obj(handle, obj) }

    // MARK: - Attributes

    static func info(_ obj: Object, _ name: String) -> String? {
        guard let value = hwloc_obj_get_info_by_name(obj, name) else { return nil }
        let s = String(cString: value)
        return s.isEmpty ? nil : s
    }

    static func name(_ obj: Object) -> String? { obj.pointee.name.map { String(cString: $0) } }
    static func subtype(_ obj: Object) -> String? { obj.pointee.subtype.map { String(cString: $0) } }

    static func cpus(_ obj: Object) -> CPUSet { indices(obj.pointee.cpuset) }
    static func nodes(_ obj: Object) -> NUMASet { indices(obj.pointee.nodeset) }

    /// Members of an hwloc bitmap; an infinite or null bitmap yields the empty set.
    static func indices(_ bitmap: hwloc_const_bitmap_t?) -> IndexSet64 {
        guard let bitmap, hwloc_bitmap_weight(bitmap) > 0 else { return IndexSet64() }
        var set = IndexSet64()
        var i = hwloc_bitmap_first(bitmap)
        while i >= 0 {
            set.insert(Int(i))
            i = hwloc_bitmap_next(bitmap, i)
        }
        return set
    }

    static func isCache(_ obj: Object) -> Bool { hwloc_obj_type_is_cache(obj.pointee.type) != 0 }
    static func cacheLevel(_ obj: Object) -> Int {
        Int(sched_hwloc_cache_depth(obj))
    }
}

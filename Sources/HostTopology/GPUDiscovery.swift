import CHwloc
import SchedCore

/// GPUs found in a loaded topology, with the hwloc objects (by `gp_index`) that stand for each,
/// so that distance matrices can be mapped onto `gpus` positions.
struct DiscoveredGPUs {
    var gpus: [GPUInfo]
    /// `gp_index` of every PCI device and OS device of a GPU → its position in `gpus`.
    var positionByObject: [UInt64: Int]
}

extension HwlocTopology {
    /// Collects GPUs: OS devices named like GPUs (grouped by PCI device, so cuda0 + nvml0 +
    /// opencl0d0 are one GPU) and NVIDIA display/3D PCI devices that have no such OS device.
    func discoverGPUs() -> DiscoveredGPUs {
        var groups: [UInt64: GPUGroup] = [:]
        var order: [UInt64] = []
        func group(for key: UInt64, pci: Object?, anchor: Object) -> UInt64 {
            if groups[key] == nil {
                groups[key] = GPUGroup(pci: pci, anchor: anchor)
                order.append(key)
            }
            return key
        }

        var osdev = hwloc_get_next_osdev(handle, nil)
        while let dev = osdev {
            osdev = hwloc_get_next_osdev(handle, dev)
            let pci = ancestor(of: dev) { $0.pointee.type == HWLOC_OBJ_PCI_DEVICE }
            guard let name = Self.name(dev), GPUNaming.isGPUDevice(
                name: name, osdevType: sched_hwloc_osdev_type(dev),
                openCLType: Self.info(dev, "OpenCLDeviceType"), pciVendor: pci.map { sched_hwloc_pci_vendor($0) })
            else { continue }
            let key = group(for: (pci ?? dev).pointee.gp_index, pci: pci, anchor: pci ?? dev)
            groups[key]?.osdevs.append((name, dev))
        }

        var pcidev = hwloc_get_next_pcidev(handle, nil)
        while let dev = pcidev {
            pcidev = hwloc_get_next_pcidev(handle, dev)
            guard groups[dev.pointee.gp_index] == nil,
                  GPUNaming.isBareGPU(vendor: sched_hwloc_pci_vendor(dev), classID: sched_hwloc_pci_class(dev),
                                      subtype: Self.subtype(dev))
            else { continue }
            _ = group(for: dev.pointee.gp_index, pci: dev, anchor: dev)
        }

        var infos = order.compactMap { groups[$0].map(gpuInfo) }
        let keys = infos.indices.map { order[$0] }
        let sorted = infos.indices.sorted { GPUNaming.sortsBefore(infos[$0], infos[$1]) }
        infos = sorted.enumerated().map { position, i in
            var g = infos[i]
            g.index = position
            return g
        }
        var positions: [UInt64: Int] = [:]
        for (position, i) in sorted.enumerated() {
            guard let g = groups[keys[i]] else { continue }
            positions[keys[i]] = position
            for (_, dev) in g.osdevs { positions[dev.pointee.gp_index] = position }
        }
        return DiscoveredGPUs(gpus: infos, positionByObject: positions)
    }

    private func gpuInfo(_ g: GPUGroup) -> GPUInfo {
        let devs = g.osdevs.sorted { GPUNaming.namePriority($0.name) < GPUNaming.namePriority($1.name) }
        let infos = { (key: String) in devs.lazy.compactMap { Self.info($0.dev, key) }.first }
        let busID = g.pci.flatMap(Self.pciBusID)
        let model = infos("GPUModel") ?? infos("CUDA device name") ?? g.pci.flatMap { Self.info($0, "PCIDevice") } ?? ""
        let kib = infos("CUDAGlobalMemorySize") ?? infos("RSMIVRAMSize") ?? infos("OpenCLGlobalMemorySize")
        let vendor = GPUNaming.vendor(gpuVendor: infos("GPUVendor"), pciVendorID: g.pci.map { sched_hwloc_pci_vendor($0) },
                                      pciVendor: g.pci.flatMap { Self.info($0, "PCIVendor") })
        let local = nonIOAncestor(of: g.anchor)
        return GPUInfo(index: 0, name: devs.first?.name ?? "pci:\(busID ?? "unknown")", vendor: vendor, model: model,
                       memoryBytes: kib.flatMap(GPUNaming.bytes(fromKiB:)) ?? 0,
                       uuid: infos("NVIDIAUUID"), pciBusID: busID,
                       numaNodes: local.map(Self.nodes) ?? NUMASet(), cpus: local.map(Self.cpus) ?? CPUSet())
    }

    static func pciBusID(_ obj: Object) -> String? {
        var buf = [CChar](repeating: 0, count: 32)
        guard sched_hwloc_pci_busid(obj, &buf, UInt(buf.count)) == 0 else { return nil }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// The objects that make up one GPU: its PCI device (when any) and its GPU OS devices.
private struct GPUGroup {
    var pci: HwlocTopology.Object?
    /// The object whose non-I/O ancestor gives locality (the PCI device, else the OS device).
    var anchor: HwlocTopology.Object
    var osdevs: [(name: String, dev: HwlocTopology.Object)] = []
}

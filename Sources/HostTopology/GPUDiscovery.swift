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
        var groups: [GPUGroup] = []
        var groupByKey: [UInt64: Int] = [:]  // gp_index of the PCI device (else OS device) → group

        var osdev = hwloc_get_next_osdev(handle, nil)
        while let dev = osdev {
            osdev = hwloc_get_next_osdev(handle, dev)
            let pci = ancestor(of: dev) { $0.pointee.type == HWLOC_OBJ_PCI_DEVICE }
            guard let name = Self.name(dev), GPUNaming.isGPUDevice(
                name: name, osdevType: sched_hwloc_osdev_type(dev),
                openCLType: Self.info(dev, "OpenCLDeviceType"), pciVendor: pci.map { sched_hwloc_pci_vendor($0) })
            else { continue }
            let anchor = pci ?? dev
            let g = groupByKey[anchor.pointee.gp_index] ?? {
                groups.append(GPUGroup(pci: pci, anchor: anchor))
                groupByKey[anchor.pointee.gp_index] = groups.count - 1
                return groups.count - 1
            }()
            groups[g].osdevs.append((name, dev))
        }

        var pcidev = hwloc_get_next_pcidev(handle, nil)
        while let dev = pcidev {
            pcidev = hwloc_get_next_pcidev(handle, dev)
            guard groupByKey[dev.pointee.gp_index] == nil,
                  GPUNaming.isBareGPU(vendor: sched_hwloc_pci_vendor(dev), classID: sched_hwloc_pci_class(dev),
                                      subtype: Self.subtype(dev))
            else { continue }
            groups.append(GPUGroup(pci: dev, anchor: dev))
        }

        let built = groups.map { (group: $0, info: gpuInfo($0)) }.sorted { GPUNaming.sortsBefore($0.info, $1.info) }
        var gpus: [GPUInfo] = []
        var positions: [UInt64: Int] = [:]
        for (position, entry) in built.enumerated() {
            var info = entry.info
            info.index = position
            gpus.append(info)
            positions[entry.group.anchor.pointee.gp_index] = position
            for (_, dev) in entry.group.osdevs { positions[dev.pointee.gp_index] = position }
        }
        return DiscoveredGPUs(gpus: gpus, positionByObject: positions)
    }

    private func gpuInfo(_ g: GPUGroup) -> GPUInfo {
        let devs = g.osdevs.sorted {
            (GPUNaming.namePriority($0.name), $0.name) < (GPUNaming.namePriority($1.name), $1.name)
        }
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

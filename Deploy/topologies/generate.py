#!/usr/bin/env python3
"""Writes the built-in node descriptions as hwloc 2.x XML (the format Debian's hwloc 2.9 loads).

These are descriptions of node kinds we target, built from published figures, not dumps of real
machines: real nodes are always discovered by sched-agent, never assumed. See docs/fleet-emulation.md.

  python3 Deploy/topologies/generate.py Sources/AgentKit/Topologies

PU numbering follows Linux on SMT machines: first threads of all cores, then second threads.
"""
import sys

GiB = 1 << 30


def bitmap(bits):
    """hwloc bitmap text: 32-bit words, most significant first, comma separated."""
    if not bits:
        return "0x0"
    words = [0] * (max(bits) // 32 + 1)
    for b in bits:
        words[b // 32] |= 1 << (b % 32)
    return ",".join("0x%08x" % w for w in reversed(words))


class Writer:
    def __init__(self):
        self.lines = []
        self.gp = 1

    def gpi(self):
        self.gp += 1
        return self.gp

    def add(self, depth, text):
        self.lines.append("  " * depth + text)


def sets(cpus, nodes):
    c, n = bitmap(cpus), bitmap(nodes)
    return 'cpuset="%s" complete_cpuset="%s" nodeset="%s" complete_nodeset="%s"' % (c, c, n, n)


def machine(name, infos, packages, gpus_per_package, gpu_model, gpu_mem_kib, pci_device_id):
    """packages: list of (numa nodes: list of (numa id, memory bytes, cores: list of list of PUs))."""
    w = Writer()
    all_pus = sorted(p for pkg in packages for (_, _, cores) in pkg for core in cores for p in core)
    all_nodes = sorted(n for pkg in packages for (n, _, _) in pkg)
    w.add(0, '<?xml version="1.0" encoding="UTF-8"?>')
    w.add(0, '<!DOCTYPE topology SYSTEM "hwloc2.dtd">')
    w.add(0, '<topology version="2.0">')
    w.add(1, '<object type="Machine" os_index="0" %s allowed_cpuset="%s" allowed_nodeset="%s" gp_index="1">'
          % (sets(all_pus, all_nodes), bitmap(all_pus), bitmap(all_nodes)))
    for k, v in infos:
        w.add(2, '<info name="%s" value="%s"/>' % (k, v))
    gpu = 0
    bus = 0x10
    core_id = 0
    for pi, pkg in enumerate(packages):
        pkg_pus = sorted(p for (_, _, cores) in pkg for core in cores for p in core)
        pkg_nodes = sorted(n for (n, _, _) in pkg)
        w.add(2, '<object type="Package" os_index="%d" %s gp_index="%d">' % (pi, sets(pkg_pus, pkg_nodes), w.gpi()))
        w.add(3, '<info name="CPUModel" value="%s"/>' % dict(infos)["CPUModel"])
        w.add(3, '<info name="CPUVendor" value="%s"/>' % dict(infos)["CPUVendor"])
        for (nid, mem, cores) in pkg:
            node_pus = sorted(p for core in cores for p in core)
            if len(pkg) > 1:
                # One Group per NUMA node (a chiplet), holding its NUMA node, L3 and cores.
                w.add(3, '<object type="Group" %s gp_index="%d" kind="1000" subkind="0">' % (sets(node_pus, [nid]), w.gpi()))
                d = 4
            else:
                d = 3
            w.add(d, '<object type="NUMANode" os_index="%d" %s gp_index="%d" local_memory="%d">'
                  % (nid, sets(node_pus, [nid]), w.gpi(), mem))
            w.add(d + 1, '<page_type size="4096" count="%d"/>' % (mem // 4096))
            w.add(d, '</object>')
            w.add(d, '<object type="L3Cache" %s gp_index="%d" cache_size="%d" depth="3" cache_linesize="64" cache_associativity="0" cache_type="0">'
                  % (sets(node_pus, [nid]), w.gpi(), 114 * 1024 * 1024))
            for core in cores:
                w.add(d + 1, '<object type="Core" os_index="%d" %s gp_index="%d">' % (core_id, sets(core, [nid]), w.gpi()))
                core_id += 1
                for p in core:
                    w.add(d + 2, '<object type="PU" os_index="%d" %s gp_index="%d"/>' % (p, sets([p], [nid]), w.gpi()))
                w.add(d + 1, '</object>')
            w.add(d, '</object>')
            if len(pkg) > 1:
                w.add(3, '</object>')
        for _ in range(gpus_per_package):
            w.add(3, '<object type="Bridge" gp_index="%d" bridge_type="0-1" depth="0" bridge_pci="0000:[%02x-%02x]">' % (w.gpi(), bus, bus))
            w.add(4, '<object type="PCIDev" gp_index="%d" pci_busid="0000:%02x:00.0" pci_type="0302 [10de:%s] [10de:0000] a1" pci_link_speed="63.015385">'
                  % (w.gpi(), bus, pci_device_id))
            w.add(5, '<info name="PCIVendor" value="NVIDIA Corporation"/>')
            w.add(5, '<object type="OSDev" gp_index="%d" name="cuda%d" osdev_type="5" subtype="CUDA">' % (w.gpi(), gpu))
            w.add(6, '<info name="Backend" value="CUDA"/>')
            w.add(6, '<info name="GPUVendor" value="NVIDIA Corporation"/>')
            w.add(6, '<info name="GPUModel" value="%s"/>' % gpu_model)
            w.add(6, '<info name="CUDAGlobalMemorySize" value="%d"/>' % gpu_mem_kib)
            w.add(6, '<info name="NVIDIAUUID" value="GPU-%08x-0000-4000-8000-%012x"/>' % (0x5e4a0000 + gpu, gpu))
            w.add(5, '</object>')
            w.add(4, '</object>')
            w.add(3, '</object>')
            gpu += 1
            bus += 0x10
        w.add(2, '</object>')
    w.add(1, '</object>')
    w.add(0, '</topology>')
    return "\n".join(w.lines) + "\n"


def vera_rubin_tray():
    cores_per_cpu, cpus = 88, 2
    total_cores = cores_per_cpu * cpus
    packages = []
    for pkg in range(cpus):
        cores = []
        for c in range(cores_per_cpu):
            core = pkg * cores_per_cpu + c
            cores.append([core, core + total_cores])  # Linux: second threads after all first threads
        packages.append([(pkg, 960 * GiB, cores)])
    infos = [("Architecture", "aarch64"), ("CPUModel", "NVIDIA Vera"), ("CPUVendor", "NVIDIA"),
             ("DMIProductName", "Vera Rubin NVL72 compute tray (built-in description, not a dump)")]
    return machine("vera-rubin-tray", infos, packages, 2, "NVIDIA Rubin", 288 * 1000 * 1000 * 1000 // 1024, "2f00")


def graviton_192():
    numa, cores_per_numa = 4, 48
    nodes = []
    for n in range(numa):
        cores = [[n * cores_per_numa + c] for c in range(cores_per_numa)]
        nodes.append((n, 192 * GiB, cores))
    infos = [("Architecture", "aarch64"), ("CPUModel", "Graviton-class 192-core (built-in description)"),
             ("CPUVendor", "Arm"),
             ("DMIProductName", "Graviton-class node, 4 x 48-core NUMA nodes (assumed layout, not a dump)")]
    return machine("graviton-192", infos, [nodes], 0, "", 0, "0000")


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    for name, text in [("vera-rubin-tray", vera_rubin_tray()), ("graviton-192", graviton_192())]:
        with open("%s/%s.xml" % (out, name), "w") as f:
            f.write(text)
        print("wrote %s/%s.xml" % (out, name))

@testable import HostTopology
import SchedCore
import Testing

/// Pure helper rules (bus ids, arch names, GPU classification).
@Suite struct InternalRulesTests {
    @Test func busIDNormalisation() {
        #expect(GPUNaming.normalizeBusID("00000000:3B:00.0") == "0000:3b:00.0")
        #expect(GPUNaming.normalizeBusID("0002:01:00.0") == "0002:01:00.0")
        #expect(GPUNaming.normalizeBusID("00010000:01:00.1") == "10000:01:00.1")
        #expect(GPUNaming.normalizeBusID(" 0000:af:00.0\n") == "0000:af:00.0")
        #expect(GPUNaming.normalizeBusID("garbage") == nil)
    }

    @Test func memoryInfoParsing() {
        #expect(GPUNaming.bytes(fromKiB: "16671616") == Int64(17_071_734_784))
        #expect(GPUNaming.bytes(fromKiB: "33538048KiB") == Int64(34_342_961_152))
        #expect(GPUNaming.bytes(fromKiB: "12 MB") == nil)
        #expect(GPUNaming.bytes(fromKiB: "") == nil)
    }

    @Test func archNormalisation() {
        #expect(CPUIdentity.normalizeArch("amd64") == "x86_64")
        #expect(CPUIdentity.normalizeArch("arm64") == "aarch64")
        #expect(CPUIdentity.normalizeArch("ppc64le") == "ppc64le")
        #expect(CPUIdentity.normalizeArch("RISCV64") == "riscv64")
        #expect(CPUIdentity.inferArch(vendor: "AuthenticAMD", model: nil, implementer: nil) == "x86_64")
        #expect(CPUIdentity.inferArch(vendor: nil, model: nil, implementer: "0x48") == "aarch64")
        #expect(CPUIdentity.inferArch(vendor: nil, model: "POWER9, altivec supported", implementer: nil) == "ppc64le")
        #expect(CPUIdentity.inferArch(vendor: nil, model: nil, implementer: nil) == nil)
        #expect(CPUIdentity.armModel(implementer: "0x48", part: "0xd01") == "Kunpeng 920")
    }

    @Test func gpuClassification() {
        let gpu = GPUNaming.osdevGPU, coproc = GPUNaming.osdevCoproc
        #expect(GPUNaming.isGPUDevice(name: "nvml0", osdevType: gpu, openCLType: nil, pciVendor: 0x10de))
        #expect(GPUNaming.isGPUDevice(name: "rsmi1", osdevType: gpu, openCLType: nil, pciVendor: 0x1002))
        #expect(!GPUNaming.isGPUDevice(name: "opencl0d2", osdevType: coproc, openCLType: "CPU", pciVendor: nil))
        #expect(!GPUNaming.isGPUDevice(name: "card0", osdevType: gpu, openCLType: nil, pciVendor: 0x1a03))  // ASPEED
        #expect(!GPUNaming.isGPUDevice(name: "controlD64", osdevType: gpu, openCLType: nil, pciVendor: 0x10de))
        #expect(!GPUNaming.isGPUDevice(name: "eth0", osdevType: 2, openCLType: nil, pciVendor: nil))
        #expect(GPUNaming.isBareGPU(vendor: 0x10de, classID: 0x0302, subtype: nil))
        #expect(!GPUNaming.isBareGPU(vendor: 0x10de, classID: 0x0680, subtype: "NVSwitch"))
        #expect(!GPUNaming.isBareGPU(vendor: 0x102b, classID: 0x0300, subtype: nil))  // Matrox BMC VGA
    }

    @Test func matrixPadding() {
        #expect(TopologyDiscovery.padded(nil, to: 3) == nil)
        #expect(TopologyDiscovery.padded([[0, 5], [5, 0]], to: 3) == [[0, 5, 0], [5, 0, 0], [0, 0, 0]])
    }
}

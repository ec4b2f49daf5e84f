#if canImport(Glibc)
import Glibc
#endif

/// The handful of NVML entry points the probe needs, resolved with `dlsym`.
///
/// C layouts used (from nvml.h, stable since NVML 5):
/// - `nvmlMemory_t { unsigned long long total, free, used; }` (24 bytes)
/// - `nvmlPciInfo_t { char busIdLegacy[16]; unsigned int domain, bus, device, pciDeviceId,
///   pciSubSystemId; char busId[32]; }` (68 bytes; `busId` at offset 36)
struct NVMLLibrary {
    typealias Device = OpaquePointer
    typealias Init = @convention(c) () -> Int32
    typealias Shutdown = @convention(c) () -> Int32
    typealias GetCount = @convention(c) (UnsafeMutablePointer<UInt32>) -> Int32
    typealias GetHandle = @convention(c) (UInt32, UnsafeMutablePointer<Device?>) -> Int32
    typealias GetString = @convention(c) (Device, UnsafeMutablePointer<CChar>, UInt32) -> Int32
    typealias GetStruct = @convention(c) (Device, UnsafeMutableRawPointer) -> Int32

    static let success: Int32 = 0
    static let stringBufferSize = 96  // NVML_DEVICE_NAME_V2_BUFFER_SIZE, NVML_DEVICE_UUID_V2_BUFFER_SIZE
    static let pciInfoSize = 68
    static let pciBusIDOffset = 36
    static let pciBusIDSize = 32

    let handle: UnsafeMutableRawPointer
    let initialize: Init
    let shutdown: Shutdown?
    let getCount: GetCount
    let getHandle: GetHandle
    let getName: GetString
    let getUUID: GetString
    let getMemory: GetStruct
    let getPCI: GetStruct

    /// dlopens libnvidia-ml and resolves every symbol; nil when any step fails.
    static func open() -> NVMLLibrary? {
        guard let h = dlopen("libnvidia-ml.so.1", RTLD_NOW) ?? dlopen("libnvidia-ml.so", RTLD_NOW) else { return nil }
        func sym<T>(_ name: String, _: T.Type) -> T? {
            dlsym(h, name).map { unsafeBitCast($0, to: T.self) }
        }
        guard let initialize = sym("nvmlInit_v2", Init.self),
              let getCount = sym("nvmlDeviceGetCount_v2", GetCount.self),
              let getHandle = sym("nvmlDeviceGetHandleByIndex_v2", GetHandle.self),
              let getName = sym("nvmlDeviceGetName", GetString.self),
              let getUUID = sym("nvmlDeviceGetUUID", GetString.self),
              let getMemory = sym("nvmlDeviceGetMemoryInfo", GetStruct.self),
              let getPCI = sym("nvmlDeviceGetPciInfo_v3", GetStruct.self)
        else {
            dlclose(h)
            return nil
        }
        return NVMLLibrary(handle: h, initialize: initialize, shutdown: sym("nvmlShutdown", Shutdown.self),
                           getCount: getCount, getHandle: getHandle, getName: getName, getUUID: getUUID,
                           getMemory: getMemory, getPCI: getPCI)
    }

    func close() { dlclose(handle) }

    /// Every device NVML reports; nil when NVML does not initialise or any query fails.
    func devices() -> [NVMLDevice]? {
        guard initialize() == Self.success else { return nil }
        defer { _ = shutdown?() }
        var count: UInt32 = 0
        guard getCount(&count) == Self.success else { return nil }
        var result: [NVMLDevice] = []
        for i in 0..<count {
            guard let dev = device(at: i) else { return nil }
            result.append(dev)
        }
        return result
    }

    private func device(at index: UInt32) -> NVMLDevice? {
        var handle: Device?
        guard getHandle(index, &handle) == Self.success, let handle,
              let name = string(getName, handle), let uuid = string(getUUID, handle),
              let memory = total(handle), let bus = busID(handle) else { return nil }
        return NVMLDevice(index: Int(index), name: name, memoryBytes: memory, uuid: uuid,
                          pciBusID: GPUNaming.normalizeBusID(bus) ?? bus.lowercased())
    }

    private func string(_ call: GetString, _ dev: Device) -> String? {
        var buf = [CChar](repeating: 0, count: Self.stringBufferSize)
        guard call(dev, &buf, UInt32(buf.count)) == Self.success else { return nil }
        buf[buf.count - 1] = 0
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private func total(_ dev: Device) -> Int64? {
        var mem: (UInt64, UInt64, UInt64) = (0, 0, 0)  // total, free, used
        let rc = withUnsafeMutableBytes(of: &mem) { getMemory(dev, $0.baseAddress!) }
        return rc == Self.success ? Int64(clamping: mem.0) : nil
    }

    private func busID(_ dev: Device) -> String? {
        // Over-allocated and zeroed so a longer struct in a future driver cannot overrun it.
        let raw = UnsafeMutableRawPointer.allocate(byteCount: 256, alignment: 8)
        defer { raw.deallocate() }
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: 256)
        guard getPCI(dev, raw) == Self.success else { return nil }
        let bytes = UnsafeRawBufferPointer(start: raw + Self.pciBusIDOffset, count: Self.pciBusIDSize)
        let id = String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        return id.isEmpty ? nil : id
    }
}

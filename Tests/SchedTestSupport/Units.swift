/// Byte units for topologies, requests and memory figures in tests.
public let KiB: Int64 = 1 << 10
public let MiB: Int64 = 1 << 20
public let GiB: Int64 = 1 << 30

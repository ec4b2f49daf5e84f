/// Which NVIDIA devices a task may open: its own GPUs (`/dev/nvidiaN`, character major 195,
/// minor N = the GPU's index), `/dev/nvidiactl` (195:255) and everything outside major 195
/// (`/dev/nvidia-uvm` has a major of its own). The other GPUs and `/dev/nvidia-modeset`
/// (195:254) are denied.
public enum GPUDeviceRules {
    public static let nvidiaMajor: UInt32 = 195
    public static let nvidiaCtlMinor = 255

    /// The rules in order, the first that matches deciding (cgroup v2's device filter).
    public static func rules(allowedGPUs: [Int]) -> [DeviceFilter.Rule] {
        [DeviceFilter.Rule(type: .char, major: nvidiaMajor, minor: nvidiaCtlMinor, allow: true)]
            + Set(allowedGPUs).sorted().filter { (0..<nvidiaCtlMinor).contains($0) }
                .map { DeviceFilter.Rule(type: .char, major: nvidiaMajor, minor: $0, allow: true) }
            + [DeviceFilter.Rule(type: .char, major: nvidiaMajor, minor: nil, allow: false)]
    }

    /// cgroup v1's `devices.deny` lines for the same: one per denied minor. A v1 cgroup that allows
    /// everything keeps only exceptions, and `devices.allow` removes an exception only if it is the
    /// same entry, so "deny 195:*, allow 195:N" cannot be said there.
    public static func v1DenyEntries(allowedGPUs: [Int]) -> [String] {
        let allowed = Set(allowedGPUs)
        return (0..<nvidiaCtlMinor).filter { !allowed.contains($0) }.map { "c \(nvidiaMajor):\($0) rwm" }
    }
}

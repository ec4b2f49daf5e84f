#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// This process's own argv, as the kernel shows it to others (`/proc/PID/cmdline`, `ps`).
enum ProcessArguments {
    /// Overwrites every occurrence of `secret` in argv with `x` (as `--join-token SECRET` or
    /// `--join-token=SECRET`), as MySQL does with a password on its command line: from then on
    /// `ps` shows `--join-token xxxx…`. Until then (the agent's first milliseconds) it was visible:
    /// `--join-token-file` and `SCHED_JOIN_TOKEN` never put it there.
    static func overwrite(_ secret: String) {
        let length = secret.utf8.count
        guard length > 0 else { return }
        for i in 0..<Int(CommandLine.argc) {
            guard let arg = CommandLine.unsafeArgv[i] else { continue }
            let bytes = Array(String(cString: arg).utf8)
            var start = 0
            while start + length <= bytes.count {
                if bytes[start..<(start + length)].elementsEqual(secret.utf8) {
                    for j in start..<(start + length) { arg[j] = CChar(UInt8(ascii: "x")) }
                    start += length
                } else {
                    start += 1
                }
            }
        }
    }
}

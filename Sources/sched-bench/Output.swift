#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

func percent(_ x: Double) -> String { "\(rounded(x * 100, 1))%" }
func rounded(_ x: Double, _ places: Int) -> Double {
    var m = 1.0
    for _ in 0..<places { m *= 10 }
    return (x * m).rounded() / m
}
func printErr(_ s: String) {
    var e = StandardError()
    print(s, to: &e)
}
struct StandardError: TextOutputStream {
    mutating func write(_ s: String) { writeToStandardError(s) }
}
private func writeToStandardError(_ s: String) {
    var s = s
    s.withUTF8 { buf in _ = write(2, buf.baseAddress, buf.count) }
}

import Foundation

/// Writes the port atomically so a reader never sees a half-written file.
func writePortFile(_ path: String, _ port: Int) {
    try? "\(port)\n".write(toFile: path, atomically: true, encoding: .utf8)
}

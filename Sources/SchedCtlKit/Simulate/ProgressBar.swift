/// A one-line progress bar for long simulations (written to stderr with a carriage return).
enum ProgressBar {
    static func line(_ done: Int, _ total: Int, label: String, width: Int = 30) -> String {
        let t = max(1, total)
        let filled = min(width, done * width / t)
        return "\r[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            + "] \(done)/\(total) \(label)"
    }
}

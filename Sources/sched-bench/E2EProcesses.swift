import Foundation

/// The processes `sched-bench e2e` starts (schedd, one emulated fleet) and what it reads of them.
struct E2EProcesses {
    let bin: String
    let dir: String
    var schedd: Process?
    var fleet: Process?

    init(bin: String, dir: String) {
        self.bin = bin
        self.dir = dir
    }

    /// schedd's CA certificate and admin token, in the state directory it creates.
    var caFile: String { dir + "/state/ca.pem" }
    var tokenFile: String { dir + "/state/admin.token" }

    mutating func startSchedd(extra: [String] = []) async throws -> Int {
        let portFile = dir + "/port"
        schedd = try spawn("schedd", ["--listen", "127.0.0.1:0", "--state-dir", dir + "/state", "--port-file", portFile,
                                      "--log-level", "warning"] + extra, log: dir + "/schedd.log")
        for _ in 0..<600 {
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8),
               let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) { return port }
            if let p = schedd, !p.isRunning { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw E2EError("schedd did not start; see \(dir)/schedd.log")
    }

    mutating func startFleet(port: Int) throws {
        fleet = try spawn("sched-agent", ["--scheduler", "127.0.0.1:\(port)", "--ca", caFile, "--token-file", tokenFile,
                                          "--fleet", dir + "/fleet.yaml", "--no-exec",
                                          "--stats-file", dir + "/fleet-stats.json", "--work-dir", dir + "/agents",
                                          "--log-level", "warning"], log: dir + "/fleet.log")
    }

    func spawn(_ name: String, _ args: [String], log: String) throws -> Process {
        let path = bin + "/" + name
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw E2EError("\(path) not found: build all products first (swift build -c release)")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let h = FileHandle(forWritingAtPath: log)
        p.standardOutput = h
        p.standardError = h
        p.standardInput = FileHandle.nullDevice
        try p.run()
        return p
    }

    /// The name of a started process that has exited, if any.
    func exited() -> String? {
        if let p = schedd, !p.isRunning { return "schedd" }
        if let p = fleet, !p.isRunning { return "sched-agent --fleet" }
        return nil
    }

    func scheddRSS() -> Int? { schedd.flatMap { Self.status($0.processIdentifier, "VmRSS") } }
    func scheddPeakRSS() -> Int? { schedd.flatMap { Self.status($0.processIdentifier, "VmHWM") } }
    func fleetRSS() -> Int? { fleet.flatMap { Self.status($0.processIdentifier, "VmRSS") } }

    /// A `/proc/PID/status` field in bytes (the file gives kB).
    static func status(_ pid: Int32, _ field: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }.map { $0 * 1024 }
        }
        return nil
    }

    /// The fleet's counters (`--stats-file`), read after stopping it.
    func fleetStats() -> (started: Int, refusedOverlap: Int)? {
        guard let data = FileManager.default.contents(atPath: dir + "/fleet-stats.json"),
              let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let tasks = obj["tasks"] as? [String: Any],
              let started = tasks["started"] as? Int, let overlap = tasks["refusedOverlap"] as? Int else { return nil }
        return (started, overlap)
    }

    /// Stops the fleet (SIGTERM; it writes its final counters) and waits for it.
    mutating func stopFleet() {
        if let p = fleet, p.isRunning {
            p.terminate()
            p.waitUntilExit()
        }
    }

    mutating func stopAll() {
        for p in [fleet, schedd].compactMap({ $0 }) where p.isRunning {
            p.terminate()
            p.waitUntilExit()
        }
        fleet = nil
        schedd = nil
    }
}

import Logging
import SchedNet
import SchedulerKit
import ServiceLifecycle
import ServiceLifecycleTestKit
import Synchronization
import Testing

/// Log lines kept in memory, to see what the service said.
final class CapturedLog: Sendable {
    let lines = Mutex<[String]>([])
    var logger: Logger {
        Logger(label: "test") { _ in CapturingHandler(log: self) }
    }
    struct CapturingHandler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .info
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            log.lines.withLock { $0.append("\(event.message)") }
        }
    }
}

@Suite("schedd: a graceful stop", .timeLimit(.minutes(1)))
struct SchedulerServiceShutdownTests {
    @Test("SIGTERM (graceful shutdown) drains, flushes and returns normally, so schedd exits 0")
    func gracefulShutdownReturnsNormally() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        var config = SchedulerConfig(listen: HostPort(host: "127.0.0.1", port: 0), stateDir: dir.path)
        config.groupCommit = true
        let log = CapturedLog()
        let (ports, listening) = AsyncStream<Int>.makeStream()
        let service = SchedulerService(config: config, logger: log.logger) { listening.yield($0) }
        let outcome: Result<Void, any Error> = await testGracefulShutdown { trigger in
            await withTaskGroup(of: Result<Void, any Error>.self) { group in
                group.addTask {
                    do {
                        try await service.run()
                        return .success(())
                    } catch {
                        return .failure(error)
                    }
                }
                var it = ports.makeAsyncIterator()
                _ = await it.next()
                // The tick loop sleeps between ticks: the stop arrives during a sleep.
                trigger.triggerGracefulShutdown()
                return await group.next()!
            }
        }
        // Before the fix, the tick loop's sleep rethrew CancellationError: run() threw and
        // schedd exited 1, without its final flush and closing line.
        #expect(throws: Never.self) { try outcome.get() }
        let lines = log.lines.withLock { $0 }
        #expect(lines.last == "schedd stopped")
    }
}

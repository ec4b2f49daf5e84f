import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP socket to 127.0.0.1, below TLS: for the tests that check what schedd does with a
/// peer that does not speak TLS, or with a flood of them. Reads wait on the socket (poll), never
/// on a timer.
public final class RawTCP: @unchecked Sendable {
    let fd: Int32

    /// `source`: the local address to connect from (any of 127.0.0.0/8 is this host on Linux),
    /// so a test can be a second peer address.
    public init(port: Int, from source: String? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: \(errno)") }
        if let source {
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            local.sin_addr.s_addr = inet_addr(source)
            let b = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard b == 0 else {
                close(fd)
                throw TestFailure("bind to \(source): errno \(errno)")
            }
        }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let r = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard r == 0 else {
            close(fd)
            throw TestFailure("connect to 127.0.0.1:\(port): errno \(errno)")
        }
    }

    deinit { close(fd) }

    /// Whether the peer has closed (or reset) the connection, without waiting: nothing to read
    /// and no end of stream means it is still open.
    public var isClosedByPeer: Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, 0) > 0 else { return false }
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) <= 0
    }

    public func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard n == bytes.count else { throw TestFailure("send: \(n) of \(bytes.count) bytes, errno \(errno)") }
    }

    /// Everything the peer sends until it closes the connection (or resets it), and how long that
    /// took; nil if it is still open after `limit` (the test's bound, not its synchronisation).
    public func readUntilClosed(limit: Duration = .seconds(20)) async -> (bytes: [UInt8], after: Duration)? {
        let fd = self.fd
        return await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                let start = ContinuousClock.now
                let deadline = start + limit
                var received: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 4096)
                while true {
                    let left = deadline - ContinuousClock.now
                    guard left > .zero else { return continuation.resume(returning: nil) }
                    var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                    let ms = Int32(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1)
                    let ready = poll(&p, 1, ms)
                    if ready < 0, errno == EINTR { continue }
                    if ready == 0 { continue }
                    let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                    if n > 0 {
                        received += buffer[0..<n]
                        continue
                    }
                    // 0: the peer closed; < 0: reset (ECONNRESET), closed as well.
                    return continuation.resume(returning: (received, ContinuousClock.now - start))
                }
            }
        }
    }
}

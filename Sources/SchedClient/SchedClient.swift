import SchedCore
import SchedNet
import SchedProtocol

/// A client connection to schedd (schedctl, sched-bench, the integration tests): handshake, then
/// request/reply.
public struct SchedClient {
    /// Connects (TLS), performs the HELLO/WELCOME handshake with the endpoint's token, then runs `body`.
    public static func with<T>(_ endpoint: SchedEndpoint, _ body: (inout Session) async throws -> T) async throws -> T {
        guard let token = endpoint.token else {
            throw ClientError("no token to present to schedd: pass --token-file, set SCHED_TOKEN or run `schedctl login` "
                + "(schedd writes a cluster-admin token to admin.token in its state directory)", code: .unauthenticated)
        }
        let connection: LineConnection
        do {
            connection = try await LineClient.connect(endpoint.address, tls: endpoint.tls)
        } catch {
            throw ClientError(endpoint.explain(error))
        }
        let address = endpoint.address
        return try await connection.executeThenClose { inbound, outbound in
            var session = Session(lines: inbound.makeAsyncIterator(), outbound: outbound)
            try await session.send(.hello(Hello(role: .client, token: token)))
            switch try await session.next() {
            case .welcome: break
            case .error(let e) where e.code == .unauthenticated:
                throw ClientError("schedd refused the token: \(e.message)\n(use the token in admin.token in schedd's state directory, "
                    + "or one from `schedctl token create`: --token-file, SCHED_TOKEN or `schedctl login`)", code: .unauthenticated)
            case .error(let e): throw ClientError("schedd refused the connection: \(e.message)", code: e.code)
            default: throw ClientError("unexpected handshake reply from \(address)")
            }
            return try await body(&session)
        }
    }

    /// An open, handshaken connection.
    public struct Session {
        var lines: InboundLines.AsyncIterator
        let outbound: LineWriter

        public func send(_ m: Message) async throws { try await outbound.write(LineCodec.encode(m)) }

        /// The next message; PING keepalives are skipped.
        public mutating func next() async throws -> Message {
            while let frame = try await lines.next() {
                guard case .line(let text) = frame else { throw ClientError("reply from schedd too long") }
                let m: Message
                do throws(ErrorReply) { m = try LineCodec.decode(Substring(text)) } catch { throw ClientError("bad reply from schedd: \(error.message)") }
                if case .ping = m { continue }
                return m
            }
            throw ClientError("schedd closed the connection")
        }

        /// Sends a request and returns its reply; an `ERR` reply becomes a thrown `ClientError`, and
        /// so does `ACCEPTED` (a change schedd will make but could not confirm as stored).
        public mutating func request(_ m: Message) async throws -> Message {
            try await send(m)
            let reply = try await next()
            if case .error(let e) = reply { throw ClientError(e.message, code: e.code) }
            if case .accepted(let a) = reply { throw ClientError("\(a.request) accepted but not stored yet: \(a.message)") }
            return reply
        }
    }
}

/// A failed connection or request (schedctl prints it as `schedctl: error: MESSAGE` and exits
/// non-zero on; SchedCtlKit's `CLIError` is this type).
public struct ClientError: Error, CustomStringConvertible {
    public var description: String
    public var code: WireErrorCode?
    public init(_ d: String, code: WireErrorCode? = nil) {
        description = d
        self.code = code
    }
}

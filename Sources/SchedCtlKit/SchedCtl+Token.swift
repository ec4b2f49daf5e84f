import ArgumentParser
import Foundation
import SchedClient
import SchedProtocol

extension SchedCtl {
    /// `schedctl token create|list|revoke`
    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create, list and revoke tokens (cluster admins; tenant admins for their tenant's client tokens).",
            subcommands: [Create.self, List.self, Revoke.self])

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Create a token and print it (shown this once; schedd keeps only its hash).",
                discussion: """
                    --agent: a join token for sched-agent --join-token (single use and 1 h by default).
                    --tenant T --role R: a client token; its jobs run as --user on the nodes (nobody without one).
                    Roles: viewer, submitter, tenant-admin, cluster-admin.
                    """)
            @OptionGroup var connection: ConnectionOptions
            @OptionGroup var output: OutputOptions
            @Flag(help: "A join token for agents.") var agent = false
            @Option(help: "How many agents may join with it (with --agent; default 1).") var uses: Int?
            @Option(help: "The tenant a client token acts for.") var tenant: String?
            @Option(help: "The client token's role: viewer, submitter, tenant-admin, cluster-admin.") var role: String?
            @Option(help: "The Unix user the token's jobs run as on the nodes.") var user: String?
            @Option(help: "Lifetime: 30s, 15m, 2h, 7d (agent tokens: 1h by default; client tokens: no expiry).") var ttl: String?

            func validate() throws {
                if agent {
                    guard tenant == nil, role == nil, user == nil else { throw ValidationError("--agent takes no --tenant, --role or --user") }
                    if let uses, uses < 1 { throw ValidationError("--uses must be at least 1") }
                } else {
                    guard uses == nil else { throw ValidationError("--uses is for --agent tokens") }
                    guard let role else { throw ValidationError("give --agent, or --role (and --tenant) for a client token") }
                    guard let r = Role(rawValue: role) else {
                        throw ValidationError("--role: expected one of \(Role.allCases.map(\.rawValue).joined(separator: ", ")), got '\(role)'")
                    }
                    if r != .clusterAdmin, tenant == nil { throw ValidationError("--role \(role) needs --tenant") }
                }
                if let ttl, Self.seconds(ttl) == nil { throw ValidationError("--ttl: expected a duration such as 30s, 15m, 2h or 7d, got '\(ttl)'") }
            }

            static func seconds(_ text: String) -> Int? {
                let t = text.trimmingCharacters(in: .whitespaces).lowercased()
                guard let unit = t.last, let mult = ["s": 1, "m": 60, "h": 3600, "d": 86_400][unit], let n = Int(t.dropLast()), n > 0 else { return nil }
                return n * mult
            }

            func run() async throws {
                let request = TokenCreate(kind: agent ? "agent" : "client", tenant: tenant, role: role.flatMap(Role.init),
                                          user: user, ttlSeconds: ttl.flatMap(Self.seconds), uses: uses)
                let created: TokenCreated = try await SchedClient.with(try connection.endpoint()) { s in
                    guard case .tokenCreated(let c) = try await s.request(.tokenCreate(request)) else { throw CLIError("unexpected reply to TOKEN_CREATE") }
                    return c
                }
                if output.output == .json { print(LineCodec.json(created, pretty: true)); return }
                print(created.token)
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List tokens (never their secrets).")
            @OptionGroup var connection: ConnectionOptions
            @OptionGroup var output: OutputOptions

            func run() async throws {
                let tokens: [TokenInfo] = try await SchedClient.with(try connection.endpoint()) { s in
                    guard case .tokenList(let l) = try await s.request(.listTokens) else { throw CLIError("unexpected reply to TOKENS") }
                    return l.tokens
                }
                if output.output == .json { print(LineCodec.json(tokens, pretty: true)); return }
                let style = Date.ISO8601FormatStyle()
                func time(_ ms: Int64?) -> String { ms.map { Date(timeIntervalSince1970: Double($0) / 1000).formatted(style) } ?? "-" }
                var table = Table(["ID", "KIND", "TENANT", "ROLE", "USER", "CREATED", "EXPIRES", "USES LEFT", "REVOKED"])
                for t in tokens {
                    table.add(["\(t.id)", t.kind, t.tenant ?? "-", t.role?.rawValue ?? "-", t.user ?? "-", time(t.createdAtMs),
                               time(t.expiresAtMs), t.usesLeft.map(String.init) ?? "-", time(t.revokedAtMs)])
                }
                print(table.render(), terminator: "")
            }
        }

        struct Revoke: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Revoke a token: it is refused from now on.")
            @OptionGroup var connection: ConnectionOptions
            @Argument(help: "The token's id (from `schedctl token list`).") var id: Int64

            func run() async throws {
                try await SchedClient.with(try connection.endpoint()) { s in
                    guard case .ok = try await s.request(.tokenRevoke(TokenRevoke(id: id))) else { throw CLIError("unexpected reply to TOKEN_REVOKE") }
                }
                print("token \(id) revoked")
            }
        }
    }
}

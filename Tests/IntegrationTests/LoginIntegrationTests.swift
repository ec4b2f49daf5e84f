import Foundation
import SchedCore
import SchedProtocol
import Testing
import SchedIntegrationSupport

/// `schedctl login` against the real schedd, then schedctl with nothing but HOME and
/// XDG_CONFIG_HOME in its environment (no flags, no SCHED_* variables).
extension Integration {
@Suite(.serialized)
struct LoginIntegrationTests {
    func mode(_ path: String) -> mode_t? {
        var st = stat()
        return stat(path, &st) == 0 ? st.st_mode & 0o777 : nil
    }

    @Test("login checks the token with schedd and saves address, CA and token (0600 in a 0700 directory); status and jobs then need no flags; a wrong token writes nothing")
    func loginThenNoFlags() async throws {
        let c = try TestCluster()
        defer { c.shutdown() }
        try await c.startSchedd()
        let job = try await c.submit(JobSpec(name: "waits", command: ["true"]))   // no agent: it stays pending
        let env = ["HOME": c.dir + "/home", "XDG_CONFIG_HOME": c.dir + "/xdg"]
        let configDir = c.dir + "/xdg/sched", config = configDir + "/config.toml"
        let server = ["--scheduler", "127.0.0.1:\(c.port)", "--ca", c.caFile]

        // A token schedd does not know: login fails and writes nothing.
        let wrong = c.dir + "/wrong.token"
        try "sched_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n".write(toFile: wrong, atomically: true, encoding: .utf8)
        let (s0, _, err0) = try c.schedctl(["login"] + server + ["--token-file", wrong], onlyEnvironment: env)
        #expect(s0 != 0 && err0.contains("schedd refused the token"), "\(err0)")
        #expect(!FileManager.default.fileExists(atPath: configDir))

        // Before login, nothing says where schedd is.
        let (s1, _, err1) = try c.schedctl(["status"], onlyEnvironment: env)
        #expect(s1 != 0 && err1.contains("no scheduler address") && err1.contains("\(config) does not exist"), "\(err1)")

        let (s2, out2, err2) = try c.schedctl(["login"] + server + ["--token-file", c.tokenFile], onlyEnvironment: env)
        #expect(s2 == 0, "\(err2)")
        #expect(out2.contains("logged in to 127.0.0.1:\(c.port) as role cluster-admin (token admin)"), "\(out2)")
        #expect(out2.contains("saved to \(config), context default"))
        #expect(mode(config) == 0o600 && mode(configDir) == 0o700)
        let text = c.read(config)
        #expect(text.contains(c.read(c.caFile)), "the CA's PEM is inline")
        #expect(text.contains("scheduler = \"127.0.0.1:\(c.port)\"") && text.contains("current-context = \"default\""))
        #expect(text.contains(try c.adminToken()), "the token is in the file")

        let (s3, out3, err3) = try c.schedctl(["status"], onlyEnvironment: env)
        #expect(s3 == 0, "\(err3)")
        #expect(out3.contains("jobs:            1 pending"), "\(out3)")
        let (s4, out4, err4) = try c.schedctl(["jobs", "-o", "json"], onlyEnvironment: env)
        #expect(s4 == 0, "\(err4)")
        #expect(try JSONDecoder().decode([JobInfo].self, from: Data(out4.utf8)).map(\.id) == [job])

        // A config file others may read is refused until it is 0600 again.
        chmod(config, 0o644)
        let (s5, _, err5) = try c.schedctl(["status"], onlyEnvironment: env)
        #expect(s5 != 0 && err5.contains("has mode 0644") && err5.contains("chmod 600 \(config)"), "\(err5)")
        chmod(config, 0o600)
    }

    @Test("login with the token on standard input into a second context; contexts choose the identity; logout removes the token")
    func contextsAndLogout() async throws {
        let c = try TestCluster()
        defer { c.shutdown() }
        try await c.startSchedd()
        _ = try await c.submit(JobSpec(command: ["true"]))
        guard case .tokenCreated(let viewer) = try await c.request(.tokenCreate(TokenCreate(kind: "client", tenant: "team-a", role: .viewer))) else {
            throw TestFailure("no TOKEN_CREATED")
        }
        let admin = try c.adminToken()
        let env = ["HOME": c.dir + "/home"]   // no XDG_CONFIG_HOME: ~/.config/sched/config.toml
        let config = c.dir + "/home/.config/sched/config.toml"
        let server = ["--scheduler", "127.0.0.1:\(c.port)", "--ca", c.caFile]

        let (s1, _, err1) = try c.schedctl(["login"] + server + ["--token-file", c.tokenFile], onlyEnvironment: env)
        #expect(s1 == 0, "\(err1)")
        // A new context takes the current one's address and CA.
        let (s2, out2, err2) = try c.schedctl(["login", "--context", "team-a"], onlyEnvironment: env, input: viewer.token + "\n")
        #expect(s2 == 0, "\(err2)")
        #expect(out2.contains("as tenant team-a, role viewer (token \(viewer.info.id))"), "\(out2)")
        #expect(!err2.contains(viewer.token) && !out2.contains(viewer.token))
        #expect(mode(config) == 0o600 && mode(c.dir + "/home/.config/sched") == 0o700)

        // The current context is now team-a's viewer, which sees none of the admin's jobs.
        func jobs(_ args: [String] = [], _ extra: [String: String] = [:]) throws -> [JobInfo] {
            let (s, out, err) = try c.schedctl(["jobs", "-o", "json"] + args, onlyEnvironment: env.merging(extra) { $1 })
            guard s == 0 else { throw TestFailure("jobs failed: \(err)") }
            return try JSONDecoder().decode([JobInfo].self, from: Data(out.utf8))
        }
        #expect(try jobs().isEmpty)
        #expect(try jobs(["--context", "default"]).count == 1)
        #expect(try jobs([], ["SCHED_CONTEXT": "default"]).count == 1)
        // The environment still beats the file: the admin token from SCHED_TOKEN.
        #expect(try jobs([], ["SCHED_TOKEN": admin]).count == 1)

        let (s3, out3, _) = try c.schedctl(["logout"], onlyEnvironment: env)
        #expect(s3 == 0 && out3.contains("removed the token of context team-a from \(config)"), "\(out3)")
        #expect(!c.read(config).contains(viewer.token) && c.read(config).contains(admin))
        let (s4, _, err4) = try c.schedctl(["status"], onlyEnvironment: env)
        #expect(s4 != 0 && err4.contains("no token:") && !err4.contains("no scheduler address"), "\(err4)")
        // Logging in again needs only the token: address and CA stay in the context.
        let (s5, _, err5) = try c.schedctl(["login"], onlyEnvironment: env, input: viewer.token)
        #expect(s5 == 0, "\(err5)")
        #expect(try jobs().isEmpty)
    }
}
}

import ArgumentParser
import Foundation
import SchedClient
import SchedNet
import SchedProtocol

extension SchedCtl {
    /// `schedctl login`: checks an address, a CA and a token by connecting, then saves them in
    /// the config file as a context, which becomes the current one.
    struct Login: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a schedd address, CA and token by connecting, then save them in the config file.",
            discussion: """
                The token comes from --token-file FILE, then $SCHED_TOKEN, then standard input (asked for, \
                without echo, on a terminal). --token works too but shows the token to other users in the \
                process list. The address and CA default to $SCHED_SCHEDULER and $SCHED_CA, then to what \
                the context already holds (for a new context, the current one).

                Writes ~/.config/sched/config.toml ($XDG_CONFIG_HOME/sched/config.toml; --config FILE or \
                $SCHED_CONFIG for another) with mode 0600, in a directory created with mode 0700: the \
                address, the CA's PEM and the token, as the context --context NAME (default: the current \
                context, or 'default'), which becomes current. Nothing is written when schedd refuses.
                """)
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            let env = ProcessInfo.processInfo.environment
            func envValue(_ k: String) -> String? { env[k].flatMap { $0.isEmpty ? nil : $0 } }
            let (path, _) = ClientConfigFile.path(flag: connection.configFile.config, environment: env)
            // A file others could read is rewritten with mode 0600, so it is read here unchecked.
            var config = try ClientConfigFile.load(path, checkMode: false) ?? ClientConfig()
            let name = connection.configFile.context ?? envValue("SCHED_CONTEXT") ?? config.currentContext ?? "default"
            // The address and CA the context already holds; a new context starts from the current
            // one's. (The token always comes anew.)
            let previousName = config.contexts[name] == nil ? config.currentContext ?? name : name
            let previous = config.contexts[previousName] ?? ClientContext()
            let dir = (path as NSString).deletingLastPathComponent
            func local(_ file: String) -> String { file.hasPrefix("/") || dir.isEmpty ? file : dir + "/" + file }

            guard let addressText = connection.scheduler ?? envValue("SCHED_SCHEDULER") ?? previous.scheduler else {
                throw CLIError("login needs schedd's address: --scheduler HOST:PORT (or SCHED_SCHEDULER)")
            }
            guard let address = HostPort(addressText) else { throw ValidationError("--scheduler must be HOST:PORT, got '\(addressText)'") }

            let scheddCA = ConnectionSettings.scheddStateDir + "/ca.pem"
            let caSource: String
            if let file = connection.ca ?? envValue("SCHED_CA") {
                caSource = file
            } else if previous.caPEM != nil {
                caSource = "\(path) (context \(previousName))"
            } else if let file = previous.caFile {
                caSource = local(file)
            } else if FileManager.default.fileExists(atPath: scheddCA) {
                caSource = scheddCA
            } else {
                throw CLIError("login needs the CA schedd's certificate is signed by: --ca FILE (schedd's STATE_DIR/ca.pem) or SCHED_CA")
            }
            let inline = connection.ca == nil && envValue("SCHED_CA") == nil ? previous.caPEM : nil
            let caPEM = try inline ?? Self.readCA(caSource)

            let token: String
            if let file = connection.tokenFile {
                token = try SchedEndpoint.readToken(file: file)
            } else if let t = connection.token ?? envValue("SCHED_TOKEN") {
                token = t
            } else {
                token = try TokenInput.read(prompt: "token for \(address): ")
            }

            let endpoint = try SchedEndpoint(address: address, caPEM: caPEM, caSource: caSource, token: token)
            let who: IdentityInfo? = try await SchedClient.with(endpoint) { session in
                do {
                    guard case .identity(let i) = try await session.request(.whoami) else { throw CLIError("unexpected reply to WHOAMI") }
                    return i
                } catch let e as ClientError where e.code == .unknownVerb {
                    // A schedd from before WHOAMI: the token is good if STATUS is answered.
                    _ = try await session.request(.status)
                    return nil
                }
            }

            config.contexts[name] = ClientContext(scheduler: addressText, caPEM: caPEM, token: token)
            config.currentContext = name
            try ClientConfigFile.save(config, to: path, privateDirectory: path == ClientConfigFile.defaultPath(environment: env))
            print("logged in to \(address) as \(who.map(Self.describe) ?? "a principal this schedd does not name (it has no WHOAMI)")")
            print("saved to \(path), context \(name)")
        }

        /// `tenant team-a, role submitter, user alice (token 3)`.
        static func describe(_ i: IdentityInfo) -> String {
            let parts = [i.tenant.map { "tenant \($0)" }, "role \(i.role.rawValue)", i.user.map { "user \($0)" }].compactMap { $0 }
            return parts.joined(separator: ", ") + " (token \(i.token))"
        }

        static func readCA(_ file: String) throws -> String {
            do {
                return try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw CLIError("cannot read the CA file \(file): \(error.localizedDescription)\n"
                    + "(schedd writes ca.pem in its state directory; pass --ca FILE or set SCHED_CA)")
            }
        }
    }

    /// `schedctl logout`: removes the token of a context from the config file.
    struct Logout: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove the token from the config file's context (its address and CA stay, for the next login).")
        @OptionGroup var configFile: ConfigFileOptions

        func run() throws {
            let env = ProcessInfo.processInfo.environment
            let (path, _) = ClientConfigFile.path(flag: configFile.config, environment: env)
            guard var config = try ClientConfigFile.load(path, checkMode: false) else {
                print("not logged in: \(path) does not exist")
                return
            }
            let chosen = configFile.context ?? env["SCHED_CONTEXT"].flatMap { $0.isEmpty ? nil : $0 }
            guard case let (name, context)? = try config.context(named: chosen, path: path) else {
                print("not logged in: \(path) has no context")
                return
            }
            guard context.token != nil || context.tokenFile != nil else {
                print("not logged in: context \(name) in \(path) holds no token")
                return
            }
            config.contexts[name]?.token = nil
            config.contexts[name]?.tokenFile = nil
            try ClientConfigFile.save(config, to: path, privateDirectory: path == ClientConfigFile.defaultPath(environment: env))
            print("logged out: removed the token of context \(name) from \(path)")
        }
    }
}

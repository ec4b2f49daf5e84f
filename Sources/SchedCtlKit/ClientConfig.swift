/// schedctl's client configuration, the file `schedctl login` writes (`~/.config/sched/config.toml`,
/// like a kubeconfig): named contexts, each a schedd address, the CA its certificate must be signed
/// by and a token, and which context is current. The TOML format is in docs/operations.md.
public struct ClientConfig: Sendable, Equatable {
    /// The context used when neither `--context` nor `SCHED_CONTEXT` names one.
    public var currentContext: String?
    public var contexts: [String: ClientContext]

    public init(currentContext: String? = nil, contexts: [String: ClientContext] = [:]) {
        self.currentContext = currentContext
        self.contexts = contexts
    }

    /// The context to use: `name` if given, else the current one, else the only one. Nil when the
    /// file has no context at all; an error when the named one is missing or none is chosen.
    public func context(named name: String?, path: String) throws -> (name: String, context: ClientContext)? {
        if let name = name ?? currentContext {
            guard let c = contexts[name] else {
                let known = contexts.keys.sorted()
                throw CLIError("\(path): no context '\(name)'"
                    + (known.isEmpty ? "" : " (contexts: \(known.joined(separator: ", ")))")
                    + "; `schedctl login --context \(name)` writes it")
            }
            return (name, c)
        }
        if contexts.isEmpty { return nil }
        guard contexts.count == 1, let only = contexts.first else {
            throw CLIError("\(path): \(contexts.count) contexts and no current-context: pass --context NAME or set SCHED_CONTEXT "
                + "(contexts: \(contexts.keys.sorted().joined(separator: ", ")))")
        }
        return (only.key, only.value)
    }
}

/// One cluster in the config file: where schedd is, the CA to trust it by and the token to
/// present. `schedctl login` writes the CA and the token inline; a hand-written file may name
/// files instead (`ca-file`, `token-file`, relative to the config file's directory).
public struct ClientContext: Sendable, Equatable {
    /// `HOST:PORT`.
    public var scheduler: String?
    /// The CA certificate(s), PEM (the key `ca-pem`).
    public var caPEM: String?
    /// A file holding the CA instead (`ca-file`).
    public var caFile: String?
    /// The bearer token; a secret (`token`).
    public var token: String?
    /// A file holding the token instead (`token-file`).
    public var tokenFile: String?

    public init(scheduler: String? = nil, caPEM: String? = nil, caFile: String? = nil, token: String? = nil, tokenFile: String? = nil) {
        self.scheduler = scheduler
        self.caPEM = caPEM
        self.caFile = caFile
        self.token = token
        self.tokenFile = tokenFile
    }
}

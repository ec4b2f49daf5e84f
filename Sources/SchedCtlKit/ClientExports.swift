import SchedClient

/// The error schedctl prints as `schedctl: error: MESSAGE` and exits non-zero on: the client's
/// (connection, request) and the commands' own (spec files, traces).
public typealias CLIError = ClientError

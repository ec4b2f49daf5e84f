/// A job spec that could not be read, with the place and the field it concerns.
///
/// `description` is compiler-style, leaving out the parts that are nil:
/// `job.yaml:7: resources.gpus: expected a whole number, got 'two'`.
public struct JobSpecError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file (or `<spec>`, `<stdin>`) the spec came from.
    public var source: String
    /// 1-based line of the offending value, when known.
    public var line: Int?
    /// 1-based column (in Unicode scalars) of the offending value, when known.
    public var column: Int?
    /// Dotted path of the field concerned (`resources.gpus`, `env`, `command[2]`), when there is one.
    public var field: String?
    /// What is wrong, in words.
    public var message: String

    public init(source: String, line: Int? = nil, column: Int? = nil, field: String? = nil, message: String) {
        self.source = source
        self.line = line
        self.column = column
        self.field = field
        self.message = message
    }

    public var description: String {
        var out = source
        if let line { out += ":\(line)" }
        out += ": "
        if let field { out += "\(field): " }
        return out + message
    }
}

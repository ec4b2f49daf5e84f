import SchedCore
import SchedProtocol
import Yams

/// Scalar readers, key checks and error construction.
extension SpecReader {
    // MARK: Scalars

    /// A scalar as text (numbers and booleans as written); nil when absent (`~`, `null`, nothing).
    func optionalString(_ node: Node, _ field: String) throws(JobSpecError) -> String? {
        if Self.isNull(node) { return nil }
        guard case .scalar(let s) = node else {
            throw fail(node, field, "expected a string, got \(Self.describe(node))")
        }
        return s.string
    }

    func requiredString(_ node: Node, _ field: String) throws(JobSpecError) -> String {
        guard case .scalar(let s) = node, !Self.isNull(node) else {
            throw fail(node, field, "expected a string, got \(Self.describe(node))")
        }
        return s.string
    }

    /// A decimal whole number (quoted or not); nil when absent.
    func optionalInt(_ node: Node, _ field: String) throws(JobSpecError) -> Int? {
        if Self.isNull(node) { return nil }
        guard case .scalar(let s) = node else {
            throw fail(node, field, "expected a whole number, got \(Self.describe(node))")
        }
        let t = Self.trim(s.string).filter { $0 != "_" }
        if let n = Int(t) { return n }
        let digits = t.drop { $0 == "-" || $0 == "+" }
        if !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) {
            throw fail(node, field, "is too large: \(Self.clip(s.string))")
        }
        throw fail(node, field, "expected a whole number, got \(Self.describe(node))")
    }

    // MARK: Keys

    func fieldName(_ keyNode: Node, in parent: String?) throws(JobSpecError) -> String {
        guard case .scalar(let k) = keyNode, !Self.isNull(keyNode) else {
            throw fail(keyNode, parent, "expected a field name, got \(Self.describe(keyNode))")
        }
        return k.string
    }

    func unknownField(_ key: String, _ keyNode: Node, in parent: String?) -> JobSpecError {
        let here = parent == nil ? JobSpecParser.topLevelFields : JobSpecParser.resourceFields
        var message = "unknown field '\(Self.clip(key))'"
        if let s = JobSpecParser.FieldSuggester.suggest(key, among: here) {
            message += " (did you mean '\(s)'?)"
        } else if parent == nil, let s = JobSpecParser.FieldSuggester.suggest(key, among: JobSpecParser.resourceFields) {
            message += " (did you mean 'resources.\(s)'? resource fields go under 'resources:')"
        } else if parent != nil, let s = JobSpecParser.FieldSuggester.suggest(key, among: JobSpecParser.topLevelFields) {
            message += " (did you mean the top-level field '\(s)'?)"
        } else {
            message += "; expected one of \(here.joined(separator: ", "))"
        }
        return fail(keyNode, parent, message)
    }

    // MARK: Errors

    func fail(_ node: Node?, _ field: String?, _ message: String) -> JobSpecError {
        JobSpecError(source: source, line: node?.mark?.line, column: node?.mark?.column, field: field, message: message)
    }

    func yamlError(_ error: any Error, yaml: String) -> JobSpecError {
        guard let y = error as? YamlError else {
            return JobSpecError(source: source, message: "could not read YAML: \(error)")
        }
        func syntax(_ context: YamlError.Context?, _ problem: String, _ mark: Mark) -> JobSpecError {
            if problem == "but found another document" {
                return JobSpecError(source: source, line: mark.line, column: mark.column, message:
                    "a job spec must be a single YAML document, but another one starts here")
            }
            var message = "invalid YAML: \(problem)"
            if let context {
                message += context.mark.line == mark.line
                    ? " (\(context.text))"
                    : " (\(context.text) that starts on line \(context.mark.line))"
            }
            return JobSpecError(source: source, line: mark.line, column: mark.column, message: message)
        }
        switch y {
        case .scanner(let context, let problem, let mark, _),
             .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            return syntax(context, problem, mark)
        case .reader(let problem, let offset, _, _):
            var line: Int?, column: Int?
            if let offset {
                let before = yaml.prefix(offset)
                line = before.reduce(1) { $1 == "\n" ? $0 + 1 : $0 }
                column = before.reversed().prefix { $0 != "\n" }.count + 1
            }
            return JobSpecError(source: source, line: line, column: column, message: "invalid YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let names = duplicates.map { "'\(Self.clip($0))'" }.joined(separator: ", ")
            return JobSpecError(source: source, line: context.mark.line, column: context.mark.column, message:
                "field \(names) is given more than once")
        default:
            return JobSpecError(source: source, message: "could not read YAML: \(y)")
        }
    }
}

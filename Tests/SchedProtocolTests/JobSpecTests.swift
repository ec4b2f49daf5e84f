import Testing
import SchedCore
import SchedProtocol

private struct Problem: Equatable, CustomStringConvertible {
    var field: String
    var message: String
    var description: String { "\(field): \(message)" }
}

private func problems(_ spec: JobSpec) -> [Problem] {
    spec.problems().map { Problem(field: $0.field, message: $0.message) }
}

@Suite("JobSpec.problems()")
struct JobSpecTests {
    static func spec(command: [String] = ["sleep", "1"], cpus: Int = 1, memory: Int64 = 0, gpus: Int = 0,
                     killGrace: Int? = nil, name: String? = nil) -> JobSpec {
        JobSpec(name: name, command: command, resources: ResourceRequest(cpus: cpus, memoryBytes: memory, gpus: gpus),
                killGraceSeconds: killGrace)
    }

    @Test("valid specs have no problems", arguments: [
        spec(),
        spec(cpus: 65536),
        spec(gpus: 4096),
        spec(memory: 0),
        spec(killGrace: 0),
        spec(killGrace: 86400),
        spec(name: String(repeating: "n", count: 200)),
        spec(command: ["/bin/true"], cpus: 1, memory: 1 << 40, gpus: 8, killGrace: 10, name: "ok"),
    ])
    func valid(spec: JobSpec) {
        #expect(spec.problems().isEmpty, "\(spec.problems())")
    }

    @Test("each bad field gives one problem naming it", arguments: [
        (spec(command: []), "command", "must name a program to run"),
        (spec(command: [""]), "command", "must name a program to run"),
        (spec(command: ["", "x"]), "command", "must name a program to run"),
        (spec(cpus: 0), "resources.cpus", "must be at least 1, got 0"),
        (spec(cpus: -3), "resources.cpus", "must be at least 1, got -3"),
        (spec(cpus: 65537), "resources.cpus", "is too large: 65537"),
        (spec(memory: -1), "resources.memory", "must not be negative"),
        (spec(gpus: -1), "resources.gpus", "must not be negative, got -1"),
        (spec(gpus: 4097), "resources.gpus", "is too large: 4097"),
        (spec(killGrace: -1), "kill_grace", "must be between 0 and 86400 seconds"),
        (spec(killGrace: 86401), "kill_grace", "must be between 0 and 86400 seconds"),
        (spec(name: String(repeating: "n", count: 201)), "name", "is longer than 200 characters"),
    ])
    func oneProblem(spec: JobSpec, field: String, message: String) {
        #expect(problems(spec) == [Problem(field: field, message: message)])
    }

    @Test("several bad fields are all reported, in field order")
    func severalProblems() {
        let s = Self.spec(command: [], cpus: 0, memory: -5, gpus: -2, killGrace: 100_000,
                          name: String(repeating: "x", count: 300))
        #expect(problems(s) == [
            Problem(field: "command", message: "must name a program to run"),
            Problem(field: "resources.cpus", message: "must be at least 1, got 0"),
            Problem(field: "resources.memory", message: "must not be negative"),
            Problem(field: "resources.gpus", message: "must not be negative, got -2"),
            Problem(field: "kill_grace", message: "must be between 0 and 86400 seconds"),
            Problem(field: "name", message: "is longer than 200 characters"),
        ])
    }

    @Test("display name: the name, else the command's base name", arguments: [
        (JobSpec(name: "train", command: ["python3"]), "train"),
        (JobSpec(command: ["/usr/bin/python3", "x.py"]), "python3"),
        (JobSpec(command: ["sleep"]), "sleep"),
        (JobSpec(command: []), "job"),
    ])
    func displayName(spec: JobSpec, expected: String) {
        #expect(spec.displayName == expected)
    }
}

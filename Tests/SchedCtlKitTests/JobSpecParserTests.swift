import Foundation
import SchedCore
import SchedProtocol
import Testing
@testable import SchedCtlKit

/// Parses `yaml` expecting an error; records a failure (and returns nil) when it parses.
private func parseError(_ yaml: String, source: String = "job.yaml",
                        sourceLocation: SourceLocation = #_sourceLocation) -> JobSpecError? {
    do {
        let spec = try JobSpecParser.parse(yaml: yaml, source: source)
        Issue.record("expected an error, parsed \(spec)", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

@Suite struct JobSpecParserTests {
    // MARK: Good specs

    @Test func fullSpecParsesIntoTheExactJobSpec() throws {
        let yaml = """
            # a complete spec
            name: train-small
            command: ["python3", "train.py", "--epochs", "3"]
            resources:
              cpus: 4
              memory: 8GiB
              gpus: 1
              gpu_model: V100
              arch: arm64
            env:
              OMP_NUM_THREADS: 4
              DEBUG: true
              RATE: 1.50
              EMPTY: ""
              GREETING: "hello world"
            workdir: /scratch/run1
            kill_grace: 30s
            """
        let spec = try JobSpecParser.parse(yaml: yaml, source: "job.yaml")
        #expect(spec == JobSpec(
            name: "train-small",
            command: ["python3", "train.py", "--epochs", "3"],
            resources: ResourceRequest(cpus: 4, memoryBytes: 8 << 30, gpus: 1, gpuModel: "V100", arch: "aarch64"),
            env: ["OMP_NUM_THREADS": "4", "DEBUG": "true", "RATE": "1.50", "EMPTY": "", "GREETING": "hello world"],
            workdir: "/scratch/run1",
            killGraceSeconds: 30))
    }

    @Test func minimalSpecTakesTheDefaults() throws {
        let spec = try JobSpecParser.parse(yaml: "command: [sleep, 10]\n")
        #expect(spec == JobSpec(command: ["sleep", "10"]))
        #expect(spec.resources == ResourceRequest(cpus: 1, memoryBytes: 0, gpus: 0, gpuModel: nil, arch: nil))
        #expect(spec.name == nil && spec.env.isEmpty && spec.workdir == nil && spec.killGraceSeconds == nil)
    }

    @Test func stringCommandRunsUnderShC() throws {
        let spec = try JobSpecParser.parse(yaml: "command: echo $HOME && ls -l | wc -l\n")
        #expect(spec.command == ["/bin/sh", "-c", "echo $HOME && ls -l | wc -l"])

        let block = try JobSpecParser.parse(yaml: """
            command: |
              set -e
              echo one
            """)
        #expect(block.command == ["/bin/sh", "-c", "set -e\necho one"])
    }

    @Test func blockListCommandAndNumbersAsArguments() throws {
        let spec = try JobSpecParser.parse(yaml: """
            command:
              - python3
              - -c
              - "print(1)"
              - 42
            """)
        #expect(spec.command == ["python3", "-c", "print(1)", "42"])
    }

    @Test(arguments: [
        ("8GiB", Int64(8) << 30),
        ("8G", Int64(8) << 30),
        ("512M", Int64(512) << 20),
        ("512K", Int64(512) << 10),
        ("1.5G", Int64(1536) << 20),
        ("1.5GB", Int64(1536) << 20),
        ("1024", Int64(1024)),
        ("0", Int64(0)),
        ("\"2 GiB\"", Int64(2) << 30),
    ])
    func memorySizes(text: String, bytes: Int64) throws {
        let spec = try JobSpecParser.parse(yaml: "command: [true]\nresources:\n  memory: \(text)\n")
        #expect(spec.resources.memoryBytes == bytes)
    }

    @Test(arguments: [
        ("30", 30), ("30s", 30), ("5m", 300), ("1h", 3600), ("0", 0), ("\"45s\"", 45),
    ])
    func killGraceDurations(text: String, seconds: Int) throws {
        let spec = try JobSpecParser.parse(yaml: "command: [true]\nkill_grace: \(text)\n")
        #expect(spec.killGraceSeconds == seconds)
    }

    @Test(arguments: [("x86_64", "x86_64"), ("amd64", "x86_64"), ("aarch64", "aarch64"), ("arm64", "aarch64"),
                      ("AArch64", "aarch64")])
    func architectureAliases(text: String, canonical: String) throws {
        let spec = try JobSpecParser.parse(yaml: "command: [true]\nresources: {arch: \(text)}\n")
        #expect(spec.resources.arch == canonical)
    }

    @Test func nullsMeanNotGiven() throws {
        let spec = try JobSpecParser.parse(yaml: """
            name:
            command: [true]
            resources:
            env: ~
            workdir: null
            """)
        #expect(spec == JobSpec(command: ["true"]))
    }

    @Test func quotedWholeNumbersAreAccepted() throws {
        let spec = try JobSpecParser.parse(yaml: "command: [true]\nresources:\n  cpus: \"2\"\n  gpus: 1_0\n")
        #expect(spec.resources.cpus == 2)
        #expect(spec.resources.gpus == 10)
    }

    // MARK: Errors, each with its line and field

    @Test func typeErrorInGpusNamesLineAndField() throws {
        let error = try #require(parseError("""
            name: x
            command: [nvidia-smi]
            resources:
              cpus: 2
              gpus: two
            """))
        #expect(error == JobSpecError(source: "job.yaml", line: 5, column: 9, field: "resources.gpus",
                                      message: "expected a whole number of GPUs or a share of one GPU (0.5, 250m), got 'two'"))
        #expect(error.description == "job.yaml:5: resources.gpus: expected a whole number of GPUs or a share of one GPU (0.5, 250m), got 'two'")
    }

    @Test func wrongTypesSayWhatWasExpectedAndFound() throws {
        let cpus = try #require(parseError("command: [x]\nresources:\n  cpus: 2.5\n"))
        #expect(cpus.description == "job.yaml:3: resources.cpus: expected a whole number, got '2.5'")

        let list = try #require(parseError("command: [x]\nresources:\n  cpus: [1, 2]\n"))
        #expect(list.description == "job.yaml:3: resources.cpus: expected a whole number, got a list")

        let resources = try #require(parseError("command: [x]\nresources: 4\n"))
        #expect(resources.line == 2 && resources.field == "resources")
        #expect(resources.message.hasPrefix("expected a mapping of cpus, memory, gpus, gpu_model, arch, got '4'"))

        let command = try #require(parseError("command:\n  prog: x\n"))
        #expect(command.description
            == "job.yaml:2: command: expected a list of strings or a shell command string, got a mapping")

        let element = try #require(parseError("command:\n  - python3\n  - {a: b}\n"))
        #expect(element.description == "job.yaml:3: command[1]: expected a string, got a mapping")

        let name = try #require(parseError("name: [a]\ncommand: [x]\n"))
        #expect(name.description == "job.yaml:1: name: expected a string, got a list")

        let huge = try #require(parseError("command: [x]\nresources:\n  gpus: 99999999999999999999999\n"))
        #expect(huge.description == "job.yaml:3: resources.gpus: is too large: 99999999999999999999999")
    }

    @Test func badMemoryGraceArchAndWorkdir() throws {
        let memory = try #require(parseError("command: [x]\nresources:\n  memory: 8 gigs\n"))
        #expect(memory.description == "job.yaml:3: resources.memory: expected a size such as 512M, 8GiB or 1.5G "
                + "(or a number of bytes), got '8 gigs'")

        let negative = try #require(parseError("command: [x]\nresources:\n  memory: -1G\n"))
        #expect(negative.line == 3 && negative.field == "resources.memory")

        let grace = try #require(parseError("command: [x]\nkill_grace: soon\n"))
        #expect(grace.description == "job.yaml:2: kill_grace: expected seconds such as 30, 30s, 5m or 1h, got 'soon'")

        let longGrace = try #require(parseError("command: [x]\nkill_grace: 48h\n"))
        #expect(longGrace.description == "job.yaml:2: kill_grace: must be between 0 and 86400 seconds")

        let arch = try #require(parseError("command: [x]\nresources:\n  arch: sparc\n"))
        #expect(arch.description == "job.yaml:3: resources.arch: unknown architecture 'sparc' "
                + "(expected x86_64 or aarch64; amd64 and arm64 are accepted as aliases)")

        let model = try #require(parseError("command: [x]\nresources:\n  gpu_model: T4\n"))
        #expect(model.description
            == "job.yaml:3: resources.gpu_model: has no effect without GPUs: set resources.gpus to 1 or more")

        let workdir = try #require(parseError("command: [x]\nworkdir: scratch/run1\n"))
        #expect(workdir.description
            == "job.yaml:2: workdir: must be an absolute path (starting with '/'), got 'scratch/run1'")
    }

    @Test func unknownKeySuggestsTheClosestField() throws {
        let cpu = try #require(parseError("""
            command: [x]
            resources:
              cpu: 4
            """))
        #expect(cpu == JobSpecError(source: "job.yaml", line: 3, column: 3, field: "resources",
                                    message: "unknown field 'cpu' (did you mean 'cpus'?)"))
        #expect(cpu.description == "job.yaml:3: resources: unknown field 'cpu' (did you mean 'cpus'?)")

        let typo = try #require(parseError("command: [x]\nresources:\n  memroy: 1G\n"))
        #expect(typo.message == "unknown field 'memroy' (did you mean 'memory'?)")

        let camel = try #require(parseError("command: [x]\nkillGrace: 5\n"))
        #expect(camel.description == "job.yaml:2: unknown field 'killGrace' (did you mean 'kill_grace'?)")

        let alias = try #require(parseError("cmd: [x]\n"))
        #expect(alias.description == "job.yaml:1: unknown field 'cmd' (did you mean 'command'?)")

        let misplaced = try #require(parseError("command: [x]\ncpus: 4\n"))
        #expect(misplaced.line == 2 && misplaced.field == nil)
        #expect(misplaced.message
            == "unknown field 'cpus' (did you mean 'resources.cpus'? resource fields go under 'resources:')")

        let nothingClose = try #require(parseError("command: [x]\nflavour: high\n"))
        #expect(nothingClose.message
            == "unknown field 'flavour'; expected one of name, command, resources, env, workdir, kill_grace, queue, node_selector, array, priority, preemptible, min_runtime, checkpoint_signal, gang, nvlink, service, speed, alternatives, time_limit, tenant")
    }

    @Test func missingCommandNamesTheField() throws {
        let error = try #require(parseError("name: x\nresources:\n  cpus: 2\n"))
        #expect(error.field == "command" && error.line == nil)
        #expect(error.description
            == "job.yaml: command: is required: a list such as [\"python3\", \"train.py\"] or a shell command string")

        let null = try #require(parseError("name: x\ncommand:\n"))
        #expect(null.field == "command" && null.line == 2)

        let blank = try #require(parseError("command: \"  \"\n"))
        #expect(blank.description == "job.yaml:1: command: must not be empty")
    }

    @Test func problemsAreReportedAtTheLineOfTheirField() throws {
        let cpus = try #require(parseError("""
            name: x
            command: [x]
            resources:
              gpus: 0
              cpus: -2
            """))
        #expect(cpus == JobSpecError(source: "job.yaml", line: 5, column: 9, field: "resources.cpus",
                                     message: "must be at least 1, got -2"))
        #expect(cpus.description == "job.yaml:5: resources.cpus: must be at least 1, got -2")

        let gpus = try #require(parseError("command: [x]\nresources:\n  gpus: -1\n"))
        #expect(gpus.description == "job.yaml:3: resources.gpus: must not be negative, got -1")

        let empty = try #require(parseError("\ncommand: []\n"))
        #expect(empty.description == "job.yaml:2: command: must name a program to run")

        let longName = try #require(parseError("command: [x]\nname: \(String(repeating: "n", count: 201))\n"))
        #expect(longName.line == 2 && longName.field == "name" && longName.message == "is longer than 200 characters")
    }

    @Test func yamlSyntaxErrorsCarryTheirLine() throws {
        let unclosed = try #require(parseError("""
            name: x
            command: ["a", "b"
            resources:
              cpus: 1
            """))
        #expect(unclosed.field == nil)
        #expect(unclosed.line == 3)
        #expect(unclosed.message.hasPrefix("invalid YAML: "))
        #expect(unclosed.description.hasPrefix("job.yaml:3: invalid YAML: "))

        let badIndent = try #require(parseError("command: [x]\nresources:\n  cpus: 1\n   gpus: 2\n"))
        #expect(badIndent.line == 4)
        #expect(badIndent.message == "invalid YAML: mapping values are not allowed in this context")

        let tab = try #require(parseError("command: [x]\nresources:\n\tcpus: 1\n"))
        #expect(tab.line == 3)
        #expect(tab.message.hasPrefix("invalid YAML: found character that cannot start any token"))

        let twoDocs = try #require(parseError("command: [a]\n---\ncommand: [b]\n"))
        #expect(twoDocs.line == 2)
        #expect(twoDocs.message == "a job spec must be a single YAML document, but another one starts here")

        let duplicate = try #require(parseError("command: [x]\nresources:\n  cpus: 1\n  cpus: 2\n"))
        #expect(duplicate.line == 3)
        #expect(duplicate.message == "field 'cpus' is given more than once")

        let alias = try #require(parseError("command: *nowhere\n"))
        #expect(alias.line == 1 && alias.message == "invalid YAML: found undefined alias")

        let control = try #require(parseError("command: [x]\nname: a\u{7}b\n"))
        #expect(control.line == 2 && control.message.hasPrefix("invalid YAML: "))
    }

    @Test func envNamesMustBeValid() throws {
        let dash = try #require(parseError("""
            command: [env]
            env:
              GOOD_1: a
              MY-VAR: b
            """))
        #expect(dash == JobSpecError(source: "job.yaml", line: 4, column: 3, field: "env", message:
            "'MY-VAR' is not a valid variable name (letters, digits and '_', not starting with a digit)"))

        let digit = try #require(parseError("command: [env]\nenv:\n  1ST: a\n"))
        #expect(digit.line == 3 && digit.field == "env")

        let nullValue = try #require(parseError("command: [env]\nenv:\n  EMPTY:\n"))
        #expect(nullValue.description
            == "job.yaml:3: env.EMPTY: expected a string, got an empty value (write \"\" for an empty string)")

        let nested = try #require(parseError("command: [env]\nenv:\n  A:\n    B: c\n"))
        #expect(nested.description == "job.yaml:4: env.A: expected a string, got a mapping")

        let list = try #require(parseError("command: [env]\nenv: [A=1]\n"))
        #expect(list.description == "job.yaml:2: env: expected a mapping of variable names to values, got a list")
    }

    @Test func topLevelMustBeAMapping() throws {
        let list = try #require(parseError("- echo\n- hi\n"))
        #expect(list == JobSpecError(source: "job.yaml", line: 1, column: 1, field: nil, message:
            "expected a mapping of fields (name, command, resources, ...) at the top level, got a list"))

        let scalar = try #require(parseError("\n\necho hi\n"))
        #expect(scalar.description == "job.yaml:3: expected a mapping of fields (name, command, resources, ...) "
                + "at the top level, got 'echo hi'")
    }

    @Test(arguments: ["", "\n\n", "# only a comment\n", "---\n", "~\n"])
    func emptyDocumentIsAClearError(yaml: String) throws {
        let error = try #require(parseError(yaml))
        #expect(error.field == nil)
        #expect(error.message == "the spec is empty; expected a mapping with at least a 'command' field")
    }

    @Test func oversizedInputIsRefusedBeforeParsing() throws {
        let big = "command: [x]\n# " + String(repeating: "x", count: JobSpecParser.maxInputBytes) + "\n"
        let error = try #require(parseError(big))
        #expect(error.line == nil && error.field == nil)
        #expect(error.description
            == "job.yaml: the spec is 1048592 bytes; a job spec may be at most 1048576 bytes (1 MiB)")

        // Exactly at the limit is still read.
        let head = "command: [x]\n#"
        let atLimit = head + String(repeating: "x", count: JobSpecParser.maxInputBytes - head.utf8.count)
        #expect(atLimit.utf8.count == JobSpecParser.maxInputBytes)
        #expect(try JobSpecParser.parse(yaml: atLimit).command == ["x"])
    }

    @Test func defaultSourceAndDescriptionParts() {
        #expect(JobSpecError(source: "<spec>", message: "m").description == "<spec>: m")
        #expect(JobSpecError(source: "a.yaml", line: 2, message: "m").description == "a.yaml:2: m")
        #expect(JobSpecError(source: "a.yaml", field: "env", message: "m").description == "a.yaml: env: m")
        #expect(throws: JobSpecError.self) { try JobSpecParser.parse(yaml: "[") }
        do {
            _ = try JobSpecParser.parse(yaml: "command: 1\nresources: {gpus: x}")
        } catch {
            #expect(error.source == "<spec>")
            #expect(error.description == "<spec>:2: resources.gpus: expected a whole number of GPUs or a share of one GPU (0.5, 250m), got 'x'")
        }
    }

    @Test func suggesterDistances() {
        #expect(JobSpecParser.FieldSuggester.distance("cpus", "cpus") == 0)
        #expect(JobSpecParser.FieldSuggester.distance("cpu", "cpus") == 1)
        #expect(JobSpecParser.FieldSuggester.distance("memroy", "memory") == 1)
        #expect(JobSpecParser.FieldSuggester.suggest("GPUS", among: JobSpecParser.resourceFields) == "gpus")
        #expect(JobSpecParser.FieldSuggester.suggest("gpu-model", among: JobSpecParser.resourceFields) == "gpu_model")
        #expect(JobSpecParser.FieldSuggester.suggest("zzz", among: JobSpecParser.resourceFields) == nil)
    }

    // MARK: docs/examples

    static let examplesDirectory: URL = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent()  // SchedCtlKitTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // repository root
        .appendingPathComponent("docs/examples")

    @Test func everyDocsExampleParses() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.examplesDirectory.path)
            .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
        #expect(files.count >= 4)
        for file in files {
            let text = try String(contentsOf: Self.examplesDirectory.appendingPathComponent(file), encoding: .utf8)
            #expect(throws: Never.self, "\(file)") { _ = try JobSpecParser.parse(yaml: text, source: file) }
        }
    }

    @Test func errorExampleInTheDocsIsWhatTheParserPrints() throws {
        let docs = try String(contentsOf: Self.examplesDirectory.deletingLastPathComponent()
            .appendingPathComponent("job-spec.md"), encoding: .utf8)
        let error = try #require(parseError("""
            name: train-small
            command: ["python3", "train.py"]
            resources:
              cpus: 4
              gpus: two
            """))
        #expect(docs.contains("\n\(error.description)\n"))
    }

    @Test func docsExamplesMeanWhatTheDocsSay() throws {
        func load(_ name: String) throws -> JobSpec {
            let url = Self.examplesDirectory.appendingPathComponent(name)
            return try JobSpecParser.parse(yaml: String(contentsOf: url, encoding: .utf8), source: name)
        }
        #expect(try load("cpu-hello.yaml") == JobSpec(
            name: "cpu-hello", command: ["echo", "hello from the cluster"], resources: ResourceRequest(cpus: 1)))
        #expect(try load("numa-probe.yaml") == JobSpec(
            name: "numa-probe",
            command: ["grep", "-E", "Cpus_allowed_list|Mems_allowed_list", "/proc/self/status"],
            resources: ResourceRequest(cpus: 4)))
        #expect(try load("gpu-4.yaml") == JobSpec(
            name: "gpu-4", command: ["sh", "-c", "echo $CUDA_VISIBLE_DEVICES"],
            resources: ResourceRequest(gpus: 4, gpuModel: "V100"), killGraceSeconds: 60))
        #expect(try load("arm-only.yaml") == JobSpec(
            name: "arm-only", command: ["/bin/sh", "-c", "uname -m && nproc"],
            resources: ResourceRequest(cpus: 8, memoryBytes: 2 << 30, arch: "aarch64"),
            env: ["OMP_NUM_THREADS": "8"], workdir: "/tmp"))
        #expect(try load("shared-gpu.yaml") == JobSpec(
            name: "shared-gpu", command: ["sh", "-c", "echo $CUDA_VISIBLE_DEVICES $SCHED_GPU_SHARE_MILLI"],
            resources: ResourceRequest(cpus: 1, gpus: 1, gpuMilli: 500)))
        #expect(try load("rack-selector.yaml") == JobSpec(
            name: "rack-selector", command: ["sh", "-c", "echo $CUDA_VISIBLE_DEVICES"],
            resources: ResourceRequest(gpus: 8, labels: ["nvlink.domain": "rack-7"])))
    }

    @Test func queueSelectorAndGPUShares() throws {
        let spec = try JobSpecParser.parse(yaml: """
            command: [x]
            queue: training
            node_selector:
              nvlink.domain: rack-7
              zone: lab
            resources:
              gpus: 250m
            """)
        #expect(spec.queue == "training")
        #expect(spec.resources.labels == ["nvlink.domain": "rack-7", "zone": "lab"])
        #expect(spec.resources.gpus == 1 && spec.resources.gpuMilli == 250)
        #expect(try JobSpecParser.parse(yaml: "command: [x]\nresources:\n  gpus: 0.5\n").resources.gpuMilli == 500)
        #expect(try JobSpecParser.parse(yaml: "command: [x]\nresources:\n  gpus: 2.0\n").resources.gpus == 2)
        let tooBig = try #require(parseError("command: [x]\nresources:\n  gpus: 1.5\n"))
        #expect(tooBig.line == 3 && tooBig.field == "resources.gpus")
        let badQueue = try #require(parseError("command: [x]\nqueue: \"a b\"\n"))
        #expect(badQueue.line == 2 && badQueue.field == "queue")
        let badSelector = try #require(parseError("command: [x]\nnode_selector: [a]\n"))
        #expect(badSelector.description == "job.yaml:2: node_selector: expected a mapping of label names to values, got a list")
    }

    @Test func arrayAndPriority() throws {
        let spec = try JobSpecParser.parse(yaml: "command: [x]\narray: 8\npriority: 5\n")
        #expect(spec.array == 8 && spec.priority == 5)
        let zero = try #require(parseError("command: [x]\narray: 0\n"))
        #expect(zero.description == "job.yaml:2: array: must be between 1 and 100000, got 0")
        let word = try #require(parseError("command: [x]\npriority: high\n"))
        #expect(word.description == "job.yaml:2: priority: expected a whole number, got 'high'")
    }

    @Test func preemptionFields() throws {
        let spec = try JobSpecParser.parse(yaml: "command: [x]\npreemptible: true\nmin_runtime: 10m\ncheckpoint_signal: SIGUSR1\n")
        #expect(spec.preemptible == true && spec.minRuntimeSeconds == 600 && spec.checkpointSignal == 10)
        let bad = try #require(parseError("command: [x]\ncheckpoint_signal: KILL\n"))
        #expect(bad.line == 2 && bad.field == "checkpoint_signal")
        let notBool = try #require(parseError("command: [x]\npreemptible: maybe\n"))
        #expect(notBool.description == "job.yaml:2: preemptible: expected true or false, got 'maybe'")
    }

    @Test func gangFields() throws {
        let spec = try JobSpecParser.parse(yaml: "command: [x]\narray: 16\ngang: true\nnvlink: required\n")
        #expect(spec.gang == true && spec.nvlink == .required && spec.array == 16)
        let lonely = try #require(parseError("command: [x]\ngang: true\n"))
        #expect(lonely.description == "job.yaml:2: gang: a gang needs array: N (its number of tasks)")
        let bad = try #require(parseError("command: [x]\narray: 2\ngang: yes\nnvlink: always\n"))
        #expect(bad.description == "job.yaml:4: nvlink: expected required or preferred, got 'always'")
    }
}

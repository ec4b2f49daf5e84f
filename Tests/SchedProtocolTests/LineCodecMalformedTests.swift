import Testing
import SchedCore
@testable import SchedProtocol

/// The error `decode` throws for a line, or nil when it decodes.
private func decodeError(_ line: String) -> ErrorReply? {
    do {
        _ = try LineCodec.decode(line[...])
        return nil
    } catch {
        return error
    }
}

@Suite("LineCodec malformed input")
struct LineCodecMalformedTests {
    @Test("not `VERB {json}`: malformed", arguments: [
        "", " ", " JOB {\"job\":1}", "hello {}", "Hello", "jobs", "JOB2 {}", "JOB-X {}", "JÖB {}", "{\"job\":1}",
        String(repeating: "A", count: 33),
    ])
    func badVerb(line: String) throws {
        let e = try #require(decodeError(line))
        #expect(e.code == .malformed)
        #expect(e.message.hasPrefix("expected 'VERB {json}', got '"))
    }

    @Test("the malformed message quotes the line (first 40 characters)")
    func badVerbMessage() {
        #expect(decodeError("") == ErrorReply(.malformed, "expected 'VERB {json}', got ''"))
        #expect(decodeError("hello {}") == ErrorReply(.malformed, "expected 'VERB {json}', got 'hello {}'"))
        let long = "x" + String(repeating: "y", count: 100)
        #expect(decodeError(long) == ErrorReply(.malformed, "expected 'VERB {json}', got 'x\(String(repeating: "y", count: 39))'"))
    }

    @Test("a well-formed but unknown verb: unknown_verb", arguments: [
        ("FOO {}", "FOO"), ("FOO", "FOO"), ("FOO not json at all", "FOO"), ("HELLO_WORLD {}", "HELLO_WORLD"),
        (String(repeating: "A", count: 32), String(repeating: "A", count: 32)),
    ])
    func unknownVerb(line: String, verb: String) {
        #expect(decodeError(line) == ErrorReply(.unknownVerb, "unknown verb '\(verb)'"))
    }

    @Test("bad JSON: malformed, message names the verb", arguments: [
        "JOB {not json", "JOB {\"job\":1", "JOB [1]", "JOB 42", "JOB \"job\"", "SUBMIT {\"spec\":", "HEARTBEAT {'node':'n1'}",
    ])
    func badJSON(line: String) throws {
        let e = try #require(decodeError(line))
        #expect(e.code == .malformed)
        let verb = line.prefix { $0 != " " }
        #expect(e.message.hasPrefix("\(verb): "), "\(e.message)")
    }

    @Test("a missing required field is named", arguments: [
        ("JOB {}", "JOB: missing field 'job'"),
        ("JOB", "JOB: missing field 'job'"),
        ("CANCEL {\"jbo\":1}", "CANCEL: missing field 'job'"),
        ("HELLO {\"role\":\"agent\"}", "HELLO: missing field 'protocol'"),
        ("HEARTBEAT {\"node\":\"n1\"}", "HEARTBEAT: missing field 'running'"),
        ("DRAIN {\"reason\":\"x\"}", "DRAIN: missing field 'node'"),
        ("SUBMIT {\"spec\":{}}", "SUBMIT: field 'spec': missing field 'command'"),
        ("TASK_EXITED {\"exit\":{},\"ref\":{\"task\":0}}", "TASK_EXITED: field 'ref': missing field 'job'"),
    ])
    func missingField(line: String, message: String) {
        #expect(decodeError(line) == ErrorReply(.malformed, message))
    }

    @Test("a wrong type is malformed and names the field", arguments: [
        ("JOB {\"job\":\"42\"}", "job"),
        ("NODES {\"topology\":\"yes\"}", "topology"),
        ("HEARTBEAT {\"node\":\"n1\",\"running\":\"2\"}", "running"),
        ("HEARTBEAT {\"node\":7,\"running\":2}", "node"),
        ("JOBS {\"limit\":[]}", "limit"),
        ("SUBMIT {\"spec\":{\"command\":\"echo hi\"}}", "spec.command"),
        ("SUBMIT {\"spec\":{\"command\":[\"x\"],\"resources\":{\"cpus\":\"two\"}}}", "spec.resources.cpus"),
    ])
    func wrongType(line: String, field: String) throws {
        let e = try #require(decodeError(line))
        #expect(e.code == .malformed)
        #expect(e.message.contains("field '\(field)'"), "\(e.message)")
        #expect(e.message.contains("expected"), "\(e.message)")
    }

    @Test("bad values inside well-typed JSON are malformed", arguments: [
        "HELLO {\"protocol\":1,\"role\":\"admin\"}",
        "JOBS {\"states\":[\"pending\",\"nope\"]}",
        "JOB {\"job\":null}",
        "HEARTBEAT {\"node\":\"n1\",\"running\":1.5}",
        "TASK_STARTED {\"binding\":{\"cpus\":\"0-x\",\"numaNodes\":\"0\"},\"pid\":1,\"ref\":{\"job\":1,\"task\":0},\"stderrPath\":\"e\",\"stdoutPath\":\"o\"}",
    ])
    func badValues(line: String) throws {
        let e = try #require(decodeError(line))
        #expect(e.code == .malformed)
        #expect(e.message.hasPrefix(String(line.prefix { $0 != " " }) + ": "), "\(e.message)")
    }

    @Test("a bad CPU list names the field and the text")
    func badCPUList() throws {
        let e = try #require(decodeError(#"TASK_STARTED {"binding":{"cpus":"0-x","numaNodes":"0"},"pid":1,"ref":{"job":1,"task":0},"stderrPath":"e","stdoutPath":"o"}"#))
        #expect(e.code == .malformed)
        #expect(e.message.contains("binding.cpus"), "\(e.message)")
        #expect(e.message.contains("bad list format '0-x'"), "\(e.message)")
    }

    @Test("a trailing \\r is accepted", arguments: [
        ("JOBS\r", Message.listJobs(ListJobs())),
        ("JOBS {}\r", .listJobs(ListJobs())),
        ("PING\r", .ping),
        ("OK {}\r", .ok),
        ("JOB {\"job\":1}\r", .getJob(JobRequest(job: JobID(1)))),
        ("DRAIN {\"node\":\"n1\",\"reason\":\"x\"}\r", .drain(NodeRequest(node: "n1", reason: "x"))),
    ])
    func trailingCR(line: String, expected: Message) throws {
        #expect(try LineCodec.decode(line[...]) == expected)
    }

    @Test("no JSON means {}", arguments: [
        ("JOBS", Message.listJobs(ListJobs())),
        ("JOBS ", .listJobs(ListJobs())),
        ("NODES", .listNodes(ListNodes())),
        ("LOG", .log(LogQuery())),
        ("PING", .ping),
        ("PONG", .pong),
        ("OK", .ok),
    ])
    func missingJSON(line: String, expected: Message) throws {
        #expect(try LineCodec.decode(line[...]) == expected)
    }

    @Test("several spaces before the JSON are allowed")
    func extraSpaces() throws {
        #expect(try LineCodec.decode("JOB   {\"job\":3}") == .getJob(JobRequest(job: JobID(3))))
    }

    @Test("unknown JSON fields are ignored", arguments: [
        ("JOB {\"job\":1,\"extra\":true}", Message.getJob(JobRequest(job: JobID(1)))),
        ("HELLO {\"protocol\":1,\"role\":\"agent\",\"software\":\"x\",\"future\":{\"a\":[1,2,{}]}}",
         .hello(Hello(role: .agent, protocolVersion: 1, software: "x"))),
        ("SUBMITTED {\"job\":9,\"when\":\"now\"}", .submitted(Submitted(job: JobID(9)))),
        ("SUBMIT {\"priority\":5,\"spec\":{\"command\":[\"x\"],\"resources\":{\"cpus\":2,\"fpga\":1}}}",
         .submit(Submit(spec: JobSpec(command: ["x"], resources: ResourceRequest(cpus: 2))))),
    ])
    func unknownFields(line: String, expected: Message) throws {
        #expect(try LineCodec.decode(line[...]) == expected)
    }

    @Test("absent optional fields take their defaults")
    func defaults() throws {
        let m = try LineCodec.decode(#"SUBMIT {"spec":{"command":["sleep","5"]}}"#)
        #expect(m == .submit(Submit(spec: JobSpec(command: ["sleep", "5"]))))
        guard case .submit(let s) = m else { return }
        #expect(s.spec.resources == ResourceRequest(cpus: 1, memoryBytes: 0, gpus: 0))
        #expect(s.spec.env.isEmpty)
        #expect(s.spec.displayName == "sleep")
        #expect(try LineCodec.decode(#"HELLO {"protocol":2,"role":"client"}"#) == .hello(Hello(role: .client, protocolVersion: 2, software: nil)))
    }

    @Test("a decode error can be sent back as an ERR line")
    func errorIsSendable() throws {
        let e = try #require(decodeError("JOB {}"))
        let line = LineCodec.encode(.error(e))
        #expect(line == #"ERR {"code":"malformed","message":"JOB: missing field 'job'"}"#)
        #expect(try LineCodec.decode(line[...]) == .error(e))
    }
}

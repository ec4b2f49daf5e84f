#!/usr/bin/env python3
"""Writes the seed corpus (lines/, specs/) and the dictionaries (lines.dict, specs.dict) from the
sources README.md names: build-corpus.py CAPTURE_DIR (the output of capture.sh)."""
import collections
import hashlib
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
capture = sys.argv[1] if len(sys.argv) > 1 else "/tmp/sched-capture"
LINE = re.compile(rb"^[A-Z_]{1,32}( |$)")
PER_VERB = 6  # captured lines kept per verb (the most varied: distinct key sets first)


def read(path):
    with open(os.path.join(ROOT, path), "rb") as f:
        return f.read()


def reset(d):
    """Empties d but for the `regression-` seeds, which are written by hand."""
    os.makedirs(d, exist_ok=True)
    for name in os.listdir(d):
        if not name.startswith("regression-"):
            os.remove(os.path.join(d, name))


def put(d, prefix, data, seen):
    if data in seen:
        return
    seen.add(data)
    name = "%s-%s" % (prefix, hashlib.sha1(data).hexdigest()[:10])
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def swift_unescape(s):
    return re.sub(r'\\(u\{[0-9a-fA-F]+\}|.)', lambda m: {"n": "\n", "r": "\r", "t": "\t", "0": "\0"}.get(
        m.group(1), chr(int(m.group(1)[2:-1], 16)) if m.group(1).startswith("u{") else m.group(1)), s)


def keys(line):
    """The set of JSON keys of a line's body, or None when it is no JSON."""
    try:
        body = json.loads(line.split(b" ", 1)[1]) if b" " in line else {}
    except ValueError:
        return None
    found = set()

    def walk(v):
        if isinstance(v, dict):
            for k, x in v.items():
                found.add(k)
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
    walk(body)
    return frozenset(found)


def lines_corpus():
    d = os.path.join(HERE, "lines")
    reset(d)
    seen = set()
    # 1. Every example line of docs/protocol.md (code blocks; `>>> `/`<<< ` markers dropped).
    block = False
    for raw in read("docs/protocol.md").split(b"\n"):
        if raw.strip().startswith(b"```"):
            block = not block
            continue
        s = re.sub(rb"^(>>>|<<<)\s+", b"", raw.strip())
        if block and LINE.match(s):
            put(d, "doc", s + b"\n", seen)
    # 2. Lines of the captured session, up to PER_VERB per verb (distinct key sets first), and
    #    each schedctl connection's whole stream in both directions (several lines per input).
    by_verb = collections.defaultdict(list)
    streams = collections.defaultdict(list)
    for raw in open(os.path.join(capture, "lines.log"), "rb").read().split(b"\n"):
        if not raw:
            continue
        conn, direction, line = raw.split(b" ", 2)
        by_verb[line.split(b" ")[0]].append(line)
        streams[(conn, direction)].append(line)
    for verb, lines in sorted(by_verb.items()):
        kept, shapes = [], set()
        for line in sorted(set(lines), key=lambda l: (len(l), l)):
            k = keys(line)
            if k not in shapes:
                shapes.add(k)
                kept.append(line)
        for line in sorted(set(lines) - set(kept), key=lambda l: (len(l), l))[: max(0, PER_VERB - len(kept))]:
            kept.append(line)
        for line in kept[:PER_VERB] if verb not in (b"REGISTER", b"NODE_LIST") else kept[:3]:
            put(d, "cap", line + b"\n", seen)
    clients = [k for k, v in streams.items() if v and v[0].startswith(b'HELLO {"protocol":1,"role":"client"')]
    for conn, _ in clients[:12]:
        for direction in (b">", b"<"):
            put(d, "session", b"\n".join(streams[(conn, direction)]) + b"\n", seen)
    # 3. The store's records, as the fuzz target's STORED_* lines.
    names = {b"jobs": b"STORED_JOB", b"nodes": b"STORED_NODE", b"placements": b"STORED_PLACEMENT"}
    records = collections.defaultdict(list)
    for raw in open(os.path.join(capture, "records.log"), "rb").read().split(b"\n"):
        if raw:
            table, data = raw.split(b" ", 1)
            records[table].append(data)
    for table, rows in records.items():
        for data in sorted(set(rows), key=lambda l: (len(l), l))[:PER_VERB]:
            put(d, "rec", names[table] + b" " + data + b"\n", seen)
    # 4. The golden lines of LineCodecGoldenTests and the lines of LineCodecMalformedTests.
    for m in re.finditer(rb'#"(.*?)"#', read("Tests/SchedProtocolTests/LineCodecGoldenTests.swift")):
        if LINE.match(m.group(1)):
            put(d, "golden", m.group(1) + b"\n", seen)
    for m in re.finditer(r'"((?:[^"\\\n]|\\.)*)"', read("Tests/SchedProtocolTests/LineCodecMalformedTests.swift").decode()):
        s = swift_unescape(m.group(1))
        if len(s) > 2 and ("{" in s or LINE.match(s.encode())):
            put(d, "malformed", s.encode() + b"\n", seen)
    # 5. Framing and parser edge cases written for the fuzzer.
    for s in [b"PING {}\r\nPONG\n\nOK {}", b"PING {}\r\r\n\rPONG {}\r", b"\n\n\n", b"\r\n", b"PING {}",
              b"HELLO {\"protocol\":1,\"role\":\"client\"}\nJOBS\nPING\n" + b"A" * 200 + b"\nSTATUS\n",
              b"JOB {\"job\":1}\x00\nJOB {\"job\":\xff\xfe}\n", b"PING \xc3\n\xa9\n",
              b"TASK_STARTED {\"binding\":{\"cpus\":\"0-1048575\",\"numaNodes\":\"0\"},\"pid\":1,\"ref\":{\"job\":1,\"task\":0},\"stderrPath\":\"e\",\"stdoutPath\":\"o\"}\n",
              b"ACK_EXIT {\"ref\":{\"job\":-9223372036854775808,\"task\":0}}\n",
              b"ACK_EXIT {\"ref\":{\"job\":9223372036854775808,\"task\":0}}\n",
              b"ACK_EXIT {\"ref\":{\"job\":1e3,\"task\":0.0}}\n",
              b"ACK_EXIT {\"ref\":{\"job\":1,\"task\":0},\"ref\":{\"job\":2,\"task\":0}}\n",
              b"SUBMIT {\"spec\":{\"command\":[\"a\"],\"env\":{\"e\\u0301\":\"1\",\"\\u00e9\":\"2\"}}}\n",
              b"SUBMIT_BATCH {\"specs\":[{\"command\":[\"\\ud800\"]}]}\n",
              b"JOBS " + b"[" * 600 + b"]" * 600 + b"\n",
              b"ERR {\"code\":\"malformed\",\"message\":\"\\n\\r\\t\\u0000\\\"\\\\/\"}\n"]:
        put(d, "edge", s, seen)
    return d


def specs_corpus():
    d = os.path.join(HERE, "specs")
    reset(d)
    seen = set()
    # 1. docs/examples/*.yaml and every yaml block of docs/job-spec.md.
    for name in sorted(os.listdir(os.path.join(ROOT, "docs/examples"))):
        if name.endswith(".yaml"):
            put(d, "example", read("docs/examples/" + name), seen)
    for m in re.finditer(rb"(?ms)^( *)```yaml\n(.*?)^\1```", read("docs/job-spec.md")):
        indent = m.group(1)
        put(d, "doc", b"".join(l[len(indent):] if l.startswith(indent) else l for l in m.group(2).splitlines(True)), seen)
    # 2. The specs of JobSpecParserTests: multi-line literals (dedented) and one-line ones.
    test = read("Tests/SchedCtlKitTests/JobSpecParserTests.swift").decode()
    for m in re.finditer(r'"""\n(.*?)\n( *)"""', test, re.S):
        indent = m.group(2)
        text = "\n".join(l[len(indent):] if l.startswith(indent) else l.lstrip() for l in m.group(1).split("\n")) + "\n"
        put(d, "test", swift_unescape(text).encode(), seen)
    for m in re.finditer(r'"((?:[^"\\\n]|\\.)*\\n(?:[^"\\\n]|\\.)*)"', test):
        put(d, "test", swift_unescape(m.group(1)).encode(), seen)
    # 3. JSON specs, as captured on the wire (YAML reads JSON).
    for raw in open(os.path.join(capture, "lines.log"), "rb").read().split(b"\n"):
        if b" > SUBMIT {" in raw:
            put(d, "json", json.dumps(json.loads(raw.split(b" ", 3)[3])["spec"]).encode() + b"\n", seen)
    return d


def dictionary(corpus, path, extra):
    """libFuzzer dictionary: the verbs, keys and short string values of the corpus."""
    tokens = set(extra)
    for name in os.listdir(corpus):
        data = open(os.path.join(corpus, name), "rb").read()
        tokens.update(re.findall(rb"^([A-Z_]{2,32}) ", data, re.M))
        tokens.update(re.findall(rb'("[A-Za-z_.]{1,24}":?)', data))
        tokens.update(re.findall(rb"(?m)^ *([a-z_]{2,24}:)", data))
    with open(path, "wb") as f:
        for t in sorted(tokens):
            esc = b"".join(b"\\x%02X" % c if c < 0x20 or c > 0x7E or c in b'"\\' else bytes([c]) for c in t)
            f.write(b'"' + esc + b'"\n')


lines = lines_corpus()
dictionary(lines, os.path.join(HERE, "lines.dict"), [b"STORED_JOB ", b"STORED_NODE ", b"STORED_PLACEMENT ", b"\\u", b"\r\n", b"null", b"true", b"false"])
specs = specs_corpus()
dictionary(specs, os.path.join(HERE, "specs.dict"), [b"- ", b": ", b"[", b"{", b"|", b">", b"&a", b"*a", b"!!str", b"---", b"..."])
print("corpus: %d lines inputs, %d specs inputs" % (len(os.listdir(lines)), len(os.listdir(specs))))

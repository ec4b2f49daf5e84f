// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "sched",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "schedd", targets: ["schedd"]),
        .executable(name: "sched-agent", targets: ["sched-agent"]),
        .executable(name: "schedctl", targets: ["schedctl"]),
        .executable(name: "sched-bench", targets: ["sched-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/LebJe/TOMLKit", exact: "0.6.0"),
    ],
    targets: [
        // PURE: the scheduling core. Standard library only: no Foundation, no I/O, no C.
        .target(name: "SchedCore"),
        // PURE: wire messages and the line codec (FoundationEssentials for JSON only).
        .target(name: "SchedProtocol", dependencies: ["SchedCore"]),
        // NIO: line framing with a length cap, TLS 1.3 (swift-nio-ssl), TCP server and client
        // connections. The only target that imports NIO; its public API (LineConnection,
        // LineServer, LineClient, TLSServerConfiguration, TLSClientConfiguration) has no NIO types.
        .target(name: "SchedNet", dependencies: [
            "SchedProtocol",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOTLS", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "X509", package: "swift-certificates"),
        ]),
        // The cluster's trust: its CA, schedd's serving certificate, node certificates from CSRs,
        // bearer tokens (only their SHA-256 is stored), secret files written atomically with 0600.
        // swift-certificates and swift-crypto; no NIO, no store.
        .target(name: "SchedTrust", dependencies: [
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
        ]),
        // Durable state behind one protocol; SQLite (GRDB) is the embedded default.
        .target(name: "SchedStore", dependencies: [
            "SchedCore", "SchedProtocol",
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        // C boundary: only HostTopology imports these; only the agent links them.
        .systemLibrary(name: "CHwloc", pkgConfig: "hwloc", providers: [.apt(["libhwloc-dev"])]),
        .systemLibrary(name: "CNuma", pkgConfig: "numa", providers: [.apt(["libnuma-dev"])]),
        // fork's child side, signal dispositions and masks, RLIMIT_CORE, prctl (libc only).
        .target(name: "CProcessControl"),
        .target(name: "HostTopology", dependencies: ["SchedCore", "CHwloc", "CNuma", "CProcessControl"]),
        // PURE: the daemon's logic as a state machine (events in, actions out): no clock, no
        // store, no logging, no threads, no NIO. SchedulerKit runs it live, sched-bench chaos in
        // a deterministic simulator.
        .target(name: "SchedControlPlane", dependencies: [
            "SchedCore", "SchedProtocol",
            .product(name: "DequeModule", package: "swift-collections"),
        ]),
        // The deterministic fault-injecting simulator over the real control plane (sched-bench chaos).
        .target(name: "SchedSimulation", dependencies: ["SchedControlPlane", "SchedCore", "SchedProtocol"]),
        // The daemon's shell (no hwloc): connections (SchedNet), the store's writer thread, timers, logging.
        .target(name: "SchedulerKit", dependencies: [
            "SchedCore", "SchedProtocol", "SchedNet", "SchedStore", "SchedControlPlane", "SchedTrust",
            .product(name: "DequeModule", package: "swift-collections"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // Agent logic: session, heartbeats, task launching and binding; joining with a join token
        // (its node key and certificate, made and checked with SchedTrust).
        .target(name: "AgentKit", dependencies: [
            "SchedCore", "SchedProtocol", "SchedNet", "SchedTrust", "HostTopology",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Yams", package: "Yams"),
        ], resources: [.copy("Topologies")]),
        // The protocol client (handshake, request/reply): schedctl, sched-bench, integration tests.
        .target(name: "SchedClient", dependencies: ["SchedCore", "SchedProtocol", "SchedNet"]),
        // schedctl's commands, job-spec parsing and output formatting; its client config file
        // (TOML, written by `schedctl login`).
        .target(name: "SchedCtlKit", dependencies: [
            "SchedCore", "SchedProtocol", "SchedNet", "SchedClient", "SchedTrust",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Yams", package: "Yams"),
            .product(name: "TOMLKit", package: "TOMLKit"),
        ]),
        .executableTarget(name: "schedd", dependencies: [
            "SchedulerKit", "SchedControlPlane", "SchedCore", "SchedNet",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .executableTarget(name: "sched-agent", dependencies: [
            "AgentKit", "HostTopology", "SchedCore", "SchedNet", "SchedProtocol",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .executableTarget(name: "schedctl", dependencies: ["SchedCtlKit"]),
        // Benchmarks of the pure core (no daemon, no I/O in the measured loop).
        // `sched-bench e2e` also starts schedd and emulated agents and talks the protocol.
        .executableTarget(name: "sched-bench", dependencies: ["SchedCore", "SchedProtocol", "SchedNet", "SchedClient", "SchedSimulation", "SchedControlPlane"]),
        // The fuzz target over the framing, the message parsers and the job-spec parser. A normal build
        // replays files through its checks; Deploy/fuzz.sh builds it with libFuzzer (-sanitize=fuzzer,
        // -D SCHED_FUZZING) in its own scratch path, .build-fuzz.
        .executableTarget(name: "sched-fuzz", dependencies: ["SchedProtocol", "SchedNet", "SchedCtlKit"]),

        // Test support, linked by test targets only (never by a product): the pure fixtures
        // (topologies, job specs, message accessors) and PlaneDriver, the control plane driven by hand.
        .target(name: "SchedTestSupport", dependencies: ["SchedCore", "SchedProtocol", "SchedControlPlane"],
                path: "Tests/SchedTestSupport"),
        // Test support that starts processes: TestCluster, the real schedd and sched-agent binaries on
        // 127.0.0.1 (free port, readiness by polling), and the protocol client to talk to them.
        .target(name: "SchedIntegrationSupport", dependencies: ["SchedCore", "SchedProtocol", "SchedNet", "SchedClient", "SchedTrust"],
                path: "Tests/SchedIntegrationSupport"),

        .testTarget(name: "SchedCoreTests", dependencies: ["SchedCore", "SchedTestSupport"]),
        .testTarget(name: "SchedProtocolTests", dependencies: ["SchedProtocol", "SchedNet",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
        ]),
        .testTarget(name: "HostTopologyTests", dependencies: ["HostTopology"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ControlPlaneTests", dependencies: ["SchedControlPlane", "SchedSimulation", "SchedCore", "SchedProtocol",
                                                     "SchedTestSupport"]),
        .testTarget(name: "SchedulerKitTests", dependencies: ["SchedulerKit", "SchedStore", "SchedTestSupport", "SchedNet", "SchedTrust",
            .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
        ]),
        .testTarget(name: "SchedCtlKitTests", dependencies: ["SchedCtlKit", "SchedTrust"]),
        .testTarget(name: "SchedTrustTests", dependencies: ["SchedTrust", "SchedNet",
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .testTarget(name: "AgentKitTests", dependencies: ["AgentKit", "SchedProtocol", "SchedTrust"]),
        .testTarget(name: "IntegrationTests", dependencies: ["SchedProtocol", "SchedNet", "SchedClient", "SchedIntegrationSupport",
                                                      "SchedTrust", .product(name: "X509", package: "swift-certificates")],
                    resources: [.copy("Fixtures")]),
    ],
    swiftLanguageModes: [.v6]
)

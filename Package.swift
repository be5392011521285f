// swift-tools-version:6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "executor",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "executor", targets: ["executor"]),
        .library(name: "KubeClient", targets: ["KubeClient"]),
        .library(name: "KubeSandbox", targets: ["KubeSandbox"]),
        .library(name: "KubeRuntime", targets: ["KubeRuntime"]),
        .library(name: "KubeRuntimeTesting", targets: ["KubeRuntimeTesting"]),
        .library(name: "FlyteIDL", targets: ["FlyteIDL"]),
        .library(name: "ExecutorAPI", targets: ["ExecutorAPI"]),
        .library(name: "TaskPlugins", targets: ["TaskPlugins"]),
        .library(name: "FlyteDataPlane", targets: ["FlyteDataPlane"]),
        .library(name: "ExecutorControllers", targets: ["ExecutorControllers"]),
        .library(name: "ExecutorCLI", targets: ["ExecutorCLI"]),
        .library(name: "PluginConformance", targets: ["PluginConformance"]),
        .library(name: "ExecutorFuzzing", targets: ["ExecutorFuzzing"]),
    ],
    dependencies: [
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        // Already built for AsyncHTTPClient; the sandbox serves HTTP/2 with it, as kube-apiserver does.
        .package(url: "https://github.com/apple/swift-nio-http2.git", from: "1.38.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        // The connector plugin's client of Flyte's connector services (gRPC over HTTP/2, in
        // clear text inside a cluster, where AsyncHTTPClient speaks HTTP/2 only after TLS and
        // reads no trailers). Its NIO, HTTP/2, TLS and certificate packages are already built.
        .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", from: "2.4.1"),
    ],
    targets: [
        // glibc's <malloc.h>, which Swift's Glibc module does not export: the allocator tuning
        // `executor run` applies and the benchmarks' heap figures.
        .target(name: "CMalloc"),
        // Swift Concurrency's enqueue hook by a direct reference, for a statically linked
        // binary, where NIO's dlsym cannot find it (EventLoopConcurrency).
        .target(name: "CConcurrencyHook"),
        .target(
            name: "KubeClient",
            dependencies: [
                "CConcurrencyHook",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "KubeSandbox",
            dependencies: [
                "KubeClient",
                // Calls admission webhooks (AdmissionWebhooks); already built for KubeClient.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            // The simulated operators' CRDs, read from the source tree (see SimulatedOperators).
            exclude: ["CRDs"],
            swiftSettings: strict
        ),
        .target(
            name: "KubeRuntime",
            dependencies: [
                "KubeClient",
                "CMalloc",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "KubeRuntimeTesting",
            dependencies: ["KubeClient", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .target(
            name: "FlyteIDL",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
            swiftSettings: strict
        ),
        .target(
            name: "ExecutorAPI",
            dependencies: ["KubeClient", "FlyteIDL"],
            swiftSettings: strict
        ),
        .target(
            name: "TaskPlugins",
            dependencies: [
                "KubeClient", "ExecutorAPI", "FlyteIDL",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "FlyteDataPlane",
            dependencies: [
                "KubeRuntime", "FlyteIDL",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "ExecutorControllers",
            dependencies: [
                "KubeClient", "KubeRuntime", "ExecutorAPI", "TaskPlugins", "FlyteIDL", "FlyteDataPlane",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Crypto", package: "swift-crypto"),
                // The secrets webhook: its HTTPS server, and the CA and certificate it makes.
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "ExecutorCLI",
            dependencies: [
                "KubeClient",
                "KubeSandbox",
                "KubeRuntime",
                "ExecutorAPI",
                "ExecutorControllers",
                "TaskPlugins",
                "FlyteIDL",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                // `executor dev`'s simulated connector service.
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "PluginConformance",
            dependencies: ["KubeClient", "KubeSandbox", "KubeRuntime", "ExecutorAPI", "ExecutorControllers", "TaskPlugins", "FlyteIDL", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        // The fuzz targets' code; Fuzz/ is the package that builds it with libFuzzer (`make fuzz`).
        .target(
            name: "ExecutorFuzzing",
            dependencies: ["KubeClient", "KubeSandbox", "ExecutorAPI", "ExecutorControllers", "TaskPlugins", "FlyteIDL", "FlyteDataPlane", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "executor",
            dependencies: ["ExecutorCLI", "ExecutorControllers"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "executor-bench",
            dependencies: ["KubeClient", "KubeSandbox", "KubeRuntime", "CMalloc", "ExecutorAPI", "ExecutorControllers", "FlyteIDL", "TaskPlugins", .product(name: "Logging", package: "swift-log"),
                           .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")],
            path: "Benchmarks/executor-bench",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "drills",
            dependencies: ["KubeClient", "KubeSandbox", "KubeRuntime", "ExecutorAPI", "ExecutorControllers", "FlyteIDL", "TaskPlugins",
                           .product(name: "SwiftProtobuf", package: "swift-protobuf"), .product(name: "Logging", package: "swift-log")],
            path: "Drills",
            swiftSettings: strict
        ),
        .testTarget(name: "KubeClientTests", dependencies: ["KubeClient", "KubeSandbox", "KubeRuntimeTesting", .product(name: "AsyncHTTPClient", package: "async-http-client"), .product(name: "NIOCore", package: "swift-nio")], swiftSettings: strict),
        .testTarget(name: "ExecutorTests", dependencies: ["KubeClient", "KubeSandbox", "KubeRuntime", "KubeRuntimeTesting", "FlyteIDL", "ExecutorAPI", "TaskPlugins", "ExecutorControllers", "ExecutorCLI", "FlyteDataPlane", "PluginConformance", "ExecutorFuzzing", .product(name: "GRPCCore", package: "grpc-swift-2"), .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"), .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"), .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "Crypto", package: "swift-crypto"), .product(name: "Logging", package: "swift-log")], swiftSettings: strict),
        .testTarget(name: "KubeRuntimeTests", dependencies: ["KubeClient", "KubeSandbox", "KubeRuntime", "KubeRuntimeTesting", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"), .product(name: "Logging", package: "swift-log")], swiftSettings: strict),
        .testTarget(name: "KubeSandboxTests", dependencies: ["KubeClient", "KubeSandbox", "KubeRuntimeTesting"], exclude: ["Fixtures"], swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)

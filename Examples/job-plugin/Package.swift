// swift-tools-version:6.1
// An executor built outside this repository: it depends on the executor package, adds a
// `k8s_job` task type run as a batch/v1 Job, tests it with the conformance kit against
// KubeSandbox, and edits nothing of the executor. `make example` builds and tests it; CI runs that.
import Foundation
import PackageDescription

// The executor package is two folders up. SwiftPM names a path dependency after its folder,
// which differs between clones, so the name is read from the path. A real plugin package
// depends on the executor by URL instead:
//   .package(url: "https://github.com/<org>/executor.git", from: "0.1.0")
let executorPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardizedFileURL
let executor = executorPath.lastPathComponent.lowercased()

let package = Package(
    name: "job-plugin",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: executorPath.path),
    ],
    targets: [
        .target(
            name: "JobPlugin",
            dependencies: [
                .product(name: "TaskPlugins", package: executor),
                .product(name: "ExecutorAPI", package: executor),
                .product(name: "KubeClient", package: executor),
            ]
        ),
        .executableTarget(
            name: "job-executor",
            dependencies: [
                "JobPlugin",
                .product(name: "ExecutorCLI", package: executor),
                .product(name: "ExecutorControllers", package: executor),
            ]
        ),
        .testTarget(
            name: "JobPluginTests",
            dependencies: [
                "JobPlugin",
                .product(name: "PluginConformance", package: executor),
                .product(name: "ExecutorAPI", package: executor),
                .product(name: "TaskPlugins", package: executor),
                .product(name: "KubeClient", package: executor),
                .product(name: "FlyteIDL", package: executor),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)

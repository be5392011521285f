// swift-tools-version:6.1
// An executor built outside this repository: it depends on the executor package, adds a plugin
// of its own, and edits nothing here. `make example` builds it and checks the binary carries the
// plugin; CI runs that.
import Foundation
import PackageDescription

// The executor package is three folders up. SwiftPM names a path dependency after its folder,
// which differs between clones, so the name is read from the path.
let executorPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../..").standardizedFileURL
let executor = executorPath.lastPathComponent.lowercased()

let package = Package(
    name: "my-executor",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: executorPath.path),
    ],
    targets: [
        .target(
            name: "NotePlugin",
            dependencies: [
                .product(name: "TaskPlugins", package: executor),
                .product(name: "KubeClient", package: executor),
            ]
        ),
        .executableTarget(
            name: "my-executor",
            dependencies: [
                "NotePlugin",
                .product(name: "ExecutorCLI", package: executor),
                .product(name: "ExecutorControllers", package: executor),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)

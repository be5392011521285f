// swift-tools-version:6.1
// The executor's fuzz targets under libFuzzer. `make fuzz` builds this package with
// `--sanitize=fuzzer --sanitize=address` and runs each target; see README.md here.
// The targets' code is the executor package's ExecutorFuzzing library, which `make test`
// also runs over the committed corpus, so this package holds only the libFuzzer entry point.
import Foundation
import PackageDescription

// SwiftPM names a path dependency after its folder, which differs between clones.
let executorPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("..").standardizedFileURL
let executor = executorPath.lastPathComponent.lowercased()

let package = Package(
    name: "executor-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: executorPath.path),
    ],
    targets: [
        .executableTarget(
            name: "executor-fuzz",
            dependencies: [.product(name: "ExecutorFuzzing", package: executor)]
        ),
    ],
    swiftLanguageModes: [.v6]
)

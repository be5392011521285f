import ArgumentParser
import ExecutorAPI
import Foundation

/// `executor manifests`: writes the CRDs generated from the Swift source of truth.
struct ManifestsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "manifests", abstract: "Write the generated CustomResourceDefinitions.")

    @Option(name: .customLong("output-dir"), help: "Directory for the CRD files.")
    var outputDirectory = "config/crd/bases"

    func run() throws {
        try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
        let path = outputDirectory + "/flyte.org_taskactions.yaml"
        try TaskActionSchema.yaml().write(toFile: path, atomically: true, encoding: .utf8)
        print("wrote \(path)")
    }
}

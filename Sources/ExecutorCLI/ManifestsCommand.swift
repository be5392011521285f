import ArgumentParser
import ExecutorAPI
import ExecutorControllers
import Foundation
import Logging

/// `executor manifests`: writes the CRDs generated from the Swift source of truth and the
/// ClusterRole generated from the registered plugins.
struct ManifestsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "manifests", abstract: "Write the generated CustomResourceDefinitions and the executor's ClusterRole.")

    @Option(name: .customLong("output-dir"), help: "Directory for the CRD files.")
    var outputDirectory = "config/crd/bases"

    @Option(name: .customLong("rbac-dir"), help: "Directory for role.yaml.")
    var rbacDirectory = "config/rbac"

    func run() throws {
        try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
        for (file, yaml) in [("flyte.org_taskactions.yaml", try TaskActionSchema.yaml()), ("flyte.org_apps.yaml", try AppSchema.yaml())] {
            let path = outputDirectory + "/" + file
            try yaml.write(toFile: path, atomically: true, encoding: .utf8)
            print("wrote \(path)")
        }
        let registry = PluginRegistration.registry(ExecutorCLI.plugins, config: ExecutorConfig(), logger: Logger(label: "manifests"))
        let role = rbacDirectory + "/role.yaml"
        try FileManager.default.createDirectory(atPath: rbacDirectory, withIntermediateDirectories: true)
        try RBACManifest.clusterRoleYAML(plugins: Array(registry.plugins.values)).write(toFile: role, atomically: true, encoding: .utf8)
        print("wrote \(role)")
    }
}

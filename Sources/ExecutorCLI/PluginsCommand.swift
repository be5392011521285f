import ArgumentParser
import ExecutorControllers
import Foundation
import Logging
import TaskPlugins

/// `executor plugins`: which plugins this binary carries, their task types and child kinds.
struct PluginsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "plugins", abstract: "List the plugins this executor binary registers.")

    @Option(help: "YAML configuration file, for default-for-task-types.")
    var config: String?

    func run() throws {
        let executorConfig = try config.map(ExecutorConfig.load(path:)) ?? ExecutorConfig()
        var registry = PluginRegistration.registry(ExecutorCLI.plugins, config: executorConfig, logger: Logger(label: "plugins"))
        registry.defaultForTaskTypes = executorConfig.defaultForTaskTypes
        print("PLUGIN\tDEFAULT\tCHILD\tTASK TYPES")
        for id in registry.plugins.keys.sorted() {
            guard let plugin = registry.plugins[id] else { continue }
            print("\(id)\t\(registry.defaultPluginID == id ? "yes" : "no")\t\(Self.child(of: plugin))\t\(plugin.taskTypes.filter { (try? registry.pluginID(for: $0)) == id }.joined(separator: ","))")
        }
        // Flyte's core plugins, which make no child (the connector plugin's jobs run at its
        // connectors), for the task types no registration took.
        for core in Executor.corePlugins(config: executorConfig) {
            let routed = executorConfig.defaultForTaskTypes.filter { $0.value == core.id }.map(\.key)
            let taskTypes = Set(core.taskTypes.filter { !registry.names($0) }).union(routed).sorted()
            guard !taskTypes.isEmpty else { continue }
            print("\(core.id)\tno\t-\t\(taskTypes.joined(separator: ","))")
        }
    }

    static func child<P: KubernetesTaskPlugin>(of plugin: P) -> String {
        "\(P.Child.resourceType.apiVersion) \(P.Child.resourceType.kind)"
    }
}

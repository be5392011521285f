import Foundation
import KubeClient
import TaskPlugins

/// A plugin from outside the executor's repository: a `note` task writes its action name into
/// a ConfigMap and succeeds once the ConfigMap exists.
public struct NotePlugin: KubernetesTaskPlugin {
    public let id = "note"
    public let taskTypes = ["note"]
    public let properties = PluginProperties()

    public init() {}

    public func build(_ context: TaskExecutionContext) throws -> ConfigMap {
        ConfigMap(metadata: ObjectMeta(), data: ["action": context.taskAction.spec.actionName])
    }

    public func phase(of child: ConfigMap, context: TaskExecutionContext) -> PhaseInfo {
        child.data?["action"] == nil ? .failure("NoteEmpty", "the note has no action") : .success("noted")
    }

    public func isTerminal(_ child: ConfigMap) -> Bool { true }

    public func completionTime(_ child: ConfigMap) -> Date? {
        child.metadata.creationTimestamp.flatMap(KubeTime.parse)
    }
}

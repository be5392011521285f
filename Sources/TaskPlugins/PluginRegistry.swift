import Logging

/// Maps task types to plugins: an exact registration, else a `default-for-task-types`
/// override, else the default plugin.
public struct PluginRegistry: Sendable {
    public private(set) var plugins: [String: any KubernetesTaskPlugin] = [:]
    private var byTaskType: [String: String] = [:]
    public private(set) var defaultPluginID: String?
    /// Task type → plugin id, applied after every registration (config `default-for-task-types`).
    public var defaultForTaskTypes: [String: String] = [:]
    let logger: Logger

    public init(logger: Logger = Logger(label: "plugins")) {
        self.logger = logger
    }

    /// Registers `plugin` for its task types. A task type already taken moves to this plugin
    /// with a warning: the last registration wins, as in Flyte.
    public mutating func register(_ plugin: any KubernetesTaskPlugin, isDefault: Bool = false) {
        if plugins[plugin.id] != nil {
            logger.warning("plugin registered twice; the last registration wins", metadata: ["plugin": "\(plugin.id)"])
        }
        plugins[plugin.id] = plugin
        for type in plugin.taskTypes {
            if let existing = byTaskType[type], existing != plugin.id {
                logger.warning("task type registered by two plugins; the last wins", metadata: ["taskType": "\(type)", "previous": "\(existing)", "plugin": "\(plugin.id)"])
            }
            byTaskType[type] = plugin.id
        }
        if isDefault { defaultPluginID = plugin.id }
    }

    public struct NotFound: Error, CustomStringConvertible {
        public var taskType: String
        public var reason: String
        public var description: String { reason }
    }

    /// The plugin for `taskType`.
    public func plugin(for taskType: String) throws -> any KubernetesTaskPlugin {
        if let id = defaultForTaskTypes[taskType] {
            guard let plugin = plugins[id] else {
                throw NotFound(taskType: taskType, reason: "default-for-task-types names plugin \"\(id)\", which is not registered")
            }
            return plugin
        }
        if let id = byTaskType[taskType], let plugin = plugins[id] { return plugin }
        if let id = defaultPluginID, let plugin = plugins[id] { return plugin }
        throw NotFound(taskType: taskType, reason: "no plugin registered for the task type and no default plugin")
    }
}

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

    public struct NotFound: Error, CustomStringConvertible, Sendable {
        public var taskType: String
        public var reason: String
        public var description: String { reason }

        public init(taskType: String, reason: String) {
            self.taskType = taskType
            self.reason = reason
        }
    }

    /// The id of the plugin for `taskType`.
    public func pluginID(for taskType: String) throws(NotFound) -> String {
        if let id = defaultForTaskTypes[taskType] {
            guard plugins[id] != nil else {
                throw NotFound(taskType: taskType, reason: "default-for-task-types names plugin \"\(id)\", which is not registered")
            }
            return id
        }
        if let id = byTaskType[taskType], plugins[id] != nil { return id }
        if let id = defaultPluginID, plugins[id] != nil { return id }
        throw NotFound(taskType: taskType, reason: "no plugin registered for the task type and no default plugin")
    }

    /// Whether a registration or `default-for-task-types` names `taskType` itself (not through
    /// the default plugin).
    public func names(_ taskType: String) -> Bool {
        defaultForTaskTypes[taskType] != nil || byTaskType[taskType] != nil
    }

    /// The plugin for `taskType`.
    public func plugin(for taskType: String) throws(NotFound) -> any KubernetesTaskPlugin {
        let id = try pluginID(for: taskType)
        guard let plugin = plugins[id] else { throw NotFound(taskType: taskType, reason: "plugin \"\(id)\" is not registered") }
        return plugin
    }
}

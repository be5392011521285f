import FlyteDataPlane
import Foundation
import KubeClient
import TaskPlugins

/// The executor's configuration file (`--config`), YAML. Every key is optional; the defaults
/// are Flyte's unless said otherwise.
public struct ExecutorConfig: Codable, Sendable, Hashable {
    /// Consecutive system failures tolerated before an action fails for good (Flyte: 3).
    public var maxSystemFailures: Int = 3
    /// How long to wait before looking at an action again after a system error.
    public var requeueSeconds: Int = 10
    /// A non-terminal status change within this long of the TaskAction's last write is
    /// merged into the next write instead of written at once; terminal ones are written at
    /// once, and every ActionEvent is sent when it happens. 0 writes every change. Not Flyte's.
    public var statusCoalesceMilliseconds: Int = 1000
    /// Under load the window widens so that the TaskActions in flight together make about this
    /// many non-terminal status writes per second: with N in flight (task TaskActions created
    /// and not ended, ``TaskActionsInFlight``) it is N / this, never less
    /// than `statusCoalesceMilliseconds` nor more than `statusCoalesceMaxMilliseconds`. 0 keeps
    /// the window fixed. Not Flyte's.
    public var statusWritesPerSecond: Double = 25
    /// The widest the coalescing window grows under load: how far behind its phase a
    /// TaskAction's status may fall.
    public var statusCoalesceMaxMilliseconds: Int = 30_000
    public var gc = GC()
    /// Task type → plugin id, overriding the registrations.
    public var defaultForTaskTypes: [String: String] = [:]
    /// Settings of the Kubernetes plugins.
    public var plugins = PluginConfig()
    /// Settings of the Spark plugin.
    public var spark = SparkConfig()
    /// Settings of the Ray plugin.
    public var ray = RayConfig()
    /// Settings of the Kubeflow plugins (PyTorch, TensorFlow, MPI): Flyte's `plugins.kf-operator`.
    public var kfOperator = KubeflowConfig()
    /// Settings of the Dask plugin: Flyte's `plugins.dask`.
    public var dask = DaskConfig()
    /// Connector deployments, for tasks run by external services: Flyte's
    /// `plugins.connector-service`. Without an endpoint the connector plugin is off.
    public var connectorService = ConnectorServiceConfig()
    /// Settings of the App controller.
    public var apps = AppsConfig()
    /// Flyte's events service; without a URL, ActionEvents are logged at debug level.
    public var events = EventsConfig()
    /// This cluster's name in every ActionEvent (`cluster`), for Flyte deployments with several.
    public var cluster = ""
    /// The blob store that error documents are read from, and cached outputs copied in.
    public var storage = StorageConfig()
    /// Flyte's cache service, for tasks marked `cache=True`; without a URL they run every time.
    public var cacheService = CacheServiceConfig()
    /// Webhooks told of phase changes. Not Flyte's.
    public var notifications = NotificationsConfig()
    /// The Pod-mutating webhook that injects tasks' and apps' secrets (Flyte's `webhook:`).
    public var webhook = SecretsWebhookConfig()
    /// Where the webhook's Global secret manager looks (Flyte's `secrets:`).
    public var secrets = GlobalSecretsConfig()
    /// Label of the Kubernetes Events' reporting controller.
    public var eventsReportingController = "taskaction-controller"
    /// Longest wait, in seconds, between two discovery checks for a kind that is not served
    /// yet, when its CustomResourceDefinition cannot be watched (RBAC) or exists but is not in
    /// discovery yet; the checks back off from 1 s to this. Not Flyte's.
    public var kindRecheckSeconds: Int = 30

    public struct GC: Codable, Sendable, Hashable {
        /// Seconds between sweeps; 0 turns GC off (Flyte: 30m).
        public var intervalSeconds: Int = 1800
        /// Terminal actions older than this are deleted; 0 or less deletes them at the next sweep (Flyte: 1h).
        public var maxTTLSeconds: Int = 3600
        /// Stamp `flyte.org/termination-status` and `flyte.org/completed-time` on terminal
        /// actions, for tools that select on them (Flyte's GC does; this one reads its cache).
        /// Off by default: it is one more write per action. Not Flyte's option.
        public var labels = false

        public init() {}

        enum CodingKeys: String, CodingKey, CaseIterable {
            case intervalSeconds = "interval-seconds"
            case maxTTLSeconds = "max-ttl-seconds"
            case labels
        }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            intervalSeconds = try c.decodeIfPresent(Int.self, forKey: .intervalSeconds) ?? 1800
            maxTTLSeconds = try c.decodeIfPresent(Int.self, forKey: .maxTTLSeconds) ?? 3600
            labels = try c.decodeIfPresent(Bool.self, forKey: .labels) ?? false
        }
    }

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case maxSystemFailures = "max-system-failures"
        case requeueSeconds = "requeue-seconds"
        case statusCoalesceMilliseconds = "status-coalesce-milliseconds"
        case statusWritesPerSecond = "status-writes-per-second"
        case statusCoalesceMaxMilliseconds = "status-coalesce-max-milliseconds"
        case gc
        case defaultForTaskTypes = "default-for-task-types"
        case plugins
        case spark
        case ray
        case kfOperator = "kf-operator"
        case dask
        case connectorService = "connector-service"
        case apps
        case events
        case cluster
        case storage
        case cacheService = "cache-service"
        case notifications
        case webhook
        case secrets
        case eventsReportingController = "events-reporting-controller"
        case kindRecheckSeconds = "kind-recheck-seconds"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        maxSystemFailures = try c.decodeIfPresent(Int.self, forKey: .maxSystemFailures) ?? 3
        requeueSeconds = try c.decodeIfPresent(Int.self, forKey: .requeueSeconds) ?? 10
        statusCoalesceMilliseconds = try c.decodeIfPresent(Int.self, forKey: .statusCoalesceMilliseconds) ?? 1000
        statusWritesPerSecond = try c.decodeIfPresent(Double.self, forKey: .statusWritesPerSecond) ?? 25
        statusCoalesceMaxMilliseconds = try c.decodeIfPresent(Int.self, forKey: .statusCoalesceMaxMilliseconds) ?? 30_000
        gc = try c.decodeIfPresent(GC.self, forKey: .gc) ?? GC()
        defaultForTaskTypes = try c.decodeIfPresent([String: String].self, forKey: .defaultForTaskTypes) ?? [:]
        plugins = try c.decodeIfPresent(PluginConfig.self, forKey: .plugins) ?? PluginConfig()
        spark = try c.decodeIfPresent(SparkConfig.self, forKey: .spark) ?? SparkConfig()
        ray = try c.decodeIfPresent(RayConfig.self, forKey: .ray) ?? RayConfig()
        kfOperator = try c.decodeIfPresent(KubeflowConfig.self, forKey: .kfOperator) ?? KubeflowConfig()
        dask = try c.decodeIfPresent(DaskConfig.self, forKey: .dask) ?? DaskConfig()
        connectorService = try c.decodeIfPresent(ConnectorServiceConfig.self, forKey: .connectorService) ?? ConnectorServiceConfig()
        apps = try c.decodeIfPresent(AppsConfig.self, forKey: .apps) ?? AppsConfig()
        events = try c.decodeIfPresent(EventsConfig.self, forKey: .events) ?? EventsConfig()
        cluster = try c.decodeIfPresent(String.self, forKey: .cluster) ?? ""
        storage = try c.decodeIfPresent(StorageConfig.self, forKey: .storage) ?? StorageConfig()
        cacheService = try c.decodeIfPresent(CacheServiceConfig.self, forKey: .cacheService) ?? CacheServiceConfig()
        notifications = try c.decodeIfPresent(NotificationsConfig.self, forKey: .notifications) ?? NotificationsConfig()
        webhook = try c.decodeIfPresent(SecretsWebhookConfig.self, forKey: .webhook) ?? SecretsWebhookConfig()
        secrets = try c.decodeIfPresent(GlobalSecretsConfig.self, forKey: .secrets) ?? GlobalSecretsConfig()
        eventsReportingController = try c.decodeIfPresent(String.self, forKey: .eventsReportingController) ?? "taskaction-controller"
        kindRecheckSeconds = try c.decodeIfPresent(Int.self, forKey: .kindRecheckSeconds) ?? 30
    }

    public struct Invalid: Error, CustomStringConvertible {
        public var path: String
        public var problem: String
        public var description: String { "invalid config \(path): \(problem)" }
    }

    /// Reads a YAML file; one line names the file and what is wrong.
    public static func load(path: String) throws -> ExecutorConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Invalid(path: path, problem: "cannot read the file")
        }
        return try parse(yaml: String(decoding: data, as: UTF8.self), path: path)
    }

    /// Reads the text of a config file; `path` names it in errors.
    public static func parse(yaml text: String, path: String) throws -> ExecutorConfig {
        do {
            let value = try JSONValue(yaml: text)
            if value.isNull { return ExecutorConfig() }
            guard case .object = value else { throw Invalid(path: path, problem: "the top level must be a mapping") }
            let config = try JSONValueDecoder().decode(ExecutorConfig.self, from: value)
            if config.maxSystemFailures < 0 { throw Invalid(path: path, problem: "max-system-failures must be 0 or more") }
            if config.apps.maxRequestTimeoutSeconds < 1 || config.apps.defaultRequestTimeoutSeconds < 0 { throw Invalid(path: path, problem: "apps: request timeouts must be positive") }
            if config.statusCoalesceMilliseconds < 0 { throw Invalid(path: path, problem: "status-coalesce-milliseconds must be 0 or more") }
            if config.statusWritesPerSecond < 0 { throw Invalid(path: path, problem: "status-writes-per-second must be 0 or more") }
            if config.statusCoalesceMaxMilliseconds < config.statusCoalesceMilliseconds { throw Invalid(path: path, problem: "status-coalesce-max-milliseconds must be at least status-coalesce-milliseconds") }
            if config.kindRecheckSeconds < 1 { throw Invalid(path: path, problem: "kind-recheck-seconds must be 1 or more") }
            do {
                try config.events.validate()
            } catch {
                throw Invalid(path: path, problem: "\(error)")
            }
            do {
                try config.connectorService.validate()
            } catch {
                throw Invalid(path: path, problem: "connector-service: \(error)")
            }
            do {
                try config.cacheService.validate()
            } catch {
                throw Invalid(path: path, problem: "\(error)")
            }
            if config.cacheService.enabled, config.storage.type == .none {
                throw Invalid(path: path, problem: "cache-service needs a blob store to copy cached outputs with: storage.type must not be none")
            }
            if config.storage.maxDocumentBytes < 1 { throw Invalid(path: path, problem: "storage.max-document-bytes must be 1 or more") }
            if config.webhook.enabled {
                do {
                    try config.webhook.validate()
                } catch let error as Invalid {
                    throw Invalid(path: path, problem: "\(error.path): \(error.problem)")
                }
            }
            do {
                try config.notifications.validate()
            } catch let error as Invalid {
                throw Invalid(path: path, problem: "\(error.path): \(error.problem)")
            }
            return config
        } catch let error as Invalid {
            throw error
        } catch {
            throw Invalid(path: path, problem: "\(error)")
        }
    }
}

import FlyteDataPlane
import KubeClient
import TaskPlugins

/// `connector-service:` in the executor's config file, Flyte's `plugins.connector-service`:
/// the connector deployments that run tasks outside the cluster (BigQuery, Databricks,
/// Snowflake, …) and which task types go to them. The keys are Flyte's.
///
/// ```yaml
/// connector-service:
///   defaultConnector:
///     endpoint: dns:///flyteconnector.flyte.svc.cluster.local:8000
///     insecure: true
///     defaultTimeout: 10s
///   connectors:
///     databricks:
///       endpoint: dns:///databricks-connector.flyte.svc:8000
///       insecure: true
///       timeouts: {CreateTask: 30s}
///   connectorForTaskTypes: {spark: databricks}   # when the connector lists none itself
///   supportedTaskTypes: [bigquery_query_job_task, spark]
///   pollInterval: 10s                            # how often connectors are asked what they run
///   webApi:
///     caching:
///       resyncInterval: 30s                      # how often a running task's state is read
///     readRateLimiter: {qps: 10, burst: 100}     # GetTask calls per second, all tasks together
/// ```
public struct ConnectorServiceConfig: Codable, Sendable, Hashable {
    /// Takes a task no listed connector claims; `insecure`, a 10 s timeout and round-robin
    /// balancing by default, as Flyte's.
    public var defaultConnector = ConnectorDeployment.flyteDefault
    /// Deployments by id.
    public var connectors: [String: ConnectorDeployment] = [:]
    /// Task type → deployment id, for connectors that do not answer ListConnectors.
    public var connectorForTaskTypes: [String: String] = [:]
    /// The task types this plugin runs (with those of `connectorForTaskTypes`).
    public var supportedTaskTypes: [String] = []
    /// Seconds between two rounds of ListConnectors at every deployment.
    public var pollIntervalSeconds: Double = 10
    /// Seconds between two GetTask calls for a running task (`webApi.caching.resyncInterval`).
    public var resyncIntervalSeconds: Double = 30
    /// GetTask calls per second to all connectors together, and the burst above it
    /// (`webApi.readRateLimiter`, Flyte's 10 and 100): a round over the limit asks nothing and
    /// comes back when a call may be made.
    public var readQPS: Double = 10
    public var readBurst = 100

    public init() {}

    /// Whether any deployment is configured: without one the plugin is not registered.
    public var isConfigured: Bool {
        !defaultConnector.endpoint.isEmpty || connectors.values.contains { !$0.endpoint.isEmpty }
    }

    /// The task types routed to the connector plugin, sorted.
    public var taskTypes: [String] {
        Array(Set(supportedTaskTypes).union(connectorForTaskTypes.keys)).sorted()
    }

    /// Checks every endpoint and service config, as the clients will read them.
    public func validate() throws {
        for (id, deployment) in [("defaultConnector", defaultConnector)] + connectors.sorted(by: { $0.key < $1.key }) where !deployment.endpoint.isEmpty {
            do {
                try ConnectorClient.check(endpoint: deployment.endpoint, serviceConfig: deployment.defaultServiceConfig)
            } catch {
                throw ConnectorCallError(code: error.code, message: "\(id): \(error.message)")
            }
        }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case defaultConnector, connectors, connectorForTaskTypes, supportedTaskTypes, pollInterval, webApi, resourceConstraints
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if c.contains(.defaultConnector) {
            defaultConnector = try ConnectorDeployment(from: c.superDecoder(forKey: .defaultConnector), defaults: .flyteDefault)
        }
        if c.contains(.connectors) {
            let nested = try c.nestedContainer(keyedBy: AnyKey.self, forKey: .connectors)
            for key in nested.allKeys {
                connectors[key.stringValue] = try ConnectorDeployment(from: nested.superDecoder(forKey: key), defaults: ConnectorDeployment())
            }
        }
        connectorForTaskTypes = try c.decodeIfPresent([String: String].self, forKey: .connectorForTaskTypes) ?? [:]
        supportedTaskTypes = try c.decodeIfPresent([String].self, forKey: .supportedTaskTypes) ?? []
        if let text = try c.decodeIfPresent(String.self, forKey: .pollInterval) {
            guard let seconds = GoDuration.parse(text), seconds > 0 else {
                throw DecodingError.dataCorruptedError(forKey: .pollInterval, in: c, debugDescription: "\"\(text)\" is not a positive Go duration such as 10s")
            }
            pollIntervalSeconds = seconds
        }
        // Flyte's webApi section also holds quotas, a write limiter and cache sizes for its
        // shared web-API machinery, read and not used here (README): the resync interval and
        // the read limiter are.
        if c.contains(.webApi) {
            let webApi = try c.decode(JSONValue.self, forKey: .webApi)
            if case .string(let text)? = webApi["caching"]?["resyncInterval"] {
                guard let seconds = GoDuration.parse(text), seconds > 0 else {
                    throw DecodingError.dataCorruptedError(forKey: .webApi, in: c, debugDescription: "caching.resyncInterval: \"\(text)\" is not a positive Go duration such as 30s")
                }
                resyncIntervalSeconds = seconds
            }
            if let limiter = webApi["readRateLimiter"] {
                if let qps = limiter["qps"]?.doubleValue { readQPS = qps }
                if let burst = limiter["burst"]?.doubleValue { readBurst = Int(burst) }
                guard readQPS > 0, readBurst >= 1 else {
                    throw DecodingError.dataCorruptedError(forKey: .webApi, in: c, debugDescription: "readRateLimiter: qps must be positive and burst at least 1")
                }
            }
        }
        for (taskType, id) in connectorForTaskTypes where connectors[id] == nil {
            throw DecodingError.dataCorruptedError(forKey: .connectorForTaskTypes, in: c, debugDescription: "task type \"\(taskType)\" names connector \"\(id)\", which connectors does not list")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(defaultConnector, forKey: .defaultConnector)
        try c.encode(connectors, forKey: .connectors)
        try c.encode(connectorForTaskTypes, forKey: .connectorForTaskTypes)
        try c.encode(supportedTaskTypes, forKey: .supportedTaskTypes)
        try c.encode(GoDuration.text(pollIntervalSeconds), forKey: .pollInterval)
        try c.encode(JSONValue.object([
            "caching": .object(["resyncInterval": .string(GoDuration.text(resyncIntervalSeconds))]),
            "readRateLimiter": .object(["qps": .double(readQPS), "burst": .int(Int64(readBurst))]),
        ]), forKey: .webApi)
    }

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}

/// One connector deployment (Flyte's `connector.Deployment`).
public struct ConnectorDeployment: Codable, Sendable, Hashable {
    /// A gRPC target: `dns:///host:port`, `host:port` or `unix:path`.
    public var endpoint = ""
    /// Clear-text HTTP/2; else TLS with the system's roots. False unless set, but for
    /// `defaultConnector`, as in Flyte.
    public var insecure = false
    /// A gRPC service config in JSON.
    public var defaultServiceConfig = ""
    /// Seconds per call by method name (`CreateTask`, `GetTask`, `DeleteTask`, `ListConnectors`).
    public var timeouts: [String: Double] = [:]
    /// Seconds for a call `timeouts` does not name; 0 for none.
    public var defaultTimeout: Double = 0
    /// The project (and domain) whose tasks this deployment takes; empty for all.
    public var project = ""
    public var domain = ""

    public init() {}

    /// Flyte's `defaultConnector` before the file is read.
    public static var flyteDefault: ConnectorDeployment {
        var deployment = ConnectorDeployment()
        deployment.insecure = true
        deployment.defaultTimeout = 10
        deployment.defaultServiceConfig = #"{"loadBalancingConfig": [{"round_robin":{}}]}"#
        return deployment
    }

    /// The timeout of `method`, nil for none.
    public func timeout(_ method: String) -> Duration? {
        let seconds = timeouts[method] ?? defaultTimeout
        return seconds > 0 ? .milliseconds(Int64((seconds * 1000).rounded(.up))) : nil
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case endpoint, insecure, defaultServiceConfig, timeouts, defaultTimeout, project, domain
    }

    public init(from decoder: any Decoder) throws {
        try self.init(from: decoder, defaults: ConnectorDeployment())
    }

    /// Reads the keys the file sets over `defaults`.
    init(from decoder: any Decoder, defaults: ConnectorDeployment) throws {
        self = defaults
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        endpoint = try c.decodeIfPresent(String.self, forKey: .endpoint) ?? endpoint
        insecure = try c.decodeIfPresent(Bool.self, forKey: .insecure) ?? insecure
        defaultServiceConfig = try c.decodeIfPresent(String.self, forKey: .defaultServiceConfig) ?? defaultServiceConfig
        project = try c.decodeIfPresent(String.self, forKey: .project) ?? project
        domain = try c.decodeIfPresent(String.self, forKey: .domain) ?? domain
        if let text = try c.decodeIfPresent(String.self, forKey: .defaultTimeout) {
            defaultTimeout = try Self.seconds(text, key: .defaultTimeout, in: c)
        }
        if let texts = try c.decodeIfPresent([String: String].self, forKey: .timeouts) {
            timeouts = try texts.mapValues { try Self.seconds($0, key: .timeouts, in: c) }
        }
    }

    private static func seconds(_ text: String, key: CodingKeys, in c: KeyedDecodingContainer<CodingKeys>) throws -> Double {
        guard let seconds = GoDuration.parse(text), seconds >= 0 else {
            throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "\"\(text)\" is not a Go duration such as 10s")
        }
        return seconds
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(endpoint, forKey: .endpoint)
        try c.encode(insecure, forKey: .insecure)
        try c.encode(defaultServiceConfig, forKey: .defaultServiceConfig)
        try c.encode(timeouts.mapValues { GoDuration.text($0) }, forKey: .timeouts)
        try c.encode(GoDuration.text(defaultTimeout), forKey: .defaultTimeout)
        try c.encode(project, forKey: .project)
        try c.encode(domain, forKey: .domain)
    }
}

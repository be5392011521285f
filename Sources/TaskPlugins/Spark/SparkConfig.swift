import KubeClient

/// Settings of the Spark plugin (Flyte's `plugins.spark` configuration).
public struct SparkConfig: Codable, Sendable, Hashable {
    /// Spark properties every application starts from.
    public var sparkConfigDefault: [String: String] = [:]
    /// Spark history server; when set, an ended application links to `<url>/history/<id>`.
    public var sparkHistoryServerURL: String?
    /// Named groups of properties a job turns on with `spark.flyte.<name>.enabled=true`.
    public var features: [Feature] = []
    /// Pass the task's pod spec as the driver's and executors' `template` when the installed
    /// CRD has that field. Defaults to true.
    public var enablePodTemplate = true

    public struct Feature: Codable, Sendable, Hashable {
        public var name: String
        public var sparkConfig: [String: String]

        public init(name: String, sparkConfig: [String: String]) {
            self.name = name
            self.sparkConfig = sparkConfig
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case name
            case sparkConfig = "spark-config"
        }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decode(String.self, forKey: .name)
            sparkConfig = try c.decodeIfPresent([String: String].self, forKey: .sparkConfig) ?? [:]
        }
    }

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case sparkConfigDefault = "spark-config-default"
        case sparkHistoryServerURL = "spark-history-server-url"
        case features
        case enablePodTemplate = "enable-pod-template"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        sparkConfigDefault = try c.decodeIfPresent([String: String].self, forKey: .sparkConfigDefault) ?? [:]
        sparkHistoryServerURL = try c.decodeIfPresent(String.self, forKey: .sparkHistoryServerURL)
        features = try c.decodeIfPresent([Feature].self, forKey: .features) ?? []
        enablePodTemplate = try c.decodeIfPresent(Bool.self, forKey: .enablePodTemplate) ?? true
    }
}

import KubeClient

/// `kf-operator:` in the executor's config file, Flyte's `plugins.kf-operator`: how long a
/// Kubeflow job may go without the operator's first status before its attempt fails as a
/// system error (the operator is not running, or does not serve the namespace).
///
/// ```yaml
/// kf-operator:
///   timeout: 1m      # a Go duration, as Flyte writes it
/// ```
public struct KubeflowConfig: Codable, Sendable, Hashable {
    public var timeoutSeconds = 60

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case timeout
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let text = try c.decodeIfPresent(String.self, forKey: .timeout) {
            // Whole seconds, rounded up, as the grace periods are read.
            guard let seconds = GoDuration.wholeSeconds(text), seconds > 0 else {
                throw DecodingError.dataCorruptedError(forKey: .timeout, in: c, debugDescription: "\"\(text)\" is not a positive Go duration such as 1m or 90s")
            }
            timeoutSeconds = seconds
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode("\(timeoutSeconds)s", forKey: .timeout)
    }
}

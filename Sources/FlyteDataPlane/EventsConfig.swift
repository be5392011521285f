import KubeClient

/// `events:` in the executor's config file: Flyte's events service, which learns of every
/// phase change through `flyteidl2.workflow.EventsProxyService/Record`. Without a URL the
/// executor logs the events at debug level instead.
///
/// ```yaml
/// events:
///   url: http://flyte-binary-http.flyte:8090   # Connect base URL (the service path is appended)
///   ca-file: /etc/flyte/events-ca.pem          # trust this CA instead of the system's
///   token-file: /var/run/secrets/flyte/token   # "Authorization: Bearer <contents>", re-read per batch
///   timeout-seconds: 30
/// ```
public struct EventsConfig: Codable, Sendable, Hashable {
    public var url: String?
    public var caFile: String?
    public var tokenFile: String?
    /// One request's deadline (Flyte's flush timeout: 30 s).
    public var timeoutSeconds = 30
    /// Events per request (Flyte: 400).
    public var batchSize = 400
    /// How long the first event of a batch waits for company (Flyte: 25 ms).
    public var batchWindowMilliseconds = 25
    /// Events waiting to be sent, beyond which `record` fails at once (Flyte: 8192).
    public var queueSize = 8192
    /// Requests in flight at once (Flyte: 32 flush workers).
    public var workers = 32

    public init(url: String? = nil) {
        self.url = url
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case url
        case caFile = "ca-file"
        case tokenFile = "token-file"
        case timeoutSeconds = "timeout-seconds"
        case batchSize = "batch-size"
        case batchWindowMilliseconds = "batch-window-milliseconds"
        case queueSize = "queue-size"
        case workers
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        url = try c.decodeIfPresent(String.self, forKey: .url)
        caFile = try c.decodeIfPresent(String.self, forKey: .caFile)
        tokenFile = try c.decodeIfPresent(String.self, forKey: .tokenFile)
        timeoutSeconds = try c.decodeIfPresent(Int.self, forKey: .timeoutSeconds) ?? 30
        batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? 400
        batchWindowMilliseconds = try c.decodeIfPresent(Int.self, forKey: .batchWindowMilliseconds) ?? 25
        queueSize = try c.decodeIfPresent(Int.self, forKey: .queueSize) ?? 8192
        workers = try c.decodeIfPresent(Int.self, forKey: .workers) ?? 32
    }

    /// The first setting that cannot work, as `events.<key>: <problem>`.
    public func validate() throws {
        func fail(_ key: String, _ problem: String) throws { throw EventsProxyError.invalidConfig("events.\(key): \(problem)") }
        if let url, !url.isEmpty, !(url.hasPrefix("http://") || url.hasPrefix("https://")) { try fail("url", "\(url) is not an http(s) URL") }
        if timeoutSeconds < 1 { try fail("timeout-seconds", "must be at least 1, not \(timeoutSeconds)") }
        if batchSize < 1 { try fail("batch-size", "must be at least 1, not \(batchSize)") }
        if batchWindowMilliseconds < 0 { try fail("batch-window-milliseconds", "must not be negative") }
        if queueSize < batchSize { try fail("queue-size", "must be at least batch-size (\(batchSize)), not \(queueSize)") }
        if workers < 1 { try fail("workers", "must be at least 1, not \(workers)") }
    }
}

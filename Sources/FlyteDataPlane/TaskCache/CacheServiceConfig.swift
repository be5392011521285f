import KubeClient

/// `cache-service:` in the executor's config file: Flyte's cache service
/// (`flyteidl2.cacheservice.v2.CacheService`), which keeps the outputs of tasks marked
/// `cache=True` (`metadata.discoverable`). Without a URL, cached tasks run every time and
/// their `status.cacheStatus` stays CACHE_DISABLED.
///
/// ```yaml
/// cache-service:
///   url: http://flyte-binary-http.flyte:8094   # Connect base URL (Flyte: cacheServiceURL)
///   ca-file: /etc/flyte/cache-ca.pem           # trust this CA instead of the system's
///   token-file: /var/run/secrets/flyte/token   # "Authorization: Bearer <contents>", re-read per call
///   timeout-seconds: 10
///   max-cache-age-seconds: 0                   # older entries are misses; 0: never (Flyte: catalogCache.maxCacheAge)
///   reservation-heartbeat-seconds: 10          # cache_serializable leases (Flyte: requeueDuration)
///   max-output-bytes: 67108864                 # the largest cached outputs.pb copied on a hit
///   outage-cooldown-seconds: 30                # after a call with no answer, skip the service this long
/// ```
public struct CacheServiceConfig: Codable, Sendable, Hashable {
    public var url: String?
    public var caFile: String?
    public var tokenFile: String?
    public var timeoutSeconds = 10
    public var maxCacheAgeSeconds = 0
    /// How long a reservation of a `cache_serializable` task is asked for; the executor
    /// extends it this often while the task runs, and a task waiting for another owner looks
    /// again this often. Flyte's cache service clamps it to its own maximum (10 s by default)
    /// and expires a reservation three heartbeats after its last extension.
    public var reservationHeartbeatSeconds = 10
    public var maxOutputBytes = 64 * 1024 * 1024
    /// After a call that got no answer (refused, reset, timed out), calls within this many
    /// seconds are not made: they fail at once as lookups that failed, so a cache service that
    /// is down or unreachable costs each cached task's launch nothing, rather than up to
    /// `timeout-seconds` of a reconcile worker. 0 calls every time. Not Flyte's.
    public var outageCooldownSeconds = 30

    public init(url: String? = nil) {
        self.url = url
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case url
        case caFile = "ca-file"
        case tokenFile = "token-file"
        case timeoutSeconds = "timeout-seconds"
        case maxCacheAgeSeconds = "max-cache-age-seconds"
        case reservationHeartbeatSeconds = "reservation-heartbeat-seconds"
        case maxOutputBytes = "max-output-bytes"
        case outageCooldownSeconds = "outage-cooldown-seconds"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        url = try c.decodeIfPresent(String.self, forKey: .url)
        caFile = try c.decodeIfPresent(String.self, forKey: .caFile)
        tokenFile = try c.decodeIfPresent(String.self, forKey: .tokenFile)
        timeoutSeconds = try c.decodeIfPresent(Int.self, forKey: .timeoutSeconds) ?? 10
        maxCacheAgeSeconds = try c.decodeIfPresent(Int.self, forKey: .maxCacheAgeSeconds) ?? 0
        reservationHeartbeatSeconds = try c.decodeIfPresent(Int.self, forKey: .reservationHeartbeatSeconds) ?? 10
        maxOutputBytes = try c.decodeIfPresent(Int.self, forKey: .maxOutputBytes) ?? 64 * 1024 * 1024
        outageCooldownSeconds = try c.decodeIfPresent(Int.self, forKey: .outageCooldownSeconds) ?? 30
    }

    /// Whether a URL is set.
    public var enabled: Bool { !(url ?? "").isEmpty }

    /// The first setting that cannot work, as `cache-service.<key>: <problem>`.
    public func validate() throws {
        func fail(_ key: String, _ problem: String) throws { throw CacheServiceError.invalidConfig("cache-service.\(key): \(problem)") }
        if let url, !url.isEmpty, !(url.hasPrefix("http://") || url.hasPrefix("https://")) { try fail("url", "\(url) is not an http(s) URL") }
        if timeoutSeconds < 1 { try fail("timeout-seconds", "must be at least 1, not \(timeoutSeconds)") }
        if maxCacheAgeSeconds < 0 { try fail("max-cache-age-seconds", "must not be negative") }
        if reservationHeartbeatSeconds < 1 { try fail("reservation-heartbeat-seconds", "must be at least 1, not \(reservationHeartbeatSeconds)") }
        if maxOutputBytes < 1 { try fail("max-output-bytes", "must be at least 1, not \(maxOutputBytes)") }
        if outageCooldownSeconds < 0 { try fail("outage-cooldown-seconds", "must not be negative") }
    }
}

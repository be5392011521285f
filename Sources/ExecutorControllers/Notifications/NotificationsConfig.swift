import Foundation
import KubeClient

/// `notifications:` in the executor's config file: where phase changes are announced besides
/// the TaskAction's status and Flyte's events service.
///
/// ```yaml
/// notifications:
///   webhooks:
///     - name: ops                                  # the metrics' `webhook` label
///       url: https://hooks.example.com/flyte
///       phases: [Succeeded, Failed, TimedOut]      # empty or absent: every phase
///       projects: [flytesnacks]                    # match lists; empty or absent: all
///       domains: [production]
///       taskTypes: [python-task, spark]
///       resources: [taskactions]                   # taskactions and/or apps; default both
///       headers: {X-Team: data}
///       secretFile: /etc/executor/webhook/secret   # HMAC-SHA256 key, re-read per delivery
/// ```
///
/// Keys are written as here or in the file's kebab-case (`secret-file`, `task-types`).
public struct NotificationsConfig: Codable, Sendable, Hashable {
    public var webhooks: [WebhookConfig] = []

    public init(webhooks: [WebhookConfig] = []) {
        self.webhooks = webhooks
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: FlexibleKey.self)
        try FlexibleKey.rejectUnknown(in: c, known: ["webhooks"], at: "notifications")
        webhooks = try c.flexible([WebhookConfig].self, "webhooks") ?? []
        for index in webhooks.indices where webhooks[index].name.isEmpty {
            webhooks[index].name = "webhook-\(index)"
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: FlexibleKey.self)
        try c.encode(webhooks, forKey: FlexibleKey("webhooks"))
    }

    /// The first setting that cannot work, as `notifications.webhooks[i].<key>: <problem>`.
    public func validate() throws {
        var names = Set<String>()
        for (index, webhook) in webhooks.enumerated() {
            try webhook.validate(at: "notifications.webhooks[\(index)]")
            if !names.insert(webhook.name).inserted {
                throw ExecutorConfig.Invalid(path: "notifications.webhooks[\(index)].name", problem: "\"\(webhook.name)\" is used by another webhook")
            }
        }
    }
}

/// One webhook: a receiver of CloudEvents for the phase changes its filters select.
public struct WebhookConfig: Codable, Sendable, Hashable {
    /// Names the webhook in metrics and logs; `webhook-<index>` when not set.
    public var name = ""
    public var url = ""
    /// Phases that are sent (TaskActions: Queued, Initializing, Running, Succeeded, Failed,
    /// RetryableFailure, Aborted, TimedOut, Paused; Apps: PENDING, DEPLOYING, ACTIVE, STOPPED,
    /// FAILED), matched ignoring case and underscores. Empty: all.
    public var phases: [String] = []
    /// `taskactions`, `apps`; empty: both.
    public var resources: [String] = []
    /// Flyte projects, domains and task types that are sent; empty: all.
    public var projects: [String] = []
    public var domains: [String] = []
    public var taskTypes: [String] = []
    /// Extra request headers (an API key, a routing header).
    public var headers: [String: String] = [:]
    /// A file holding the HMAC-SHA256 key that signs each body (`X-Executor-Signature`).
    public var secretFile: String?
    /// A PEM bundle trusted instead of the system's roots.
    public var caFile: String?
    /// One request's deadline.
    public var timeoutSeconds = 10
    /// Attempts per event, the first included, before it is dropped.
    public var maxAttempts = 8
    /// An event older than this is dropped instead of retried again.
    public var maxAgeSeconds = 3600
    /// Events waiting; beyond it new ones are dropped (and counted).
    public var queueSize = 10_000
    /// Deliveries in flight at once; events of one TaskAction or App always go in order, one
    /// at a time.
    public var concurrency = 4
    /// The first retry's delay; each next one doubles, up to `maxBackoffSeconds`, with jitter.
    public var initialBackoffMilliseconds = 1000
    public var maxBackoffSeconds = 300

    public init(name: String = "", url: String) {
        self.name = name
        self.url = url
    }

    static let keys = ["name", "url", "phases", "resources", "projects", "domains", "taskTypes", "headers", "secretFile", "caFile",
                       "timeoutSeconds", "maxAttempts", "maxAgeSeconds", "queueSize", "concurrency", "initialBackoffMilliseconds", "maxBackoffSeconds"]

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: FlexibleKey.self)
        try FlexibleKey.rejectUnknown(in: c, known: Self.keys, at: "webhook")
        func value<T: Decodable>(_ key: String, _ type: T.Type) throws -> T? {
            try c.flexible(type, key)
        }
        name = try value("name", String.self) ?? ""
        url = try value("url", String.self) ?? ""
        phases = try value("phases", [String].self) ?? []
        resources = try value("resources", [String].self) ?? []
        projects = try value("projects", [String].self) ?? []
        domains = try value("domains", [String].self) ?? []
        taskTypes = try value("taskTypes", [String].self) ?? []
        headers = try value("headers", [String: String].self) ?? [:]
        secretFile = try value("secretFile", String.self)
        caFile = try value("caFile", String.self)
        timeoutSeconds = try value("timeoutSeconds", Int.self) ?? 10
        maxAttempts = try value("maxAttempts", Int.self) ?? 8
        maxAgeSeconds = try value("maxAgeSeconds", Int.self) ?? 3600
        queueSize = try value("queueSize", Int.self) ?? 10_000
        concurrency = try value("concurrency", Int.self) ?? 4
        initialBackoffMilliseconds = try value("initialBackoffMilliseconds", Int.self) ?? 1000
        maxBackoffSeconds = try value("maxBackoffSeconds", Int.self) ?? 300
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: FlexibleKey.self)
        try c.encode(name, forKey: FlexibleKey("name"))
        try c.encode(url, forKey: FlexibleKey("url"))
        try c.encode(phases, forKey: FlexibleKey("phases"))
        try c.encode(resources, forKey: FlexibleKey("resources"))
        try c.encode(projects, forKey: FlexibleKey("projects"))
        try c.encode(domains, forKey: FlexibleKey("domains"))
        try c.encode(taskTypes, forKey: FlexibleKey("taskTypes"))
        try c.encode(headers, forKey: FlexibleKey("headers"))
        try c.encodeIfPresent(secretFile, forKey: FlexibleKey("secretFile"))
        try c.encodeIfPresent(caFile, forKey: FlexibleKey("caFile"))
        try c.encode(timeoutSeconds, forKey: FlexibleKey("timeoutSeconds"))
        try c.encode(maxAttempts, forKey: FlexibleKey("maxAttempts"))
        try c.encode(maxAgeSeconds, forKey: FlexibleKey("maxAgeSeconds"))
        try c.encode(queueSize, forKey: FlexibleKey("queueSize"))
        try c.encode(concurrency, forKey: FlexibleKey("concurrency"))
        try c.encode(initialBackoffMilliseconds, forKey: FlexibleKey("initialBackoffMilliseconds"))
        try c.encode(maxBackoffSeconds, forKey: FlexibleKey("maxBackoffSeconds"))
    }

    /// Every phase a filter may name.
    public static let knownPhases = PhaseChange.taskActionPhases + PhaseChange.appPhases

    func validate(at path: String) throws {
        func fail(_ key: String, _ problem: String) throws { throw ExecutorConfig.Invalid(path: "\(path).\(key)", problem: problem) }
        if !(url.hasPrefix("http://") || url.hasPrefix("https://")) || URL(string: url)?.host == nil {
            try fail("url", url.isEmpty ? "is required" : "\(url) is not an http(s) URL")
        }
        let known = Set(Self.knownPhases.map(PhaseChange.normalizedPhase))
        if let unknown = phases.first(where: { !known.contains(PhaseChange.normalizedPhase($0)) }) {
            try fail("phases", "unknown phase \"\(unknown)\"; known: \(Self.knownPhases.joined(separator: ", "))")
        }
        if let unknown = resources.first(where: { PhaseChange.Resource(rawValue: $0.lowercased()) == nil }) {
            try fail("resources", "unknown resource \"\(unknown)\"; known: taskactions, apps")
        }
        if let secretFile {
            guard FileManager.default.isReadableFile(atPath: secretFile) else { try fail("secretFile", "\(secretFile) cannot be read"); return }
        }
        if let caFile, !FileManager.default.isReadableFile(atPath: caFile) { try fail("caFile", "\(caFile) cannot be read") }
        if timeoutSeconds < 1 { try fail("timeoutSeconds", "must be at least 1, not \(timeoutSeconds)") }
        if maxAttempts < 1 { try fail("maxAttempts", "must be at least 1, not \(maxAttempts)") }
        if maxAgeSeconds < 1 { try fail("maxAgeSeconds", "must be at least 1, not \(maxAgeSeconds)") }
        if queueSize < 1 { try fail("queueSize", "must be at least 1, not \(queueSize)") }
        if concurrency < 1 { try fail("concurrency", "must be at least 1, not \(concurrency)") }
        if initialBackoffMilliseconds < 1 { try fail("initialBackoffMilliseconds", "must be at least 1, not \(initialBackoffMilliseconds)") }
        if maxBackoffSeconds < 1 { try fail("maxBackoffSeconds", "must be at least 1, not \(maxBackoffSeconds)") }
    }

    /// True when `change` passes every filter of this webhook.
    func selects(_ change: PhaseChange) -> Bool {
        func admits(_ list: [String], _ value: String?) -> Bool {
            list.isEmpty || value.map(list.contains) == true
        }
        if !resources.isEmpty, !resources.contains(where: { $0.lowercased() == change.resource.rawValue }) { return false }
        if !phases.isEmpty, !phases.contains(where: { PhaseChange.normalizedPhase($0) == PhaseChange.normalizedPhase(change.phase) }) { return false }
        return admits(projects, change.project) && admits(domains, change.domain) && admits(taskTypes, change.taskType)
    }
}

/// A coding key that answers to its camelCase name and to the kebab-case spelling the rest
/// of the config file uses.
struct FlexibleKey: CodingKey, Hashable {
    var stringValue: String
    var intValue: Int? { nil }

    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }

    /// `taskTypes` → `task-types`.
    static func kebab(_ name: String) -> String {
        var out = ""
        for ch in name {
            if ch.isUppercase {
                out.append("-")
                out.append(contentsOf: ch.lowercased())
            } else {
                out.append(ch)
            }
        }
        return out
    }

    /// Fails on a key that is neither a known name nor its kebab-case spelling, naming where
    /// it is (`notifications.webhooks[0]: unknown key "secret"`).
    static func rejectUnknown(in container: KeyedDecodingContainer<FlexibleKey>, known: [String], at path: String) throws {
        try UnknownConfigKey.reject(container.allKeys.map(\.stringValue), known: Set(known + known.map(kebab)), codingPath: container.codingPath, fallback: path)
    }
}

extension KeyedDecodingContainer where Key == FlexibleKey {
    /// Decodes `key` under its camelCase or its kebab-case name.
    func flexible<T: Decodable>(_ type: T.Type, _ name: String) throws -> T? {
        let key = FlexibleKey(name)
        let kebab = FlexibleKey(FlexibleKey.kebab(name))
        if contains(key) { return try decode(type, forKey: key) }
        if contains(kebab) { return try decode(type, forKey: kebab) }
        return nil
    }
}

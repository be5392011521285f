import ExecutorAPI
import KubeClient

/// The body of a status write: a JSON merge patch of every status field the executor owns,
/// `null` where the status has none (a field it cleared is cleared on the server too), and
/// the resourceVersion the write is based on, so that the API server refuses it (409) when
/// the object moved on since. Encoded straight to bytes (``Patch/merge(encoding:)``).
struct TaskActionStatusPatch: Encodable {
    var status: TaskActionStatus
    var resourceVersion: String?

    /// Written by the executor; the signal fields belong to whoever signals.
    static let owned: [TaskActionStatus.CodingKeys] = [.stateJson, .pluginState, .pluginStateVersion, .pluginPhase, .pluginPhaseVersion, .attempts, .systemFailures, .cacheStatus, .conditions, .phaseHistory, .errorState]

    enum Keys: String, CodingKey { case metadata, resourceVersion, status }

    func encode(to encoder: any Encoder) throws {
        var top = encoder.container(keyedBy: Keys.self)
        if let resourceVersion {
            var metadata = top.nestedContainer(keyedBy: Keys.self, forKey: .metadata)
            try metadata.encode(resourceVersion, forKey: .resourceVersion)
        }
        var fields = top.nestedContainer(keyedBy: TaskActionStatus.CodingKeys.self, forKey: .status)
        try fields.encodeOrNull(status.stateJson, forKey: .stateJson)
        try fields.encodeOrNull(status.pluginState, forKey: .pluginState)
        try fields.encodeOrNull(status.pluginStateVersion, forKey: .pluginStateVersion)
        try fields.encodeOrNull(status.pluginPhase, forKey: .pluginPhase)
        try fields.encodeOrNull(status.pluginPhaseVersion, forKey: .pluginPhaseVersion)
        try fields.encodeOrNull(status.attempts, forKey: .attempts)
        try fields.encodeOrNull(status.systemFailures, forKey: .systemFailures)
        try fields.encodeOrNull(status.cacheStatus, forKey: .cacheStatus)
        try fields.encodeOrNull(status.conditions, forKey: .conditions)
        try fields.encodeOrNull(status.phaseHistory, forKey: .phaseHistory)
        try fields.encodeOrNull(status.errorState, forKey: .errorState)
    }
}

extension KeyedEncodingContainer {
    /// `value`, or `null` when there is none (a merge patch's delete).
    mutating func encodeOrNull<T: Encodable>(_ value: T?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
    }
}

import Foundation
import KubeClient

/// What the executor remembers between rounds about one attempt's child, kept in
/// `status.pluginState` (version 1) as base64 JSON. Flyte keeps the same facts gob-encoded;
/// old gob bytes do not decode and read as "not started", and the deterministic child name
/// then finds the running child again (create answers AlreadyExists).
public struct PluginState: Codable, Sendable, Hashable {
    public static let version = 1

    /// The child of this attempt was created.
    public var started = false
    /// The last phase reported, as its raw value.
    public var phase = 0
    public var phaseVersion: UInt32 = 0
    public var reason = ""
    /// uid of the child this attempt observed.
    public var childUID: String?
    /// uid of a child given up for a relaunch under the same name: not to be adopted.
    public var abandonedUID: String?

    public init() {}

    public init(base64: String?) {
        guard let base64, let data = Data(base64Encoded: base64),
              let decoded = try? JSONBytesDecoder().decode(PluginState.self, from: data) else { return }
        self = decoded
    }

    public var base64: String {
        let bytes = (try? JSONValueEncoder().encode(self))?.serialized(sortedKeys: true) ?? []
        return Data(bytes).base64EncodedString()
    }
}

import Foundation
import KubeClient

/// What the executor remembers between rounds about one attempt's child, kept in
/// `status.pluginState` (version 1) as base64 JSON. Flyte keeps the same facts gob-encoded;
/// old gob bytes do not decode and read as "not started", and the deterministic child name
/// then finds the running child again (create answers AlreadyExists).
///
/// Every round reads it and every recorded transition writes it, so both ways are written out
/// by hand (a JSON reader and a byte writer) rather than through Codable, to which a profile
/// charged about 4.5% of the executor's samples for these six members. The bytes are those of
/// the Codable encoding with sorted keys, which earlier versions wrote, so a status written
/// before reads back equal and is not rewritten.
public struct PluginState: Codable, JSONReadable, Sendable, Hashable {
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
    /// When a plugin without a child began the attempt (`core-sleep`), as Unix seconds: kept
    /// here, not in memory as Flyte's sleep plugin keeps it, so a restart does not start over.
    public var startedAt: Double?
    /// What a connector answered to CreateTask (`resource_meta`), base64: the handle of the
    /// job it started, by which the attempt's later rounds ask for its state and an abort
    /// deletes it. Its presence says the job was created.
    public var resourceMeta: String?

    public init() {}

    /// Reads the base64 JSON kept in `status.pluginState`; anything that does not read (absent,
    /// not base64, gob bytes, not this object) is the empty state.
    public init(base64: String?) {
        guard let base64, let data = Data(base64Encoded: base64),
              let decoded = try? JSONReader.withReader(data, { try $0.read(PluginState.self) }) else { return }
        self = decoded
    }

    public init(json: inout JSONReader) throws {
        try json.readObject { key, value in
            switch key {
            case "started": started = try value.read()
            case "phase": phase = try value.read()
            case "phaseVersion":
                let read = try value.readInt64()
                guard let fits = UInt32(exactly: read) else { throw value.fail("phaseVersion \(read) is not a UInt32") }
                phaseVersion = fits
            case "reason": reason = try value.read()
            case "childUID": childUID = try value.read()
            case "abandonedUID": abandonedUID = try value.read()
            case "startedAt": startedAt = try value.read()
            case "resourceMeta": resourceMeta = try value.read()
            default: break
            }
        }
    }

    /// The JSON object, members in sorted order, absent optionals left out.
    public var jsonBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(96 + reason.utf8.count + (resourceMeta?.utf8.count ?? 0))
        out.append(UInt8(ascii: "{"))
        if let abandonedUID {
            out.append(contentsOf: #""abandonedUID":"#.utf8)
            JSONValue.writeString(abandonedUID, to: &out)
            out.append(UInt8(ascii: ","))
        }
        if let childUID {
            out.append(contentsOf: #""childUID":"#.utf8)
            JSONValue.writeString(childUID, to: &out)
            out.append(UInt8(ascii: ","))
        }
        out.append(contentsOf: #""phase":\#(phase),"phaseVersion":\#(phaseVersion),"reason":"#.utf8)
        JSONValue.writeString(reason, to: &out)
        if let resourceMeta {
            out.append(contentsOf: #","resourceMeta":"#.utf8)
            JSONValue.writeString(resourceMeta, to: &out)
        }
        out.append(contentsOf: #","started":\#(started)"#.utf8)
        if let startedAt, startedAt.isFinite {
            out.append(contentsOf: #","startedAt":\#(startedAt)"#.utf8)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    public var base64: String { Data(jsonBytes).base64EncodedString() }
}

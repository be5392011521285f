import FlyteIDL
import SwiftProtobuf

/// The annotations by which a task's or app's secrets reach a Pod-mutating webhook, written as
/// Flyte writes them (`flyteplugins/.../utils/secrets/marshaler.go`): for the N-th secret,
/// `flyte.secrets/s<N>` holds Flyte's base32 of the secret in golang/protobuf's text format
/// (`proto.MarshalTextString`), and the Pod carries the label `inject-flyte-secrets=true` that
/// the webhook's object selector matches.
///
/// Flyte's webhook decodes these with `proto.UnmarshalText`, so any webhook that reads Flyte's
/// annotations serves the executor's Pods and Knative revisions unchanged, the executor's own
/// (``secrets(in:)``) included.
public enum SecretAnnotations {
    /// The key of the N-th secret's annotation is this prefix and N.
    public static let prefix = "flyte.secrets/s"
    /// The label the webhook's object selector matches.
    public static let podLabel = "inject-flyte-secrets"
    /// kube-apiserver's limit on a Pod's annotations in total, which Flyte checks each secret's
    /// annotation against.
    static let sizeLimit = 256 * 1024

    /// `flyte.secrets/s0`, `flyte.secrets/s1`, … for the secrets in order; empty for none.
    /// Secrets that `problem(_:)` refuses are encoded as Go would print them, so check first.
    public static func annotations(_ secrets: [Flyteidl2_Core_Secret]) -> [String: String] {
        var annotations: [String: String] = [:]
        for (index, secret) in secrets.enumerated() {
            annotations[prefix + String(index)] = FlyteBase32.encode(textFormat(secret).utf8)
        }
        return annotations
    }

    /// An annotation that does not hold a secret: not Flyte's base32, or not a `Secret` in
    /// protobuf's text format.
    public struct Unreadable: Error, CustomStringConvertible {
        public var annotation: String
        public var problem: String
        public var description: String { "error unmarshaling secret [\(annotation)]. Error: \(problem)" }
    }

    /// The secrets a Pod's annotations carry, by the N of `flyte.secrets/s<N>` (Flyte reads
    /// them in Go's map order; here the order is the one they were written in).
    public static func secrets(in annotations: [String: String]) throws(Unreadable) -> [Flyteidl2_Core_Secret] {
        var numbered: [(index: Int, key: String, secret: Flyteidl2_Core_Secret)] = []
        for (key, value) in annotations where key.hasPrefix(prefix) {
            guard let bytes = FlyteBase32.decode(value) else {
                throw Unreadable(annotation: key, problem: "illegal base32 data")
            }
            let secret: Flyteidl2_Core_Secret
            do {
                secret = try Flyteidl2_Core_Secret(textFormatString: String(decoding: bytes, as: UTF8.self))
            } catch {
                throw Unreadable(annotation: key, problem: "\(error)")
            }
            numbered.append((Int(key.dropFirst(prefix.count)) ?? Int.max, key, secret))
        }
        return numbered.sorted { ($0.index, $0.key) < ($1.index, $1.key) }.map(\.secret)
    }

    /// Why Flyte would refuse to write these secrets' annotations, in its words, or nil: a
    /// mount requirement that is not ANY, ENV_VAR or FILE, or an annotation past 256 KiB.
    public static func problem(_ secrets: [Flyteidl2_Core_Secret]) -> String? {
        for secret in secrets {
            if case .UNRECOGNIZED(let value) = secret.mountRequirement {
                return "invalid mount requirement [\(value)]"
            }
            // Base32 makes 8 characters of every 5 bytes.
            if (textFormat(secret).utf8.count * 8 + 4) / 5 > sizeLimit {
                return "secret descriptor cannot exceed [\(sizeLimit)]"
            }
        }
        return nil
    }

    /// golang/protobuf's `MarshalTextString`: each field that is set, in declaration order,
    /// as `name: value` and a newline; strings quoted with Go's escapes (`\n`, `\r`, `\t`, `\"`,
    /// `\\`, and every byte outside printable ASCII in three octal digits); enums by name.
    /// Unknown fields are left out (Go writes them in a comment its own parser refuses).
    static func textFormat(_ secret: Flyteidl2_Core_Secret) -> String {
        var text = ""
        func field(_ name: String, _ value: String) {
            guard !value.isEmpty else { return }
            text += name + ": " + quoted(value) + "\n"
        }
        field("group", secret.group)
        field("group_version", secret.groupVersion)
        field("key", secret.key)
        switch secret.mountRequirement {
        case .any: break
        case .envVar: text += "mount_requirement: ENV_VAR\n"
        case .file: text += "mount_requirement: FILE\n"
        case .UNRECOGNIZED(let value): text += "mount_requirement: \(value)\n"
        }
        field("env_var", secret.envVar)
        return text
    }

    static func quoted(_ value: String) -> String {
        var out: [UInt8] = [UInt8(ascii: "\"")]
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\n"): out += Array(#"\n"#.utf8)
            case UInt8(ascii: "\r"): out += Array(#"\r"#.utf8)
            case UInt8(ascii: "\t"): out += Array(#"\t"#.utf8)
            case UInt8(ascii: "\""): out += Array(#"\""#.utf8)
            case UInt8(ascii: "\\"): out += Array(#"\\"#.utf8)
            case 0x20..<0x7f: out.append(byte)
            default:
                out.append(UInt8(ascii: "\\"))
                out.append(UInt8(ascii: "0") + (byte >> 6))
                out.append(UInt8(ascii: "0") + ((byte >> 3) & 7))
                out.append(UInt8(ascii: "0") + (byte & 7))
            }
        }
        out.append(UInt8(ascii: "\""))
        return String(decoding: out, as: UTF8.self)
    }
}

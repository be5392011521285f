import Crypto
import ExecutorAPI
import FlyteIDL
import Foundation
import KubeClient
import SwiftProtobuf
import TaskPlugins

/// What is wrong with an App's spec: the field, by its JSON path, and the rule it breaks.
public struct AppSpecError: Error, Hashable, CustomStringConvertible {
    public var field: String
    public var problem: String
    public var description: String { "\(field): \(problem)" }
}

/// An App's spec read into `flyteidl2.app.Spec`, with the bytes and digest Flyte keys the
/// Knative Service on.
public struct AppDeployment: Sendable {
    public var id: AppIdentifier
    public var spec: Flyteidl2_App_Spec
    /// The serialized Spec, written with deterministic (sorted) map order. For a container
    /// payload (no maps) these are the bytes Go's `proto.Marshal` writes; Flyte's own hash of a
    /// pod payload can differ between calls, since Go writes maps in random order.
    public var bytes: Data

    /// `flyte.org/spec-sha`: the first 8 bytes of SHA-256 over ``bytes``, as 16 hex digits.
    public var specSHA: String { Self.hex(SHA256.hash(data: bytes).prefix(8)) }
    /// `flyte.org/spec`: the bytes in standard, padded base64.
    public var specBase64: String { bytes.base64EncodedString() }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}

/// Reads and checks an App's spec: the rules of `flyteidl2.app`'s buf.validate annotations
/// that the CRD schema cannot hold (or that an App written before the CRD had them skipped).
public enum AppSpecReader {
    /// `^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`, the name rule of `flyteidl2.app`,
    /// checked by hand: an `NSRegularExpression` is ICU's regex engine on Linux, which the
    /// executor otherwise keeps out of its memory.
    static func isValidName(_ name: String) -> Bool {
        func alphanumeric(_ b: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(b) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b)
        }
        let bytes = name.utf8
        guard let first = bytes.first, let last = bytes.last, bytes.count <= 63, alphanumeric(first), alphanumeric(last) else { return false }
        return bytes.allSatisfy { alphanumeric($0) || $0 == UInt8(ascii: "-") }
    }

    public static func read(_ spec: AppSpec) throws(AppSpecError) -> AppDeployment {
        let id = spec.id
        if id.project.isEmpty { throw AppSpecError(field: "spec.id.project", problem: "is required") }
        if id.domain.isEmpty { throw AppSpecError(field: "spec.id.domain", problem: "is required") }
        if id.name.isEmpty || id.name.count > 30 { throw AppSpecError(field: "spec.id.name", problem: "must be 1 to 30 characters, not \(id.name.count)") }
        if !isValidName(id.name) {
            throw AppSpecError(field: "spec.id.name", problem: "\"\(id.name)\" must be letters, digits and '-', starting and ending with a letter or digit")
        }
        let message: Flyteidl2_App_Spec
        do {
            message = try Flyteidl2_App_Spec(jsonUTF8Bytes: JSONValue.object(spec.fields).serialized())
        } catch {
            throw AppSpecError(field: "spec", problem: "is not a flyteidl2.app.Spec in proto3 JSON: \(describe(error))")
        }
        try check(message)
        var options = BinaryEncodingOptions()
        options.useDeterministicOrdering = true
        let bytes: Data
        do {
            bytes = try message.serializedBytes(options: options)
        } catch {
            throw AppSpecError(field: "spec", problem: "cannot be serialized: \(error)")
        }
        return AppDeployment(id: id, spec: message, bytes: bytes)
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case JSONDecodingError.unknownField(let name): "unknown field \"\(name)\""
        case JSONDecodingError.unrecognizedEnumValue: "an enum value is not one of its names"
        case JSONDecodingError.malformedDuration: "a duration is not of the form \"90s\""
        case JSONDecodingError.numberRange: "a number is out of its range"
        default: "\(error)"
        }
    }

    /// The buf.validate rules of the fields the executor reads (fixtures/flyteidl2-app.md).
    static func check(_ spec: Flyteidl2_App_Spec) throws(AppSpecError) {
        switch spec.appPayload {
        case nil:
            throw AppSpecError(field: "spec", problem: "exactly one of container or pod must be set")
        case .container(let container):
            if container.image.isEmpty { throw AppSpecError(field: "spec.container.image", problem: "is required") }
            for (i, port) in container.ports.enumerated() where !(1...65535).contains(port.containerPort) {
                throw AppSpecError(field: "spec.container.ports[\(i)].containerPort", problem: "must be 1 to 65535, not \(port.containerPort)")
            }
        case .pod(let pod):
            if (pod.podSpec.fields["containers"]?.listValue.values ?? []).isEmpty {
                throw AppSpecError(field: "spec.pod.podSpec.containers", problem: "must hold at least one container")
            }
        }
        if spec.hasAutoscaling, spec.autoscaling.hasScalingMetric {
            switch spec.autoscaling.scalingMetric.metric {
            case nil: throw AppSpecError(field: "spec.autoscaling.scalingMetric", problem: "exactly one of requestRate or concurrency must be set")
            case .concurrency(let c) where c.targetValue == 0:
                throw AppSpecError(field: "spec.autoscaling.scalingMetric.concurrency.targetValue", problem: "must be greater than 0")
            default: break
            }
        }
        if spec.autoscaling.hasScaledownPeriod, spec.autoscaling.scaledownPeriod.seconds < 0 || spec.autoscaling.scaledownPeriod.nanos < 0 {
            throw AppSpecError(field: "spec.autoscaling.scaledownPeriod", problem: "must not be negative")
        }
        if spec.timeouts.hasRequestTimeout {
            let t = spec.timeouts.requestTimeout
            let seconds = Double(t.seconds) + Double(t.nanos) / 1e9
            if seconds < 0 || seconds > 3600 { throw AppSpecError(field: "spec.timeouts.requestTimeout", problem: "must be 0s to 3600s, not \(GoDurationText.of(t))") }
        }
        if spec.profile.shortDescription.count > 100 {
            throw AppSpecError(field: "spec.profile.shortDescription", problem: "must be at most 100 characters")
        }
        for (i, link) in spec.links.enumerated() where link.path.isEmpty {
            throw AppSpecError(field: "spec.links[\(i)].path", problem: "is required")
        }
        var names = Set<String>()
        for (i, input) in spec.inputs.items.enumerated() {
            if input.name.isEmpty { throw AppSpecError(field: "spec.inputs.items[\(i)].name", problem: "is required") }
            if !names.insert(input.name).inserted { throw AppSpecError(field: "spec.inputs.items[\(i)].name", problem: "\"\(input.name)\" is not unique") }
            switch input.value {
            case nil: throw AppSpecError(field: "spec.inputs.items[\(i)]", problem: "exactly one of stringValue, appId or artifactId must be set")
            case .stringValue(let s) where s.isEmpty: throw AppSpecError(field: "spec.inputs.items[\(i)].stringValue", problem: "must not be empty")
            default: break
            }
        }
        if case .user(let user)? = spec.creator.principal, user.hasID, user.id.subject.isEmpty {
            throw AppSpecError(field: "spec.creator.user.id.subject", problem: "is required")
        }
        // Not a buf.validate rule: Flyte's app client fails the deploy when it cannot annotate them.
        if let problem = SecretAnnotations.problem(spec.securityContext.secrets) {
            throw AppSpecError(field: "spec.securityContext.secrets", problem: problem)
        }
    }
}

/// Go's `time.Duration.String` of a protobuf Duration (`1m30s`), as Knative's `window` takes it.
enum GoDurationText {
    static func of(_ d: Google_Protobuf_Duration) -> String {
        let nanos = Int64(d.seconds) * 1_000_000_000 + Int64(d.nanos)
        return text(nanoseconds: nanos)
    }

    /// Exactly Go's formatting: `0s`, `1.5s`, `1m30s`, `1h0m0s`, `500ms`.
    static func text(nanoseconds: Int64) -> String {
        if nanoseconds == 0 { return "0s" }
        let negative = nanoseconds < 0
        var u = UInt64(nanoseconds.magnitude)
        var text: String
        if u < 1_000_000_000 {
            // Below a second Go picks ns, µs or ms with a fraction.
            let (unit, scale): (String, UInt64) = u < 1_000 ? ("ns", 1) : u < 1_000_000 ? ("µs", 1_000) : ("ms", 1_000_000)
            text = fraction(u, scale) + unit
        } else {
            let seconds = u / 1_000_000_000
            let fractional = u % 1_000_000_000
            var secondsText = String(seconds % 60)
            if fractional > 0 {
                var digits = String(fractional)
                digits = String(repeating: "0", count: 9 - digits.count) + digits
                while digits.hasSuffix("0") { digits.removeLast() }
                secondsText += "." + digits
            }
            text = secondsText + "s"
            u = seconds / 60
            if u > 0 {
                text = String(u % 60) + "m" + text
                u /= 60
                if u > 0 { text = String(u) + "h" + text }
            }
        }
        return negative ? "-" + text : text
    }

    private static func fraction(_ value: UInt64, _ scale: UInt64) -> String {
        let whole = value / scale
        var rest = value % scale
        guard rest > 0 else { return String(whole) }
        var digits = ""
        var s = scale / 10
        while rest > 0, s > 0 {
            digits += String(rest / s)
            rest %= s
            s /= 10
        }
        return "\(whole).\(digits)"
    }
}

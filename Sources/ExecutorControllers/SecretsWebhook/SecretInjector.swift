import FlyteIDL

/// One of Flyte's secret managers (`SecretsInjector` in `flyteplugins/.../secret`): puts one
/// secret a Pod asks for into the Pod, or says why it cannot, and the next manager is tried.
protocol SecretInjector: Sendable {
    var type: SecretsWebhookConfig.SecretManagerType { get }
    /// Edits `pod` to carry `secret`. A throw leaves `pod` as it was.
    func inject(_ secret: Flyteidl2_Core_Secret, into pod: inout PodSpecEdits) async throws(SecretInjectionFailure)
}

/// Why a secret manager did not inject a secret, in Flyte's words where Flyte has them.
struct SecretInjectionFailure: Error, CustomStringConvertible, Equatable {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

extension Flyteidl2_Core_Secret {
    /// The secret as Go's `%v` prints a message in Flyte's errors: its set fields.
    var summary: String {
        var parts: [String] = []
        if !group.isEmpty { parts.append("group:\"\(group)\"") }
        if !groupVersion.isEmpty { parts.append("group_version:\"\(groupVersion)\"") }
        if !key.isEmpty { parts.append("key:\"\(key)\"") }
        if mountRequirement != .any { parts.append("mount_requirement:\(mountRequirementName)") }
        if !envVar.isEmpty { parts.append("env_var:\"\(envVar)\"") }
        return parts.joined(separator: " ")
    }

    var mountRequirementName: String {
        switch mountRequirement {
        case .any: return "ANY"
        case .envVar: return "ENV_VAR"
        case .file: return "FILE"
        case .UNRECOGNIZED(let value): return String(value)
        }
    }
}

import FlyteIDL
import KubeClient
import TaskPlugins

/// Flyte's `SecretsPodMutator`: every secret a Pod's `flyte.secrets/s<N>` annotations name is
/// given to the secret managers in order (Global first, then the configured ones) until one
/// injects it. A secret none injects refuses the Pod, with each manager's reason.
struct PodSecretsMutator: Sendable {
    let injectors: [any SecretInjector]

    /// Flyte's message prefix for a secret no manager injected; callers match on it.
    static let notInjected = "none of the secret managers injected secret"

    /// The admission's outcome.
    enum Outcome: Sendable, Equatable {
        /// The Pod as it should be created.
        case mutated(JSONValue)
        /// Nothing to inject.
        case unchanged
        /// Refuse the Pod with this message (HTTP 400, as Flyte's).
        case denied(String)
    }

    func mutate(_ pod: JSONValue) async -> Outcome {
        var annotations: [String: String] = [:]
        for (key, value) in pod.value(atPath: "metadata.annotations")?.objectValue ?? [:] {
            if let text = value.stringValue { annotations[key] = text }
        }
        let secrets: [Flyteidl2_Core_Secret]
        do {
            secrets = try SecretAnnotations.secrets(in: annotations)
        } catch {
            return .denied("failed to unmarshal secrets from pod annotations: \(error)")
        }
        guard !secrets.isEmpty else { return .unchanged }
        var edits = PodSpecEdits(pod)
        for secret in secrets {
            var reasons: [String] = []
            var injected = false
            for injector in injectors {
                var attempt = edits
                do {
                    try await injector.inject(secret, into: &attempt)
                    edits = attempt
                    injected = true
                    break
                } catch {
                    reasons.append("\(injector.type.rawValue): \(error.message)")
                }
            }
            guard injected else {
                return .denied("\(Self.notInjected) [\(secret.summary)]: \(reasons.joined(separator: "; "))")
            }
        }
        return .mutated(edits.pod)
    }

    /// The managers `config` names, Global first, as Flyte builds them.
    static func make(config: SecretsWebhookConfig, globals: GlobalSecretsConfig, store: any SecretStore) -> PodSecretsMutator {
        var injectors: [any SecretInjector] = [GlobalSecretInjector(config: globals, envVarPrefix: config.secretEnvVarPrefix)]
        for type in config.secretManagerTypes {
            switch type {
            case .global: break
            case .k8s: injectors.append(K8sSecretInjector(envVarPrefix: config.secretEnvVarPrefix))
            case .embedded: injectors.append(EmbeddedSecretInjector(config: config.embedded, envVarPrefix: config.secretEnvVarPrefix, store: store))
            // Refused when the configuration is read.
            case .aws, .gcp, .vault, .azure: break
            }
        }
        return PodSecretsMutator(injectors: injectors)
    }
}

import FlyteIDL
import Foundation

/// Flyte's Global secret manager (`global_secrets.go`, `secretmanager/secrets.go`): a secret
/// this executor's own process holds, as an environment variable `<env-prefix><GROUP>_<KEY>`
/// or a file `<secrets-prefix>/<group>/<key>`, is written into the Pod as an environment
/// variable with its value. Always tried first, as in Flyte.
struct GlobalSecretInjector: SecretInjector {
    var config: GlobalSecretsConfig
    var envVarPrefix: String
    /// The process's environment, and a file reader: the tests give their own.
    var environment: @Sendable (String) -> String? = { ProcessInfo.processInfo.environment[$0] }
    var readFile: @Sendable (String) -> String? = { path in FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } }

    var type: SecretsWebhookConfig.SecretManagerType { .global }

    func inject(_ secret: Flyteidl2_Core_Secret, into pod: inout PodSpecEdits) async throws(SecretInjectionFailure) {
        guard !secret.group.isEmpty, !secret.key.isEmpty else {
            throw SecretInjectionFailure("both key and group are required parameters. Secret: [\(secret.summary)]")
        }
        let envVar = config.envPrefix + secret.group.uppercased() + "_" + secret.key.uppercased()
        let file = (config.secretsPrefix as NSString).appendingPathComponent(secret.group + "/" + secret.key)
        guard let value = environment(envVar) ?? readFile(file) else {
            throw SecretInjectionFailure("secrets not found - Env [\(envVar)], file [\(file)]")
        }
        switch secret.mountRequirement {
        case .file:
            throw SecretInjectionFailure("global secrets can only be injected as environment variables [\(secret.group)/\(secret.key)]")
        case .any, .envVar:
            pod.prependEnv([PodSpecEdits.env(SecretEnvNames.envPrefixVariable, envVarPrefix)])
            pod.prependEnv([PodSpecEdits.env((envVarPrefix + secret.group + "_" + secret.key).uppercased(), value)])
        case .UNRECOGNIZED:
            throw SecretInjectionFailure("unrecognized mount requirement [\(secret.mountRequirementName)] for secret [\(secret.key)]")
        }
    }
}

/// The environment variables by which Flyte's SDK finds injected secrets.
enum SecretEnvNames {
    static let defaultDirVariable = "FLYTE_SECRETS_DEFAULT_DIR"
    static let filePrefixVariable = "FLYTE_SECRETS_FILE_PREFIX"
    static let envPrefixVariable = "FLYTE_SECRETS_ENV_PREFIX"
    /// Where secrets are mounted as files.
    static let mountRoot = "/etc/flyte/secrets"
}

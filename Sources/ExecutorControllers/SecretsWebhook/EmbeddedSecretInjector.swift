import FlyteIDL
import Foundation
import KubeClient

/// Flyte's Embedded secret manager with its K8s store (`embedded_secret_manager.go`,
/// `k8s_secret_fetcher.go`): the webhook reads the secret's value and writes it into the Pod.
///
/// A secret named `name` for a Pod labelled `organization`, `project` and `domain` is looked
/// up at the project-and-domain scope, then the domain's, then the organization's: the id at a
/// scope is ``SecretNames/scopedID(org:domain:project:name:)``, kept as the data key of the
/// Kubernetes Secret named the MD5 of that id in the configured namespace, which is how Flyte's
/// secret service (`flyte create secret`) writes it. ENV_VAR and ANY set
/// `<prefix><KEY>` (or the secret's `env_var`) to the value; FILE has an init container write
/// it to `/etc/flyte/secrets/<key>` in an in-memory volume every container mounts.
///
/// Flyte caches the values and serves a port to drop them when they change; this reads the
/// Secret at each admission, so a changed secret is seen by the next Pod, and nothing is kept.
struct EmbeddedSecretInjector: SecretInjector {
    var config: SecretsWebhookConfig.EmbeddedSecretManagerConfig
    var envVarPrefix: String
    var store: any SecretStore

    var type: SecretsWebhookConfig.SecretManagerType { .embedded }

    static let volumeName = "embedded-secret-vol"
    /// The init container's variable: `name=base64(value)` lines, one per FILE secret.
    static let initContainerVariable = "SECRETS"

    func inject(_ secret: Flyteidl2_Core_Secret, into pod: inout PodSpecEdits) async throws(SecretInjectionFailure) {
        guard !secret.key.isEmpty else {
            throw SecretInjectionFailure("EmbeddedSecretManager requires key to be set. Secret: [\(secret.summary)]")
        }
        let labels = pod.pod.value(atPath: "metadata.labels")
        var scope: [String: String] = [:]
        for label in ["organization", "project", "domain"] {
            guard let value = labels?[label]?.stringValue, !value.isEmpty else {
                throw SecretInjectionFailure("secret read requirements not met due to empty \(label) field in the pod labels")
            }
            scope[label] = value
        }
        let (value, found) = try await lookUp(org: scope["organization"]!, domain: scope["domain"]!, project: scope["project"]!, name: secret.key)
        switch secret.mountRequirement {
        case .any, .envVar:
            // Stored values are bytes; as a variable they must be text.
            guard let text = String(validating: value, as: UTF8.self) else {
                throw SecretInjectionFailure("secret \"\(secret.key)\" is attempted to be mounted as an environment variable, but has a binary value that is not a valid UTF-8 string; mount as a file instead")
            }
            let name = secret.envVar.isEmpty ? envVarPrefix + secret.key.uppercased() : secret.envVar
            pod.prependEnv([PodSpecEdits.env(SecretEnvNames.envPrefixVariable, envVarPrefix), PodSpecEdits.env(name, text)])
        case .file:
            injectAsFile(secret, value: value, into: &pod)
        case .UNRECOGNIZED:
            throw SecretInjectionFailure("unrecognized mount requirement [\(secret.mountRequirementName)] for secret [\(secret.key)]")
        }
        if config.imagePullSecretsEnabled {
            try await addImagePullSecret(SecretNames.imagePull(org: scope["organization"]!, domain: found.domain, project: found.project, name: secret.key), to: &pod)
        }
    }

    /// Flyte's `findAndAddImagePullSecret`: when the store's namespace has the image-pull
    /// Secret of the scope the secret was found at, it is copied into the Pod's namespace
    /// (unless one of its name is there) and named in the Pod's `imagePullSecrets`.
    func addImagePullSecret(_ name: String, to pod: inout PodSpecEdits) async throws(SecretInjectionFailure) {
        guard let namespace = pod.pod.value(atPath: "metadata.namespace")?.stringValue, !namespace.isEmpty else { return }
        do {
            guard try await store.mirror(name: name, from: config.namespace, to: namespace) else { return }
        } catch {
            throw SecretInjectionFailure("failed to create mirrored secret [\(name)] in namespace [\(namespace)]: \(error)")
        }
        pod.addImagePullSecret(name)
    }

    /// The value at the narrowest scope that has the secret, and that scope (whose image-pull
    /// Secret is the one mirrored). A scope whose Secret is missing is passed over; one that
    /// cannot be read, or holds no such key, fails the lookup.
    func lookUp(org: String, domain: String, project: String, name: String) async throws(SecretInjectionFailure) -> (value: [UInt8], scope: (domain: String, project: String)) {
        for (d, p) in [(domain, project), (domain, ""), ("", "")] {
            let id = SecretNames.scopedID(org: org, domain: d, project: p, name: name)
            let data: [String: [UInt8]]?
            do {
                data = try await store.secretData(namespace: config.namespace, name: SecretNames.md5Hex(id))
            } catch {
                throw SecretInjectionFailure("secret \(id) failed to be read from secret manager: \(error)")
            }
            guard let data else { continue }
            guard let value = data[id] else {
                throw SecretInjectionFailure("secret \(id) read as empty from the secret manager")
            }
            return (value, (d, p))
        }
        throw SecretInjectionFailure("secret not found across all scopes")
    }

    /// Flyte's `injectAsFile`. Unlike Flyte's, a second FILE secret with an `env_var` gets its
    /// variable too (Flyte returns before setting it once the init container exists).
    func injectAsFile(_ secret: Flyteidl2_Core_Secret, value: [UInt8], into pod: inout PodSpecEdits) {
        let line = secret.key + "=" + Data(value).base64EncodedString() + "\n"
        let existing = pod.initContainerIndex(named: config.initContainerName)
        if let existing {
            pod.editInitContainer(at: existing) { container in
                var env = container["env"]?.arrayValue ?? []
                if let index = env.firstIndex(where: { $0["name"]?.stringValue == Self.initContainerVariable }) {
                    env[index]["value"] = .string((env[index]["value"]?.stringValue ?? "") + line)
                } else {
                    env.append(PodSpecEdits.env(Self.initContainerVariable, line))
                }
                container["env"] = .array(env)
            }
        } else {
            pod.appendInitContainer([
                "name": .string(config.initContainerName),
                "image": .string(config.initContainerImage),
                "command": ["sh", "-c", .string(Self.script)],
                "resources": config.initContainerResources,
                "volumeMounts": [["name": .string(Self.volumeName), "readOnly": false, "mountPath": .string(SecretEnvNames.mountRoot)]],
                "env": [PodSpecEdits.env(Self.initContainerVariable, line)],
            ])
            pod.addVolumeIfAbsent(["name": .string(Self.volumeName), "emptyDir": ["medium": "Memory"]])
            pod.addMount(["name": .string(Self.volumeName), "readOnly": true, "mountPath": .string(SecretEnvNames.mountRoot)])
            pod.prependEnv([PodSpecEdits.env(SecretEnvNames.defaultDirVariable, SecretEnvNames.mountRoot), PodSpecEdits.env(SecretEnvNames.filePrefixVariable, "")])
        }
        if !secret.envVar.isEmpty {
            pod.prependEnv([PodSpecEdits.env(secret.envVar, SecretEnvNames.mountRoot + "/" + secret.key.lowercased())])
        }
    }

    /// Flyte's init container script, byte for byte: each `name=value` line of `$SECRETS`
    /// becomes the file `/etc/flyte/secrets/name` holding the base64-decoded value.
    static let script = """

\t\t\t\tprintf "%s" "$SECRETS" \\
\t\t\t\t| awk '/^.+=/ {
\t\t\t\t\ti = index($0, "=");
\t\t\t\t\tname = substr($0, 0, i - 1);
\t\t\t\t\tvalue = substr($0, i + 1);
\t\t\t\t\toutput_file = "/etc/flyte/secrets/" name;
\t\t\t\t\tprint value | "base64 -d > " output_file;
\t\t\t\t}'
\t\t\t\t
"""
}

/// Reads Kubernetes Secrets for the Embedded manager.
protocol SecretStore: Sendable {
    /// The Secret's `data`, decoded; nil when there is no such Secret.
    func secretData(namespace: String, name: String) async throws -> [String: [UInt8]]?
    /// Copies the Secret `name` of `namespace` into `target` (its labels, annotations, type
    /// and data) unless `target` has one of that name; false when `namespace` has none.
    func mirror(name: String, from namespace: String, to target: String) async throws -> Bool
}

/// ``SecretStore`` over the API: one GET per lookup.
struct APISecretStore: SecretStore {
    let client: KubernetesClient

    static let secrets = ResourceType(group: "", version: "v1", kind: "Secret", plural: "secrets", namespaced: true)

    func secretData(namespace: String, name: String) async throws -> [String: [UInt8]]? {
        let secret: JSONValue
        do {
            secret = try await client.get(Self.secrets, name: name, namespace: namespace)
        } catch let error as KubeAPIError where error.isNotFound {
            return nil
        }
        var data: [String: [UInt8]] = [:]
        for (key, value) in secret["data"]?.objectValue ?? [:] {
            if let text = value.stringValue, let bytes = Data(base64Encoded: text) { data[key] = Array(bytes) }
        }
        return data
    }

    func mirror(name: String, from namespace: String, to target: String) async throws -> Bool {
        let reference: JSONValue
        do {
            reference = try await client.get(Self.secrets, name: name, namespace: namespace)
        } catch let error as KubeAPIError where error.isNotFound {
            return false
        }
        do {
            _ = try await client.get(Self.secrets, name: name, namespace: target)
            return true
        } catch let error as KubeAPIError where error.isNotFound {}
        // A new object: the reference's server-set fields (uid, resourceVersion, owners) stay behind.
        var copy: JSONValue = ["apiVersion": "v1", "kind": "Secret", "metadata": ["name": .string(name), "namespace": .string(target)]]
        copy["metadata"]?["labels"] = reference.value(atPath: "metadata.labels")
        copy["metadata"]?["annotations"] = reference.value(atPath: "metadata.annotations")
        for key in ["type", "data", "stringData"] { copy[key] = reference[key] }
        do {
            _ = try await client.create(Self.secrets, copy, namespace: target)
        } catch let error as KubeAPIError where error.code == 409 {
            // Another replica's admission made it first.
        }
        return true
    }
}

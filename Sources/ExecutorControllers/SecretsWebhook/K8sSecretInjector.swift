import Crypto
import FlyteIDL
import KubeClient
import TaskPlugins

/// Flyte's K8s secret manager (`k8s_secrets.go`): the Pod references a Kubernetes Secret in its
/// own namespace, named by the secret's group (the MD5 of its key when it has none), and the
/// kubelet fills it in. FILE and ANY mount the key at `/etc/flyte/secrets/<group>/<key>`;
/// ENV_VAR sets `<prefix><GROUP>_<KEY>` from it. Both are optional references, as in Flyte: a
/// missing Secret leaves the file or variable out rather than failing the Pod.
struct K8sSecretInjector: SecretInjector {
    var envVarPrefix: String

    var type: SecretsWebhookConfig.SecretManagerType { .k8s }

    func inject(_ secret: Flyteidl2_Core_Secret, into pod: inout PodSpecEdits) async throws(SecretInjectionFailure) {
        guard !secret.key.isEmpty else {
            throw SecretInjectionFailure("k8s Secrets Webhook require key to be set. Secret: [\(secret.summary)]")
        }
        var secret = secret
        if secret.group.isEmpty { secret.group = SecretNames.md5Hex(secret.key) }
        switch secret.mountRequirement {
        case .any, .file:
            let volumeName = SecretNames.base32(secret.group + "_" + secret.groupVersion)
            pod.addSecretVolume([
                "name": .string(volumeName),
                "secret": [
                    "secretName": .string(secret.group),
                    "items": [["key": .string(secret.key), "path": .string(secret.key.lowercased())]],
                    "optional": true,
                ],
            ])
            let directory = SecretEnvNames.mountRoot + "/" + secret.group.lowercased()
            pod.addMount(["name": .string(volumeName), "readOnly": true, "mountPath": .string(directory)])
            pod.prependEnv([PodSpecEdits.env(SecretEnvNames.defaultDirVariable, SecretEnvNames.mountRoot)])
            pod.prependEnv([PodSpecEdits.env(SecretEnvNames.filePrefixVariable, "")])
            if !secret.envVar.isEmpty {
                pod.prependEnv([PodSpecEdits.env(secret.envVar, directory + "/" + secret.key.lowercased())])
            }
        case .envVar:
            let reference: JSONValue = ["secretKeyRef": ["name": .string(secret.group), "key": .string(secret.key), "optional": true]]
            pod.prependEnv([["name": .string((envVarPrefix + secret.group + "_" + secret.key).uppercased()), "valueFrom": reference]])
            if !secret.envVar.isEmpty {
                pod.prependEnv([["name": .string(secret.envVar), "valueFrom": reference]])
            }
            pod.prependEnv([PodSpecEdits.env(SecretEnvNames.envPrefixVariable, envVarPrefix)])
        case .UNRECOGNIZED:
            throw SecretInjectionFailure("unrecognized mount requirement [\(secret.mountRequirementName)] for secret [\(secret.key)]")
        }
    }
}

/// The names Flyte derives for secrets' Kubernetes objects.
enum SecretNames {
    /// Flyte's `EncodeK8sSecretName`: the MD5 of a name in hex, a valid Secret name whatever the
    /// name holds.
    static func md5Hex(_ text: String) -> String {
        hex(Insecure.MD5.hash(data: Array(text.utf8)))
    }

    /// Flyte's `ToImagePullK8sName`: `img-pull-` and the first 16 hex digits of the SHA-256 of
    /// `org:domain:project:name`, the image pull Secret kept for a secret's scope.
    static func imagePull(org: String, domain: String, project: String, name: String) -> String {
        "img-pull-" + hex(SHA256.hash(data: Array("\(org):\(domain):\(project):\(name)".utf8))).prefix(16)
    }

    /// Lower-case hex, two digits a byte, as Go's `%x`.
    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { byte in
            let hex = String(byte, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }.joined()
    }

    /// Flyte's base32 (its `encoding.Base32Encoder`), which names the K8s manager's volumes.
    static func base32(_ text: String) -> String { FlyteBase32.encode(text.utf8) }

    /// Flyte's `EncodeSecretName`: `u__org__<org>__domain__<domain>__project__<project>__key__<name>`,
    /// the id a secret is stored under, at the scope whose parts are set.
    static func scopedID(org: String, domain: String, project: String, name: String) -> String {
        "u__org__\(org)__domain__\(domain)__project__\(project)__key__\(name)"
    }
}

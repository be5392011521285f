import Foundation
import KubeClient
import Logging
import TaskPlugins

/// The MutatingWebhookConfiguration that sends the executor's Pods to its webhook, Flyte's
/// (`executor/pkg/webhook/pod.go`): one webhook `flyte-pod-webhook.flyte.org`, CREATE of
/// `pods`, the Pods labelled `inject-flyte-secrets=true` only, failing closed, named after the
/// Service. Flyte copies its own Pod's owner references onto it; a cluster-scoped object
/// cannot have a namespaced owner (the garbage collector ignores such a reference), so this
/// leaves them off, and the configuration outlives an uninstall that does not delete it.
enum MutatingWebhookRegistration {
    static let resource = ResourceType(group: "admissionregistration.k8s.io", version: "v1", kind: "MutatingWebhookConfiguration", plural: "mutatingwebhookconfigurations", namespaced: false)
    static let webhookName = "flyte-pod-webhook.flyte.org"

    static func configuration(_ config: SecretsWebhookConfig, namespace: String, caPEM: String) -> JSONValue {
        var webhook: JSONValue = [
            "name": .string(webhookName),
            "clientConfig": [
                "caBundle": .string(Data(caPEM.utf8).base64EncodedString()),
                "service": ["name": .string(config.serviceName), "namespace": .string(namespace), "path": .string(AdmissionServer.path), "port": .int(Int64(config.servicePort))],
            ],
            "rules": [["operations": ["CREATE"], "apiGroups": ["*"], "apiVersions": ["v1"], "resources": ["pods"]]],
            "failurePolicy": "Fail",
            "sideEffects": "NoneOnDryRun",
            "admissionReviewVersions": ["v1", "v1beta1"],
            "objectSelector": ["matchLabels": [SecretAnnotations.podLabel: "true"]],
            "timeoutSeconds": .int(Int64(config.webhookTimeout)),
        ]
        if let selector = config.namespaceSelector { webhook["namespaceSelector"] = selector }
        return [
            "apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
            "metadata": ["name": .string(config.serviceName), "labels": ["app.kubernetes.io/managed-by": "executor"]],
            "webhooks": [webhook],
        ]
    }

    /// Creates the configuration, or sets the webhooks of the one there (on a conflict, read
    /// again and retried), as Flyte's `createMutationConfig` does.
    static func apply(_ configuration: JSONValue, client: KubernetesClient, logger: Logger) async throws {
        let name = configuration.value(atPath: "metadata.name")?.stringValue ?? ""
        do {
            _ = try await client.create(resource, configuration)
            logger.info("webhook: created MutatingWebhookConfiguration \(name)")
            return
        } catch let error as KubeAPIError where error.isAlreadyExists {}
        for attempt in 1...5 {
            var existing = try await client.get(resource, name: name)
            guard existing["webhooks"] != configuration["webhooks"] else { return }
            existing["webhooks"] = configuration["webhooks"]
            do {
                _ = try await client.update(resource, existing)
                logger.info("webhook: updated MutatingWebhookConfiguration \(name)")
                return
            } catch let error as KubeAPIError where error.isConflict && attempt < 5 {
                continue
            }
        }
    }
}

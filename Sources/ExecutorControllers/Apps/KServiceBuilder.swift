import Crypto
import ExecutorAPI
import FlyteIDL
import Foundation
import KubeClient
import SwiftProtobuf
import TaskPlugins

/// Builds the Knative Service that represents an App, as Flyte's app client does
/// (`app/internal/k8s/app_client.go`, spec §9.2): its name, labels, annotations, revision
/// template (container, env order, timeout, service account) and autoscaling annotations.
public struct KServiceBuilder: Sendable {
    public static let managedLabel = "flyte.org/app-managed"
    public static let projectLabel = "flyte.org/project"
    public static let domainLabel = "flyte.org/domain"
    public static let appNameLabel = "flyte.org/app-name"
    public static let stoppedLabel = "flyte.org/app-stopped"
    public static let visibilityLabel = "networking.knative.dev/visibility"
    public static let specSHAAnnotation = "flyte.org/spec-sha"
    public static let specAnnotation = "flyte.org/spec"
    public static let appIDAnnotation = "flyte.org/app-id"
    public static let appOrgAnnotation = "flyte.org/app-org"
    public static let minScale = "autoscaling.knative.dev/min-scale"
    public static let maxScale = "autoscaling.knative.dev/max-scale"
    public static let initialScale = "autoscaling.knative.dev/initial-scale"
    public static let metric = "autoscaling.knative.dev/metric"
    public static let target = "autoscaling.knative.dev/target"
    public static let window = "autoscaling.knative.dev/window"

    public let config: AppsConfig

    public init(config: AppsConfig) {
        self.config = config
    }

    /// Lower-cased `<name>-<project>-<domain>`; past 63 characters, its first 54, `-` and the
    /// first 8 hex digits of SHA-256 over `project/domain/name`.
    public static func serviceName(_ id: AppIdentifier) -> String {
        let name = "\(id.name)-\(id.project)-\(id.domain)".lowercased()
        guard name.count > 63 else { return name }
        let digest = SHA256.hash(data: Data("\(id.project)/\(id.domain)/\(id.name)".utf8))
        return String(name.prefix(54)) + "-" + AppDeployment.hex(digest.prefix(4))
    }

    /// The revision template's autoscaling annotations: none without `autoscaling`.
    public static func autoscalingAnnotations(_ spec: Flyteidl2_App_Spec) -> [String: String] {
        guard spec.hasAutoscaling else { return [:] }
        let autoscaling = spec.autoscaling
        var annotations: [String: String] = [:]
        if autoscaling.hasReplicas {
            annotations[minScale] = String(autoscaling.replicas.min)
            annotations[maxScale] = String(autoscaling.replicas.max)
        }
        switch autoscaling.scalingMetric.metric {
        case .requestRate(let rate)?:
            annotations[metric] = "rps"
            annotations[target] = String(rate.targetValue)
        case .concurrency(let concurrency)?:
            annotations[metric] = "concurrency"
            annotations[target] = String(concurrency.targetValue)
        case nil: break
        }
        if autoscaling.hasScaledownPeriod {
            annotations[window] = GoDurationText.of(autoscaling.scaledownPeriod)
        }
        return annotations
    }

    /// `<scheme>://<service>.<baseDomain>[:port]`, lower-cased; nil without a base domain.
    public func publicURL(serviceName: String) -> String? {
        guard !config.baseDomain.isEmpty else { return nil }
        let port = config.ingressAppsPort > 0 ? ":\(config.ingressAppsPort)" : ""
        return "\(config.scheme)://\("\(serviceName).\(config.baseDomain)".lowercased())\(port)"
    }

    /// The whole KService for `app`, owned by it.
    public func build(app: App, deployment: AppDeployment) -> JSONValue {
        let id = deployment.id
        let name = Self.serviceName(id)
        let labels: [String: JSONValue] = [Self.managedLabel: "true", Self.projectLabel: .string(id.project), Self.domainLabel: .string(id.domain), Self.appNameLabel: .string(id.name)]
        let annotations: [String: JSONValue] = [
            Self.specSHAAnnotation: .string(deployment.specSHA), Self.specAnnotation: .string(deployment.specBase64),
            Self.appIDAnnotation: .string(id.appID), Self.appOrgAnnotation: .string(id.org ?? ""),
        ]
        let owner: JSONValue = ["apiVersion": .string(App.resourceType.apiVersion), "kind": .string(App.resourceType.kind), "name": .string(app.metadata.name ?? ""),
                                "uid": .string(app.metadata.uid ?? ""), "controller": true, "blockOwnerDeletion": true]
        return [
            "apiVersion": .string(KnativeService.resourceType.apiVersion), "kind": .string(KnativeService.resourceType.kind),
            "metadata": ["name": .string(name), "namespace": .string(app.metadata.namespace ?? "default"), "labels": .object(labels), "annotations": .object(annotations), "ownerReferences": [owner]],
            "spec": ["template": template(deployment, namespace: app.metadata.namespace ?? "default")],
        ]
    }

    /// The revision template: metadata (autoscaling annotations; the secret-injection labels and
    /// `flyte.secrets/s<N>` annotations when the app has secrets; a pod payload's own labels and
    /// annotations) and the pod spec.
    func template(_ deployment: AppDeployment, namespace: String) -> JSONValue {
        let spec = deployment.spec
        var labels: [String: JSONValue] = [:]
        var annotations: [String: JSONValue] = [:]
        var podSpec: [String: JSONValue]
        switch spec.appPayload {
        case .pod(let pod)?:
            podSpec = Self.json(pod.podSpec).objectValue ?? [:]
            for (k, v) in pod.metadata.labels { labels[k] = .string(v) }
            for (k, v) in pod.metadata.annotations { annotations[k] = .string(v) }
        case .container(let container)?:
            podSpec = ["containers": [Self.container(container)]]
        case nil:
            podSpec = ["containers": []]
        }
        for (k, v) in Self.autoscalingAnnotations(spec) { annotations[k] = .string(v) }
        if !spec.securityContext.secrets.isEmpty {
            labels["organization"] = "flyte"
            labels["project"] = .string(deployment.id.project)
            labels["domain"] = .string(deployment.id.domain)
            labels[SecretAnnotations.podLabel] = "true"
            for (k, v) in SecretAnnotations.annotations(spec.securityContext.secrets) { annotations[k] = .string(v) }
        }
        // The first container's environment, in Flyte's order: the configured defaults (sorted,
        // as a map has no order), the app's own, then the endpoint pattern and the execution
        // project and domain.
        var containers = podSpec["containers"]?.arrayValue ?? []
        if !containers.isEmpty {
            var env: [JSONValue] = config.defaultEnvVars.sorted { $0.key < $1.key }.map { ["name": .string($0.key), "value": .string($0.value)] }
            env += containers[0]["env"]?.arrayValue ?? []
            let suffix = config.namespacedNameSuffixTemplate
                .replacingOccurrences(of: "{{ project }}", with: deployment.id.project)
                .replacingOccurrences(of: "{{ domain }}", with: deployment.id.domain)
            env.append(["name": "INTERNAL_APP_ENDPOINT_PATTERN", "value": .string("http://{app_fqdn}-\(suffix).\(namespace).svc.cluster.local")])
            env.append(["name": "FLYTE_INTERNAL_EXECUTION_PROJECT", "value": .string(deployment.id.project)])
            env.append(["name": "FLYTE_INTERNAL_EXECUTION_DOMAIN", "value": .string(deployment.id.domain)])
            containers[0]["env"] = .array(env)
            podSpec["containers"] = .array(containers)
        }
        podSpec["timeoutSeconds"] = .int(Int64(timeoutSeconds(spec)))
        if podSpec["enableServiceLinks"] == nil { podSpec["enableServiceLinks"] = false }
        let account = spec.securityContext.runAs.k8SServiceAccount
        if !account.isEmpty {
            podSpec["serviceAccountName"] = .string(account)
        } else if podSpec["serviceAccountName"] == nil, !config.defaultServiceAccount.isEmpty {
            podSpec["serviceAccountName"] = .string(config.defaultServiceAccount)
        }
        var metadata: [String: JSONValue] = [:]
        if !labels.isEmpty { metadata["labels"] = .object(labels) }
        if !annotations.isEmpty { metadata["annotations"] = .object(annotations) }
        var template: [String: JSONValue] = ["spec": .object(podSpec)]
        if !metadata.isEmpty { template["metadata"] = .object(metadata) }
        return .object(template)
    }

    /// The spec's request timeout capped at the configured maximum, else the default.
    func timeoutSeconds(_ spec: Flyteidl2_App_Spec) -> Int {
        let requested = spec.timeouts.hasRequestTimeout ? Int(spec.timeouts.requestTimeout.seconds) : 0
        return requested > 0 ? min(requested, config.maxRequestTimeoutSeconds) : config.defaultRequestTimeoutSeconds
    }

    /// Container `app`: image, command, args, env, ports and cpu/memory/storage requests and limits.
    static func container(_ c: Flyteidl2_Core_Container) -> JSONValue {
        var out: [String: JSONValue] = ["name": "app", "image": .string(c.image)]
        if !c.command.isEmpty { out["command"] = .array(c.command.map { .string($0) }) }
        if !c.args.isEmpty { out["args"] = .array(c.args.map { .string($0) }) }
        if !c.env.isEmpty { out["env"] = .array(c.env.map { ["name": .string($0.key), "value": .string($0.value)] }) }
        if !c.ports.isEmpty {
            out["ports"] = .array(c.ports.map { port in
                var p: [String: JSONValue] = ["containerPort": .int(Int64(port.containerPort))]
                if !port.name.isEmpty { p["name"] = .string(port.name) }
                return .object(p)
            })
        }
        func list(_ entries: [Flyteidl2_Core_Resources.ResourceEntry]) -> [String: JSONValue] {
            var out: [String: JSONValue] = [:]
            for entry in entries {
                let key: String? = switch entry.name {
                case .cpu: "cpu"
                case .memory: "memory"
                case .storage: "storage"
                case .ephemeralStorage: "ephemeral-storage"
                default: nil
                }
                if let key, !entry.value.isEmpty { out[key] = .string(entry.value) }
            }
            return out
        }
        var resources: [String: JSONValue] = [:]
        let requests = list(c.resources.requests)
        let limits = list(c.resources.limits)
        if !requests.isEmpty { resources["requests"] = .object(requests) }
        if !limits.isEmpty { resources["limits"] = .object(limits) }
        if !resources.isEmpty { out["resources"] = .object(resources) }
        return .object(out)
    }

    /// A `google.protobuf.Struct` as the JSON it holds.
    static func json(_ value: Google_Protobuf_Struct) -> JSONValue {
        guard let bytes: [UInt8] = try? value.jsonUTF8Bytes(), let json = try? JSONValue.parse(bytes) else { return [:] }
        return json
    }

    /// Step 1 of Flyte's stop: label the Service stopped and cluster-local, and scale its
    /// template to zero (the cluster needs `allow-zero-initial-scale: "true"`).
    public static var stopPatch: JSONValue {
        ["metadata": ["labels": [.init(stoppedLabel): "true", .init(visibilityLabel): "cluster-local"]],
         "spec": ["template": ["metadata": ["annotations": [.init(minScale): "0", .init(initialScale): "0"]]]]]
    }

    /// ``stopPatch`` applied to a Service about to be created.
    public static func markStopped(_ service: inout JSONValue) {
        service["metadata"]?["labels"]?[stoppedLabel] = "true"
        service["metadata"]?["labels"]?[visibilityLabel] = "cluster-local"
        var annotations = service.value(atPath: "spec.template.metadata.annotations")?.objectValue ?? [:]
        annotations[minScale] = "0"
        annotations[initialScale] = "0"
        var metadata = service.value(atPath: "spec.template.metadata")?.objectValue ?? [:]
        metadata["annotations"] = .object(annotations)
        service["spec"]?["template"]?["metadata"] = .object(metadata)
    }

    /// The existing Service updated to `desired`: spec replaced, labels and annotations merged
    /// (Knative's immutable ones such as `serving.knative.dev/creator` kept), stop labels dropped.
    public static func updated(_ existing: KnativeService, to desired: JSONValue) -> KnativeService {
        var service = existing
        service.spec = desired["spec"]
        var labels = service.metadata.labels ?? [:]
        for (k, v) in desired.value(atPath: "metadata.labels")?.objectValue ?? [:] { labels[k] = v.stringValue ?? "" }
        labels[stoppedLabel] = nil
        labels[visibilityLabel] = nil
        service.metadata.labels = labels
        var annotations = service.metadata.annotations ?? [:]
        for (k, v) in desired.value(atPath: "metadata.annotations")?.objectValue ?? [:] { annotations[k] = v.stringValue ?? "" }
        service.metadata.annotations = annotations
        service.status = nil
        return service
    }
}

import ExecutorAPI
import FlyteIDL
import Foundation
import KubeClient

/// Everything a plugin needs to build and judge its child for one attempt of a TaskAction.
public struct TaskExecutionContext: Sendable {
    public var taskAction: TaskAction
    public var template: Flyteidl2_Core_TaskTemplate
    /// 1-based.
    public var attempt: Int
    /// `<taskaction>-<attempt-1>`, shortened to the plugin's maximum.
    public var generatedName: String
    public var namespace: String
    /// Controller owner reference to the TaskAction.
    public var ownerReference: OwnerReference
    /// Labels of the child (section 4.2 of the spec).
    public var labels: [String: String]
    /// Annotations of the child: the configured defaults, the TaskAction's, and the secrets'
    /// `flyte.secrets/s<N>` (`SecretAnnotations`).
    public var annotations: [String: String]
    /// `ACTION_NAME`, `RUN_NAME`, `_U_RUN_BASE`, `_U_ORG_NAME`, then `spec.envVars`, then the
    /// configured `default-env-vars` and `default-env-vars-from-env`, in order.
    public var environment: [EnvVar]
    public var serviceAccount: String?
    public var interruptible: Bool
    public var maxAttempts: Int
    public var paths: TaskPaths
    public var renderer: TemplateRenderer
    public var config: PluginConfig
    /// The moment the reconcile started, for grace periods.
    public var now: Date
    /// The PodTemplate the child's Pods are built on (`default-pod-template-name` or the
    /// task's `pod_template_name`), read by the executor just before it builds the child; nil
    /// when none applies. ``PodPlugin`` merges the Pod onto it.
    public var basePodTemplate: PodTemplate?

    /// The executor's own environment, read once: `default-env-vars-from-env` takes values from
    /// it, and a context is built every round.
    static let processEnvironment = ProcessInfo.processInfo.environment

    /// The variables every child gets from the executor; `spec.envVars` cannot replace them.
    static let reservedEnvironment: Set<String> = ["ACTION_NAME", "RUN_NAME", "_U_RUN_BASE", "_U_ORG_NAME"]

    /// Builds the context of the TaskAction's current attempt.
    public init(taskAction: TaskAction, template: Flyteidl2_Core_TaskTemplate, properties: PluginProperties, config: PluginConfig, now: Date = Date()) {
        let name = taskAction.metadata.name ?? ""
        let namespace = taskAction.metadata.namespace ?? "default"
        let spec = taskAction.spec
        let attempt = taskAction.status?.attempt ?? 1
        self.taskAction = taskAction
        self.template = template
        self.attempt = attempt
        self.namespace = namespace
        self.config = config
        self.now = now
        generatedName = ChildNames.generated(taskAction: name, attempt: attempt, maxLength: properties.generatedNameMaxLength)
        ownerReference = OwnerReference(apiVersion: TaskAction.resourceType.apiVersion, kind: "TaskAction", name: name, uid: taskAction.metadata.uid ?? "", controller: true, blockOwnerDeletion: true)

        var labels = config.defaultLabels
        for (k, v) in taskAction.metadata.labels ?? [:] { labels[k] = v }
        labels["organization"] = "flyte"
        labels["project"] = ChildNames.labelValue(spec.project)
        labels["domain"] = ChildNames.labelValue(spec.domain)
        labels[TaskActionLabels.managed] = "true"
        labels["run"] = ChildNames.labelValue(spec.runName)
        labels["action"] = ChildNames.labelValue(spec.actionName)
        labels["attempt"] = String(attempt)
        labels["task-name"] = ChildNames.labelValue(template.id.name)
        let secrets = template.securityContext.secrets
        if !secrets.isEmpty { labels[SecretAnnotations.podLabel] = "true" }
        self.labels = labels

        var annotations = config.defaultAnnotations
        for (k, v) in taskAction.metadata.annotations ?? [:] where !k.hasPrefix("kubectl.kubernetes.io/") { annotations[k] = v }
        // After the TaskAction's own, as Flyte's union does: a webhook must read what it wrote.
        for (k, v) in SecretAnnotations.annotations(secrets) { annotations[k] = v }
        self.annotations = annotations

        var env = [
            EnvVar(name: "ACTION_NAME", value: spec.actionName),
            EnvVar(name: "RUN_NAME", value: spec.runName),
            EnvVar(name: "_U_RUN_BASE", value: spec.runOutputBase ?? ""),
            EnvVar(name: "_U_ORG_NAME", value: "local"),
        ]
        if let vars = spec.envVars, !vars.isEmpty {
            for (k, v) in vars.sorted(by: { $0.key < $1.key }) where !Self.reservedEnvironment.contains(k) {
                env.append(EnvVar(name: k, value: v))
            }
        }
        // The platform's defaults come last and win over the task's own, as in Flyte (which
        // appends them, and the kubelet takes the last of a name); not over the four above.
        var defaults = config.defaultEnvVars.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        if !config.defaultEnvVarsFromEnv.isEmpty {
            defaults += config.defaultEnvVarsFromEnv.sorted { $0.key < $1.key }.map { ($0.key, Self.processEnvironment[$0.value] ?? "") }
        }
        for (k, v) in defaults where !Self.reservedEnvironment.contains(k) {
            env.removeAll { $0.name == k }
            env.append(EnvVar(name: k, value: v))
        }
        environment = env

        let sa = template.securityContext.runAs.k8SServiceAccount
        serviceAccount = sa.isEmpty ? config.defaultServiceAccount : sa
        interruptible = spec.interruptible ?? (template.metadata.interruptible)
        maxAttempts = Int(template.metadata.retries.retries) + 1
        paths = TaskPaths(namespace: namespace, name: name, inputUri: spec.inputUri ?? "", runOutputBase: spec.runOutputBase ?? "", actionName: spec.actionName, attempt: attempt)
        renderer = TemplateRenderer(paths: paths, generatedName: generatedName, namespace: namespace, input: LocalInputs.reader(paths.inputPath))
    }
}

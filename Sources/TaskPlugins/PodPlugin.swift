import ExecutorAPI
import FlyteIDL
import Foundation
import KubeClient
import SwiftProtobuf

/// Runs `container` and `k8s_pod` task templates as a Pod: Flyte's `pod` plugin, the
/// default plugin.
public struct PodPlugin: KubernetesTaskPlugin {
    public typealias Child = Pod

    public let id = "pod"
    public let taskTypes = ["container", "python", "raw-container", "sidecar"]
    public let properties = PluginProperties()
    public let config: PluginConfig

    public init(config: PluginConfig = PluginConfig()) {
        self.config = config
    }

    public static let primaryContainerAnnotation = "primary_container_name"

    // MARK: Building

    public func build(_ context: TaskExecutionContext) throws -> Pod {
        let template = context.template
        var pod: Pod
        let primary: String
        switch template.target {
        case .container(let container):
            let name = ChildNames.isDNS1123Label(context.generatedName) ? context.generatedName : Self.randomName()
            var c = Container(name: name, image: container.image)
            c.command = container.command.isEmpty ? nil : try render(container.command, context)
            c.args = container.args.isEmpty ? nil : try render(container.args, context)
            c.env = Self.merge(container.env.map { EnvVar(name: $0.key, value: $0.value) }, context.environment)
            c.resources = try ResourceMapping.requirements(container.resources, gpuResourceName: config.gpuResourceName(for: template))
            c.unknownFields["terminationMessagePolicy"] = "FallbackToLogsOnError"
            c.imagePullPolicy = config.imagePullPolicy
            pod = Pod(metadata: ObjectMeta(), spec: PodSpec(containers: [c]))
            primary = name
        case .k8SPod(let k8sPod):
            guard let name = template.config[Self.primaryContainerAnnotation], !name.isEmpty else {
                throw ExecutionError(code: "BadTaskSpecification", message: "invalid TaskSpecification, config needs to be non-empty and include key [\(Self.primaryContainerAnnotation)]", kind: .user)
            }
            let json = try k8sPod.podSpec.jsonString()
            var spec: PodSpec
            do {
                spec = try JSONValueDecoder().decode(PodSpec.self, from: try JSONValue.parse(Array(json.utf8)))
            } catch {
                throw ExecutionError(code: "BadTaskSpecification", message: "unable to unmarshal pod spec [\(error)]", kind: .user)
            }
            guard spec.containers.contains(where: { $0.name == name }) else {
                throw ExecutionError(code: "BadTaskSpecification", message: "primary container [\(name)] is not in the pod spec", kind: .user)
            }
            // Init containers too, as Flyte's AddFlyteCustomizationsToContainer does.
            spec.containers = try spec.containers.map { try customize($0, context) }
            spec.initContainers = try spec.initContainers?.map { try customize($0, context) }
            pod = Pod(metadata: ObjectMeta(labels: k8sPod.metadata.labels.isEmpty ? nil : k8sPod.metadata.labels, annotations: k8sPod.metadata.annotations.isEmpty ? nil : k8sPod.metadata.annotations), spec: spec)
            primary = name
        default:
            throw ExecutionError(code: "BadTaskSpecification", message: "task template of type \"\(template.type)\" has neither a container nor a k8s_pod target", kind: .user)
        }

        var spec = pod.spec ?? PodSpec(containers: [])
        for index in spec.containers.indices {
            spec.containers[index].resources = ResourceMapping.customized(spec.containers[index].resources, primary: spec.containers[index].name == primary, config: config)
        }
        spec.initContainers = spec.initContainers?.map { container in
            var container = container
            container.resources = ResourceMapping.customized(container.resources, primary: false, config: config)
            return container
        }
        config.apply(to: &spec, primary: primary, interruptible: context.interruptible, serviceAccount: context.serviceAccount)
        if let base = context.basePodTemplate {
            try PodTemplateMerge.apply(base, to: &spec, metadata: &pod.metadata, primary: primary)
        }
        if template.hasExtendedResources {
            let extended = template.extendedResources
            if extended.hasGpuAccelerator {
                var labels = pod.metadata.labels ?? [:]
                config.applyAccelerator(extended.gpuAccelerator, to: &spec, labels: &labels)
                pod.metadata.labels = labels.isEmpty ? nil : labels
            }
            if extended.hasSharedMemory { try SharedMemoryVolume.apply(extended.sharedMemory, to: &spec, primary: primary) }
        }
        // Last, as Flyte's ToK8sPodSpec: a template's or accelerator's containers count too.
        config.addExtendedResourceTolerations(to: &spec)
        Self.addVSCodeProbe(to: &spec, primary: primary)
        if spec.unknownFields["enableServiceLinks"] == nil { spec.unknownFields["enableServiceLinks"] = false }
        pod.spec = spec

        // Task metadata labels and annotations win over the pod's own.
        let meta = context.template.metadata.metadata
        var labels = pod.metadata.labels ?? [:]
        for (k, v) in meta.labels { labels[k] = v }
        var annotations = pod.metadata.annotations ?? [:]
        for (k, v) in meta.annotations { annotations[k] = v }
        if context.taskAction.spec.taskType != "raw-container" || template.target.isK8sPod {
            annotations[Self.primaryContainerAnnotation] = primary
        }
        pod.metadata.labels = labels.isEmpty ? nil : labels
        pod.metadata.annotations = annotations.isEmpty ? nil : annotations
        return pod
    }

    /// A task that serves VS Code (`_F_E_VS` true in its primary or only container) is ready
    /// when the server answers: Flyte's readiness probe, on 6060 for v2 tasks (they have
    /// `ACTION_NAME`), else 8080.
    static func addVSCodeProbe(to spec: inout PodSpec, primary: String) {
        for index in spec.containers.indices {
            if spec.containers.count > 1 && spec.containers[index].name != primary { continue }
            let env = spec.containers[index].env ?? []
            guard let flag = env.first(where: { $0.name == "_F_E_VS" }), goBool(flag.value ?? "") == true else { break }
            let port: Int64 = env.contains { $0.name == "ACTION_NAME" } ? 6060 : 8080
            spec.containers[index].unknownFields["readinessProbe"] = ["httpGet": ["port": .int(port)], "initialDelaySeconds": 15, "periodSeconds": 5, "failureThreshold": 50]
        }
    }

    /// Go's `strconv.ParseBool`; nil where it fails.
    static func goBool(_ text: String) -> Bool? {
        switch text {
        case "1", "t", "T", "true", "TRUE", "True": true
        case "0", "f", "F", "false", "FALSE", "False": false
        default: nil
        }
    }

    /// A k8s_pod container with its command and arguments rendered and the executor's
    /// environment merged in.
    private func customize(_ container: Container, _ context: TaskExecutionContext) throws -> Container {
        var container = container
        if let command = container.command { container.command = try render(command, context) }
        if let args = container.args { container.args = try render(args, context) }
        container.env = Self.merge(container.env ?? [], context.environment)
        return container
    }

    private func render(_ strings: [String], _ context: TaskExecutionContext) throws -> [String] {
        do {
            return try context.renderer.render(strings)
        } catch {
            throw ExecutionError(code: "BadTaskSpecification", message: "failed to render container arguments: \(error)", kind: .user)
        }
    }

    /// `base` followed by `injected`, an injected name replacing an earlier entry.
    static func merge(_ base: [EnvVar], _ injected: [EnvVar]) -> [EnvVar] {
        let names = Set(injected.map(\.name))
        return base.filter { !names.contains($0.name) } + injected
    }

    static func randomName() -> String {
        String((0..<4).map { _ in "abcdefghijklmnopqrstuvwxyz".randomElement() ?? "x" })
    }

    // MARK: Status

    public func phase(of pod: Pod, context: TaskExecutionContext) -> PhaseInfo {
        var info = PodPhaseMapper(config: config, now: context.now).phase(of: pod)
        if pod.status?.phase != "Unknown" {
            info.logContext = Self.logContext(pod)
            info.links = config.logs.links(for: pod, context: context)
        }
        return info
    }

    /// Flyte's `BuildPodLogContext` for the one Pod of the attempt: its namespace and name, its
    /// primary container, and each container's and init container's start and end.
    public static func logContext(_ pod: Pod) -> Flyteidl2_Core_LogContext {
        func containers(_ statuses: [ContainerStatus]) -> [Flyteidl2_Core_ContainerContext] {
            statuses.map { status in
                var container = Flyteidl2_Core_ContainerContext()
                container.containerName = status.name
                var process = Flyteidl2_Core_ContainerContext.ProcessContext()
                let started = status.state?.terminated?.startedAt ?? status.state?.running?.startedAt
                if let started = started.flatMap(KubeTime.parse) { process.containerStartTime = Google_Protobuf_Timestamp(date: started) }
                if let finished = status.state?.terminated?.finishedAt.flatMap(KubeTime.parse) { process.containerEndTime = Google_Protobuf_Timestamp(date: finished) }
                container.process = process
                return container
            }
        }
        var podContext = Flyteidl2_Core_PodLogContext()
        podContext.namespace = pod.metadata.namespace ?? ""
        podContext.podName = pod.metadata.name ?? ""
        podContext.primaryContainerName = primaryContainerName(pod)
        podContext.containers = containers(pod.status?.containerStatuses ?? [])
        podContext.initContainers = containers(pod.status?.initContainerStatuses ?? [])
        var context = Flyteidl2_Core_LogContext()
        context.primaryPodName = pod.metadata.name ?? ""
        context.pods = [podContext]
        return context
    }

    /// Flyte's `GetPrimaryContainerName`: kubectl's default container, the primary container
    /// annotation, the container named as the Pod, else the first.
    static func primaryContainerName(_ pod: Pod) -> String {
        let annotations = pod.metadata.annotations ?? [:]
        if let name = annotations[defaultContainerAnnotation], !name.isEmpty { return name }
        if let name = annotations[primaryContainerAnnotation], !name.isEmpty { return name }
        let names = (pod.spec?.containers ?? []).map(\.name)
        if let podName = pod.metadata.name, names.contains(podName) { return podName }
        return names.first ?? ""
    }

    /// The primary container of a Pod this plugin built: the one its annotation names, else the
    /// first; nil when the Pod has none. What plugins that build on the task's Pod rename or
    /// dress (a Kubeflow replica's, a Dask scheduler's, a JobSet rank's).
    static func builtPrimaryContainer(_ pod: Pod) -> String? {
        pod.metadata.annotations?[primaryContainerAnnotation] ?? pod.spec?.containers.first?.name
    }

    /// kubectl's `kubectl.kubernetes.io/default-container`, which Flyte reads first.
    static let defaultContainerAnnotation = "kubectl.kubernetes.io/default-container"

    /// A Pod's change needs a round when it changes what the Pod's phase rules say of it (judged
    /// at one instant for both versions), or its identity, owners, labels or deletion: a Pod
    /// bound to its node, or made ready after it was Running, does not.
    public func changeNeedsRound(from old: Pod, to new: Pod) -> Bool {
        guard old.metadata.uid == new.metadata.uid, old.metadata.deletionTimestamp == new.metadata.deletionTimestamp,
              old.metadata.ownerReferences == new.metadata.ownerReferences, old.metadata.labels == new.metadata.labels,
              isTerminal(old) == isTerminal(new)
        else { return true }
        let mapper = PodPhaseMapper(config: config, now: Date())
        return mapper.phase(of: old) != mapper.phase(of: new)
    }

    public func isTerminal(_ pod: Pod) -> Bool { Self.hasEnded(pod) }

    /// Succeeded or Failed: a Pod in either phase never runs again.
    static func hasEnded(_ pod: Pod) -> Bool {
        pod.status?.phase == "Succeeded" || pod.status?.phase == "Failed"
    }

    public func completionTime(_ pod: Pod) -> Date? {
        let finished = (pod.status?.containerStatuses ?? []).compactMap { $0.state?.terminated?.finishedAt }.compactMap(KubeTime.parse)
        return finished.max()
    }

    /// Keeps status, owners, the primary-container annotation and the `attempt` label. A Pod
    /// that has ended keeps no conditions: they tell how it was scheduled, initialized and made
    /// ready, which the phase rules read only while it is Pending, and it stays cached as long
    /// as its TaskAction does (an hour after the end, by default).
    public var cacheTransform: (@Sendable (inout Pod) -> Void)? {
        let keepIDs = config.logs.readsContainerID
        return { pod in
            pod.trimToStatusView(keepingLabels: ["attempt"], annotations: [Self.primaryContainerAnnotation, Self.defaultContainerAnnotation], keepingContainerIDs: keepIDs)
            if Self.hasEnded(pod) { pod.status?.conditions = nil }
        }
    }

    /// A finished TaskAction's Pod keeps its metadata and phase: no spec, container states or
    /// conditions (the phase rules that read them ran; the Pod is deleted, never read, when its
    /// TaskAction is).
    public var finishedCacheTransform: (@Sendable (inout Pod) -> Void)? {
        { pod in pod.trimToFinishedView() }
    }

    public var rbacRules: [PolicyRule] {
        [.children(of: Pod.resourceType, comment: "Child Pods: created per attempt, listed and watched by a label-scoped informer, read once\nwhen the cache lags behind a create, deleted on abort and between attempts, patched to take\ninject-finalizer's finalizer off.")]
    }

    /// Skips, while decoding, what the status view drops: the spec's arguments, environment,
    /// volumes and the rest, unknown members and managedFields.
    public var cacheDecoder: JSONBytesDecoder? { Pod.statusViewDecoder }
}

extension Flyteidl2_Core_TaskTemplate.OneOf_Target? {
    var isK8sPod: Bool {
        if case .k8SPod = self { return true }
        return false
    }
}

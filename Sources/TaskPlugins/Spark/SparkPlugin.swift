import ExecutorAPI
import FlyteIDL
import Foundation
import KubeClient
import Synchronization

/// Runs `spark` tasks as `sparkoperator.k8s.io/v1beta2` SparkApplications (Flyte's spark
/// plugin, spec §8.1), for the Kubeflow Spark operator to submit.
public struct SparkPlugin: KubernetesTaskPlugin {
    public typealias Child = SparkApplication

    public let id = "spark"
    public let taskTypes = ["spark"]
    public let properties = PluginProperties()
    public let config: PluginConfig
    public let spark: SparkConfig
    private let probe = TemplateProbe()

    public init(config: PluginConfig = PluginConfig(), spark: SparkConfig = SparkConfig()) {
        self.config = config
        self.spark = spark
    }

    /// Whether the installed CRD has `spec.driver.template`: learnt once by ``prepare(client:)``.
    final class TemplateProbe: Sendable {
        let supported = Mutex<Bool?>(nil)
    }

    public static let driverContainer = "spark-kubernetes-driver"
    public static let executorContainer = "spark-kubernetes-executor"
    static let crdName = "sparkapplications.sparkoperator.k8s.io"
    /// The feature a key `spark.flyte.<feature>.enabled` / `spark.flyteorg.<feature>.enabled` names.
    static func featureName(_ key: String) -> String? {
        guard key.hasSuffix(".enabled") else { return nil }
        for prefix in ["spark.flyteorg.", "spark.flyte."] where key.hasPrefix(prefix) && key.count > prefix.count + ".enabled".count {
            return String(key.dropFirst(prefix.count).dropLast(".enabled".count))
        }
        return nil
    }

    // MARK: Pod templates

    /// Reads the SparkApplication CRD once, as Flyte does, to learn whether the driver and
    /// executors take a pod `template`; assumes they do not when the CRD cannot be read.
    public func prepare(client: KubernetesClient) async {
        let crds = ResourceType.customResourceDefinitions
        let supported: Bool
        if let crd = try? await client.get(crds, name: Self.crdName) {
            let version = crd.value(atPath: "spec.versions")?.arrayValue?.first { $0["name"] == "v1beta2" }
            supported = version?.value(atPath: "schema.openAPIV3Schema.properties.spec.properties.driver.properties.template") != nil
        } else {
            supported = false
        }
        probe.supported.withLock { $0 = supported }
    }

    /// Whether children use pod templates: configured on, and the CRD has the field (or was
    /// not probed, as in unit tests, where the real CRD is the reference).
    var usesPodTemplate: Bool { spark.enablePodTemplate && (probe.supported.withLock { $0 } ?? true) }

    /// Sets what ``prepare(client:)`` would learn, for tests without a cluster.
    public func assumeTemplateSupport(_ supported: Bool) { probe.supported.withLock { $0 = supported } }

    // MARK: Building

    public func build(_ context: TaskExecutionContext) throws -> SparkApplication {
        let job = try CustomPayload.decode(Flyteidl2_Plugins_SparkJob.self, from: context.template, name: "SparkJob")
        guard !job.mainApplicationFile.isEmpty || !job.mainClass.isEmpty else {
            throw ExecutionError(code: "BadTaskSpecification", message: "invalid TaskSpecification: SparkJob needs mainApplicationFile or mainClass, and sets neither", kind: .user)
        }
        let conf = sparkConf(job, context: context)
        var driverContext = context
        driverContext.interruptible = false  // the driver is never interruptible
        let driverPod = try basePod(job.hasDriverPod ? job.driverPod : nil, context: driverContext)
        let executorPod = try basePod(job.hasExecutorPod ? job.executorPod : nil, context: context)
        let primary = try primaryContainer(of: driverPod)

        var spec: JSONValue = [
            "type": .string(Self.applicationType(job.applicationType)),
            "image": primary.image.map(JSONValue.string) ?? .null,
            "sparkConf": .object(conf.mapValues(JSONValue.string)),
            "restartPolicy": ["type": "OnFailure", "onSubmissionFailureRetries": 14],
            "driver": try podSpec(driverPod, role: .driver, conf: conf, context: context),
            "executor": try podSpec(executorPod, role: .executor, conf: conf, context: context),
        ]
        if let args = primary.args, !args.isEmpty { spec["arguments"] = .array(args.map(JSONValue.string)) }
        if !job.hadoopConf.isEmpty { spec["hadoopConf"] = .object(job.hadoopConf.mapValues(JSONValue.string)) }
        if !job.mainApplicationFile.isEmpty { spec["mainApplicationFile"] = .string(job.mainApplicationFile) }
        if !job.mainClass.isEmpty { spec["mainClass"] = .string(job.mainClass) }
        if let scheduler = conf["spark.batchScheduler"] { spec["batchScheduler"] = .string(scheduler) }
        // The operator's webhook refuses pod templates below Spark 3.0.0.
        if usesPodTemplate { spec["sparkVersion"] = "3.0.0" }
        return SparkApplication(metadata: ObjectMeta(), spec: spec)
    }

    /// Spark properties in Flyte's order of precedence: plugin defaults, the Python binary,
    /// the job's own (features expanded), the core-limit fallback, the executor name prefix
    /// and the start time.
    func sparkConf(_ job: Flyteidl2_Plugins_SparkJob, context: TaskExecutionContext) -> [String: String] {
        var conf = spark.sparkConfigDefault
        if !job.executorPath.isEmpty {
            conf["spark.pyspark.python"] = job.executorPath
            conf["spark.pyspark.driver.python"] = job.executorPath
        }
        for (key, value) in job.sparkConf.sorted(by: { $0.key < $1.key }) {
            if value.trimmingCharacters(in: .whitespaces).lowercased() == "true", let name = Self.featureName(key),
                let feature = spark.features.first(where: { $0.name == name })
            {
                for (k, v) in feature.sparkConfig { conf[k] = v }
            } else {
                conf[key] = value
            }
        }
        for role in ["driver", "executor"] where (conf["spark.kubernetes.\(role).limit.cores"] ?? "").isEmpty {
            if let request = conf["spark.kubernetes.\(role).request.cores"], !request.isEmpty {
                conf["spark.kubernetes.\(role).limit.cores"] = request
            } else if let cores = conf["spark.\(role).cores"], !cores.isEmpty {
                conf["spark.kubernetes.\(role).limit.cores"] = cores
            }
        }
        conf["spark.kubernetes.executor.podNamePrefix"] = context.generatedName
        conf["spark.kubernetes.driverEnv.FLYTE_START_TIME"] = String(Int64(context.now.timeIntervalSince1970 * 1000))
        return conf
    }

    static func applicationType(_ type: Flyteidl2_Plugins_SparkApplication.TypeEnum) -> String {
        switch type {
        case .java: "Java"
        case .scala: "Scala"
        case .r: "R"
        default: "Python"
        }
    }

    /// The task's Pod (or the job's driver/executor K8sPod), built as the Pod plugin builds it.
    func basePod(_ k8sPod: Flyteidl2_Core_K8sPod?, context: TaskExecutionContext) throws -> Pod {
        var ctx = context
        if let k8sPod, k8sPod.hasPodSpec {
            var template = ctx.template
            template.k8SPod = k8sPod
            if !k8sPod.primaryContainerName.isEmpty { template.config[PodPlugin.primaryContainerAnnotation] = k8sPod.primaryContainerName }
            ctx.template = template
        }
        return try PodPlugin(config: config).build(ctx)
    }

    func primaryContainer(of pod: Pod) throws -> Container {
        let name = pod.metadata.annotations?[PodPlugin.primaryContainerAnnotation]
        guard let container = pod.spec?.containers.first(where: { $0.name == name }) ?? pod.spec?.containers.first else {
            throw ExecutionError(code: "BadTaskSpecification", message: "invalid TaskSpecification: the Spark task has no container", kind: .user)
        }
        return container
    }

    enum Role: String { case driver, executor }

    /// A SparkPodSpec: the fields the operator reads, and the pod `template` when supported.
    func podSpec(_ pod: Pod, role: Role, conf: [String: String], context: TaskExecutionContext) throws -> JSONValue {
        let primary = try primaryContainer(of: pod)
        let spec = pod.spec ?? PodSpec(containers: [])
        var labels = context.labels
        for (k, v) in pod.metadata.labels ?? [:] { labels[k] = v }
        if role == .driver, context.generatedName.count <= 63 { labels[TaskActionLabels.childName] = context.generatedName }
        var annotations = context.annotations
        for (k, v) in pod.metadata.annotations ?? [:] where k != PodPlugin.primaryContainerAnnotation { annotations[k] = v }
        var env = primary.env ?? []
        env.append(EnvVar(name: "FLYTE_MAX_ATTEMPTS", value: String(context.maxAttempts)))

        var out: JSONValue = [
            "labels": .object(labels.mapValues(JSONValue.string)),
            "annotations": .object(annotations.mapValues(JSONValue.string)),
            "env": try JSONValueEncoder().encode(env),
            "serviceAccount": .string(context.serviceAccount ?? "spark"),
        ]
        if let image = primary.image { out["image"] = .string(image) }
        if let cores = conf["spark.\(role.rawValue).cores"].flatMap(Int64.init) { out["cores"] = .int(cores) }
        if let memory = conf["spark.\(role.rawValue).memory"] { out["memory"] = .string(memory) }
        if role == .executor, let instances = conf["spark.executor.instances"].flatMap(Int64.init) { out["instances"] = .int(instances) }
        if let affinity = spec.affinity { out["affinity"] = affinity }
        if let security = spec.securityContext, security != [:] { out["podSecurityContext"] = security }
        if let dns = spec.unknownFields["dnsConfig"] { out["dnsConfig"] = dns }
        if let tolerations = spec.tolerations, !tolerations.isEmpty { out["tolerations"] = try JSONValueEncoder().encode(tolerations) }
        if let scheduler = spec.schedulerName { out["schedulerName"] = .string(scheduler) }
        if let selector = spec.nodeSelector, !selector.isEmpty { out["nodeSelector"] = .object(selector.mapValues(JSONValue.string)) }
        if let hostNetwork = spec.hostNetwork { out["hostNetwork"] = .bool(hostNetwork) }

        if usesPodTemplate {
            // The primary container becomes Spark's own, which the operator fills in.
            var templateSpec = spec
            templateSpec.containers = spec.containers.map { container in
                guard container.name == primary.name else { return container }
                var c = container
                c.name = role == .driver ? Self.driverContainer : Self.executorContainer
                c.command = nil
                c.args = nil
                return c
            }
            templateSpec.restartPolicy = nil
            var template: JSONValue = ["spec": try JSONValueEncoder().encode(templateSpec)]
            template["metadata"] = ["labels": .object(labels.mapValues(JSONValue.string)), "annotations": .object(annotations.mapValues(JSONValue.string))]
            out["template"] = template
        }
        return out
    }

    // MARK: Status

    public var relatedPod: RelatedPod<SparkApplication>? {
        RelatedPod { $0.status?.value(atPath: "driverInfo.podName")?.stringValue }
    }

    public func phase(of app: SparkApplication, context: TaskExecutionContext) -> PhaseInfo {
        phase(of: app, relatedPod: nil, context: context)
    }

    /// The driver Pod first (its Pending and Failed rules win), then the application state.
    public func phase(of app: SparkApplication, relatedPod driver: Pod?, context: TaskExecutionContext) -> PhaseInfo {
        var recheck: Duration?
        if let driver {
            let (verdict, after) = PodPhaseMapper(config: config, now: context.now).relatedPod(driver, primary: Self.driverContainer)
            if let verdict { return verdict }
            recheck = after
        }
        var info = applicationPhase(app)
        if info.recheckAfter == nil { info.recheckAfter = recheck }
        info.links = links(app, phase: info.phase)
        return info
    }

    /// The Spark driver UI while the application runs (`driverInfo.webUIIngressAddress`,
    /// `https://` added when it has no scheme), and the history server's page once it ended.
    func links(_ app: SparkApplication, phase: PluginPhase) -> [LogLink] {
        if phase == .running, var address = app.status?.value(atPath: "driverInfo.webUIIngressAddress")?.stringValue, !address.isEmpty {
            if !address.contains("://") { address = "https://" + address }
            return [LogLink(name: "Spark Driver UI", uri: address)]
        }
        if phase.isTerminal || phase.isFailure, let history = spark.sparkHistoryServerURL, !history.isEmpty,
            let id = app.status?["sparkApplicationId"]?.stringValue, !id.isEmpty
        {
            return [LogLink(name: "Spark History UI", uri: "\(history)/history/\(id)")]
        }
        return []
    }

    /// `status.applicationState.state` → phase, the table of §8.1.
    func applicationPhase(_ app: SparkApplication) -> PhaseInfo {
        let message = app.status?.value(atPath: "applicationState.errorMessage")?.stringValue ?? ""
        switch app.state ?? "" {
        case "", "NEW":
            // Flyte reads an application the operator has not seen yet (no state) as running;
            // it is queued.
            return .queued("job queued")
        case "SUBMITTED", "PENDING_SUBMISSION":
            return .initializing("job submitted")
        case "SUBMISSION_FAILED":
            return .retryableFailure("DownstreamSystemError", "Spark Job Submission Failed with Error: \(message)")
        case "FAILED":
            return .retryableFailure("DownstreamSystemError", "Spark Job Failed with Error: \(message)")
        case "COMPLETED":
            return .success()
        default:
            return .running()
        }
    }

    static let terminalStates: Set<String> = ["COMPLETED", "FAILED", "SUBMISSION_FAILED"]

    public func isTerminal(_ app: SparkApplication) -> Bool { Self.terminalStates.contains(app.state ?? "") }

    public func completionTime(_ app: SparkApplication) -> Date? {
        let status = app.status
        return (status?["terminationTime"]?.stringValue ?? status?["lastSubmissionAttemptTime"]?.stringValue ?? app.metadata.creationTimestamp).flatMap(KubeTime.parse)
    }

    /// Keeps what the phase reads: the state, the driver, the application id and the times.
    public var cacheTransform: (@Sendable (inout SparkApplication) -> Void)? {
        { app in
            let driver = app.status?["driverInfo"]
            app.trimForCache(statusKeys: ["applicationState", "sparkApplicationId", "terminationTime", "lastSubmissionAttemptTime"])
            if let driver {
                app.status?["driverInfo"] = ["podName": driver["podName"] ?? .null, "webUIIngressAddress": driver["webUIIngressAddress"] ?? .null]
            }
        }
    }

    public var rbacRules: [PolicyRule] {
        [
            .children(of: SparkApplication.resourceType, comment: "SparkApplications of spark tasks: created per attempt, watched by a label-scoped informer,\nread when the cache lags, deleted on abort and between attempts, patched to take\ninject-finalizer's finalizer off."),
            PolicyRule(apiGroups: ["apiextensions.k8s.io"], resources: ["customresourcedefinitions"], verbs: ["get"], resourceNames: [Self.crdName],
                       comment: "The SparkApplication CRD, read once to learn whether pod templates are supported."),
        ]
    }
}

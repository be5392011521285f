import KubeClient

/// Flyte's k8s plugin configuration applied to a task's Pod spec, as Flyte's `UpdatePod`,
/// `ApplyInterruptibleNodeAffinity` and `AddTolerationsForExtendedResources` do
/// (`flyteplugins/.../flytek8s/pod_helper.go`): every Pod the Pod, Spark and Ray plugins build
/// goes through it.
extension PluginConfig {
    /// Decorates `spec`, whose primary container is `primary`; what the spec sets itself wins
    /// where Flyte lets it (service account, scheduler, node selector keys, affinity, security
    /// contexts, DNS config).
    public func apply(to spec: inout PodSpec, primary: String, interruptible: Bool, serviceAccount: String?) {
        if spec.restartPolicy == nil { spec.restartPolicy = "Never" }
        // The resources' tolerations, the interruptible ones, the defaults, then the Pod's own.
        spec.tolerations = nonEmpty(tolerations(for: spec.containers, interruptible: interruptible) + (spec.tolerations ?? []))
        if (spec.serviceAccountName ?? "").isEmpty, let serviceAccount { spec.serviceAccountName = serviceAccount }
        if (spec.schedulerName ?? "").isEmpty, let schedulerName, !schedulerName.isEmpty { spec.schedulerName = schedulerName }
        var selector = spec.nodeSelector ?? [:]
        for (k, v) in defaultNodeSelector where selector[k] == nil { selector[k] = v }
        if interruptible {
            for (k, v) in interruptibleNodeSelector { selector[k] = v }
        }
        spec.nodeSelector = selector.isEmpty ? nil : selector
        if spec.affinity == nil || spec.affinity?.isNull == true { spec.affinity = defaultAffinity }
        if spec.securityContext == nil || spec.securityContext?.isNull == true { spec.securityContext = defaultPodSecurityContext }
        if let enableHostNetworkingPod { spec.hostNetwork = enableHostNetworkingPod }
        if spec.unknownFields["dnsConfig"] == nil, let defaultPodDNSConfig { spec.unknownFields["dnsConfig"] = defaultPodDNSConfig }
        if let requirement = interruptible ? interruptibleNodeSelectorRequirement : nonInterruptibleNodeSelectorRequirement {
            var affinity = spec.affinity ?? .emptyObject
            Self.addRequired(requirement, to: &affinity)
            spec.affinity = affinity
        }
        if let defaultSecurityContext, let index = spec.containers.firstIndex(where: { $0.name == primary }), spec.containers[index].unknownFields["securityContext"] == nil {
            spec.containers[index].unknownFields["securityContext"] = defaultSecurityContext
        }
        if !defaultEnvFromSecrets.isEmpty || !defaultEnvFromConfigMaps.isEmpty {
            let sources: [JSONValue] = defaultEnvFromSecrets.map { ["secretRef": ["name": .string($0), "optional": true]] }
                + defaultEnvFromConfigMaps.map { ["configMapRef": ["name": .string($0), "optional": true]] }
            for index in spec.containers.indices {
                spec.containers[index].unknownFields["envFrom"] = .array((spec.containers[index].unknownFields["envFrom"]?.arrayValue ?? []) + sources)
            }
            spec.initContainers = spec.initContainers?.map { container in
                var container = container
                container.unknownFields["envFrom"] = .array((container.unknownFields["envFrom"]?.arrayValue ?? []) + sources)
                return container
            }
        }
    }

    /// Flyte's `AddTolerationsForExtendedResources`, the last step of building a Pod: for each
    /// `add-tolerations-for-extended-resources` that a container or init container requests,
    /// `{key: <resource>, operator: Exists, effect: NoSchedule}` unless tolerated already.
    public func addExtendedResourceTolerations(to spec: inout PodSpec) {
        for resource in extendedResourcesRequested(by: spec) {
            let toleration = Toleration(key: resource, operator: "Exists", effect: "NoSchedule")
            if !(spec.tolerations ?? []).contains(where: { Self.matches($0, toleration) }) {
                spec.tolerations = (spec.tolerations ?? []) + [toleration]
            }
        }
    }

    /// Flyte's `GetPodTolerations`: those of every resource the containers request or limit (by
    /// resource name, sorted: Go's set has no order), the interruptible ones, the defaults.
    func tolerations(for containers: [Container], interruptible: Bool) -> [Toleration] {
        var names = Set<String>()
        for container in containers {
            names.formUnion((container.resources?.limits ?? [:]).keys)
            names.formUnion((container.resources?.requests ?? [:]).keys)
        }
        var tolerations = names.sorted().flatMap { resourceTolerations[$0] ?? [] }
        if interruptible { tolerations += interruptibleTolerations }
        return tolerations + defaultTolerations
    }

    /// The `add-tolerations-for-extended-resources` that a container or init container requests, sorted.
    func extendedResourcesRequested(by spec: PodSpec) -> [String] {
        guard !addTolerationsForExtendedResources.isEmpty else { return [] }
        let requested = Set((spec.containers + (spec.initContainers ?? [])).flatMap { ($0.resources?.requests ?? [:]).keys })
        return Set(addTolerationsForExtendedResources).intersection(requested).sorted()
    }

    /// Kubernetes' `Toleration.MatchToleration`: key, operator, value and effect equal.
    static func matches(_ a: Toleration, _ b: Toleration) -> Bool {
        a.key ?? "" == b.key ?? "" && a.operator ?? "" == b.operator ?? "" && a.value ?? "" == b.value ?? "" && a.effect ?? "" == b.effect ?? ""
    }

    /// Flyte's `AddRequiredNodeSelectorRequirements`: the requirement joins every term of the
    /// required node affinity that lacks it, or is the one term when there are none. Terms are
    /// ORed by the scheduler, so a requirement on only some of them would not hold.
    static func addRequired(_ requirement: JSONValue, to affinity: inout JSONValue) {
        var nodeAffinity = affinity["nodeAffinity"] ?? .emptyObject
        var required = nodeAffinity["requiredDuringSchedulingIgnoredDuringExecution"] ?? .emptyObject
        var terms = required["nodeSelectorTerms"]?.arrayValue ?? []
        if terms.isEmpty {
            terms = [["matchExpressions": [requirement]]]
        } else {
            for index in terms.indices {
                var expressions = terms[index]["matchExpressions"]?.arrayValue ?? []
                if !expressions.contains(requirement) { expressions.append(requirement) }
                terms[index]["matchExpressions"] = .array(expressions)
            }
        }
        required["nodeSelectorTerms"] = .array(terms)
        nodeAffinity["requiredDuringSchedulingIgnoredDuringExecution"] = required
        affinity["nodeAffinity"] = nodeAffinity
    }

    private func nonEmpty(_ tolerations: [Toleration]) -> [Toleration]? {
        tolerations.isEmpty ? nil : tolerations
    }
}

import FlyteIDL
import KubeClient

/// Flyte `Resources` to Kubernetes requests and limits, as `flytek8s.ToK8sResourceList`:
/// CPU → `cpu`, MEMORY → `memory`, EPHEMERAL_STORAGE → `ephemeral-storage`, GPU → the
/// configured device resource; STORAGE and UNKNOWN dropped, zero quantities dropped. A missing
/// request takes the limit and a missing limit the request, so a Pod gets Guaranteed or
/// Burstable QoS from either alone. A value that is not a Kubernetes quantity fails the task
/// with `BadTaskSpecification` naming it (Flyte parses each value with `resource.ParseQuantity`
/// while building the container), rather than a Pod create the API server refuses without
/// saying which value it could not read.
public enum ResourceMapping {
    public static func requirements(_ resources: Flyteidl2_Core_Resources, gpuResourceName: String) throws(ExecutionError) -> ResourceRequirements? {
        func list(_ entries: [Flyteidl2_Core_Resources.ResourceEntry], _ kind: String) throws(ExecutionError) -> [String: String] {
            var out: [String: String] = [:]
            for entry in entries {
                let value = entry.value.trimmingCharacters(in: .whitespaces)
                guard !value.isEmpty, !isZero(value) else { continue }
                if case .failure(let error) = ResourceQuantity.parse(value) {
                    throw ExecutionError(code: "BadTaskSpecification", message: "invalid TaskSpecification: \(entry.name) \(kind) \"\(entry.value)\" is not a quantity: \(error.message)", kind: .user)
                }
                switch entry.name {
                case .cpu: out["cpu"] = value
                case .memory: out["memory"] = value
                case .ephemeralStorage: out["ephemeral-storage"] = value
                case .gpu: out[gpuResourceName] = value
                default: continue
                }
            }
            return out
        }
        var requests = try list(resources.requests, "request")
        var limits = try list(resources.limits, "limit")
        for (k, v) in limits where requests[k] == nil { requests[k] = v }
        for (k, v) in requests where limits[k] == nil { limits[k] = v }
        if requests.isEmpty && limits.isEmpty { return nil }
        return ResourceRequirements(limits: limits.isEmpty ? nil : limits, requests: requests.isEmpty ? nil : requests)
    }

    /// Flyte's resource customization of a container (`ApplyResourceOverrides`). In the primary
    /// container, CPU, memory, ephemeral storage and accelerators get a missing request from
    /// their limit and a missing limit from their request, and CPU and memory with neither take
    /// `default-cpus` and `default-memory` (Flyte's `AdjustOrDefaultResource`); in every
    /// container a request above its limit comes down to the limit.
    public static func customized(_ resources: ResourceRequirements?, primary: Bool, config: PluginConfig) -> ResourceRequirements? {
        var requests = resources?.requests ?? [:]
        var limits = resources?.limits ?? [:]
        if primary {
            for (name, fallback) in [("cpu", config.defaultCPUs), ("memory", config.defaultMemory)] where requests[name] == nil && limits[name] == nil && !fallback.isEmpty {
                requests[name] = fallback
                limits[name] = fallback
            }
            let accelerators = config.acceleratorResourceNames
            for name in Set(requests.keys).union(limits.keys) where ["cpu", "memory", "ephemeral-storage"].contains(name) || accelerators.contains(name) {
                if requests[name] == nil { requests[name] = limits[name] }
                if limits[name] == nil { limits[name] = requests[name] }
            }
        }
        for (name, limit) in limits {
            if let request = requests[name], case .success(let r) = ResourceQuantity.parse(request), case .success(let l) = ResourceQuantity.parse(limit), r > l {
                requests[name] = limit
            }
        }
        if requests.isEmpty && limits.isEmpty { return resources }
        var out = resources ?? ResourceRequirements()
        out.requests = requests.isEmpty ? nil : requests
        out.limits = limits.isEmpty ? nil : limits
        return out
    }

    static func isZero(_ quantity: String) -> Bool {
        let digits = quantity.prefix { $0.isNumber || $0 == "." }
        return !digits.isEmpty && Double(digits) == 0
    }
}

import Foundation

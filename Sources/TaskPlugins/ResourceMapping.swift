import FlyteIDL
import KubeClient

/// Flyte `Resources` to Kubernetes requests and limits, as `flytek8s.ToK8sResourceList`:
/// CPU → `cpu`, MEMORY → `memory`, EPHEMERAL_STORAGE → `ephemeral-storage`, GPU → the
/// configured device resource; STORAGE and UNKNOWN dropped, zero quantities dropped. A missing
/// request takes the limit and a missing limit the request, so a Pod gets Guaranteed or
/// Burstable QoS from either alone.
public enum ResourceMapping {
    public static func requirements(_ resources: Flyteidl2_Core_Resources, gpuResourceName: String) -> ResourceRequirements? {
        func list(_ entries: [Flyteidl2_Core_Resources.ResourceEntry]) -> [String: String] {
            var out: [String: String] = [:]
            for entry in entries {
                let value = entry.value.trimmingCharacters(in: .whitespaces)
                guard !value.isEmpty, !isZero(value) else { continue }
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
        var requests = list(resources.requests)
        var limits = list(resources.limits)
        for (k, v) in limits where requests[k] == nil { requests[k] = v }
        for (k, v) in requests where limits[k] == nil { limits[k] = v }
        if requests.isEmpty && limits.isEmpty { return nil }
        return ResourceRequirements(limits: limits.isEmpty ? nil : limits, requests: requests.isEmpty ? nil : requests)
    }

    static func isZero(_ quantity: String) -> Bool {
        let digits = quantity.prefix { $0.isNumber || $0 == "." }
        return !digits.isEmpty && Double(digits) == 0
    }
}

import Foundation

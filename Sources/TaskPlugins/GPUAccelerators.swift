import FlyteIDL
import KubeClient

/// How Pods of one accelerator device class are placed (Flyte's `accelerator-device-classes`
/// entries); an empty field falls back to the global GPU settings.
public struct AcceleratorDeviceClass: Codable, Sendable, Hashable {
    public var resourceName: String?
    public var deviceNodeLabel: String?
    public var partitionSizeNodeLabel: String?
    public var unpartitionedNodeSelectorRequirement: JSONValue?
    public var unpartitionedToleration: Toleration?

    public init(resourceName: String? = nil, deviceNodeLabel: String? = nil, partitionSizeNodeLabel: String? = nil) {
        self.resourceName = resourceName
        self.deviceNodeLabel = deviceNodeLabel
        self.partitionSizeNodeLabel = partitionSizeNodeLabel
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case resourceName = "resource-name"
        case deviceNodeLabel = "device-node-label"
        case partitionSizeNodeLabel = "partition-size-node-label"
        case unpartitionedNodeSelectorRequirement = "unpartitioned-node-selector-requirement"
        case unpartitionedToleration = "unpartitioned-toleration"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        resourceName = try c.decodeIfPresent(String.self, forKey: .resourceName)
        deviceNodeLabel = try c.decodeIfPresent(String.self, forKey: .deviceNodeLabel)
        partitionSizeNodeLabel = try c.decodeIfPresent(String.self, forKey: .partitionSizeNodeLabel)
        unpartitionedNodeSelectorRequirement = try c.decodeIfPresent(JSONValue.self, forKey: .unpartitionedNodeSelectorRequirement)
        unpartitionedToleration = try c.decodeIfPresent(Toleration.self, forKey: .unpartitionedToleration)
    }

    /// Flyte's defaults: the resource of each class, and GKE's TPU labels.
    public static let defaults: [String: AcceleratorDeviceClass] = [
        "NVIDIA_GPU": AcceleratorDeviceClass(resourceName: "nvidia.com/gpu"),
        "GOOGLE_TPU": AcceleratorDeviceClass(resourceName: "google.com/tpu", deviceNodeLabel: "cloud.google.com/gke-tpu-accelerator", partitionSizeNodeLabel: "cloud.google.com/gke-tpu-topology"),
        "AMAZON_NEURON": AcceleratorDeviceClass(resourceName: "aws.amazon.com/neuron"),
        "AMD_GPU": AcceleratorDeviceClass(resourceName: "amd.com/gpu"),
        "HABANA_GAUDI": AcceleratorDeviceClass(resourceName: "habana.ai/gaudi"),
    ]

    /// Flyte's names of accelerator devices for the node label (`A100` → `nvidia-tesla-a100`),
    /// looked up by the task's device in upper case, as Flyte does.
    public static let deviceNames: [String: String] = [
        "A10": "nvidia-a10", "A10G": "nvidia-a10g", "A100": "nvidia-tesla-a100", "A100 80G": "nvidia-a100-80gb",
        "A100G": "nvidia-a100g", "B200": "nvidia-b200", "GB200": "nvidia-gb200", "H100": "nvidia-h100",
        "H100 80G": "nvidia-h100-80gb", "H100 MEGA 80G": "nvidia-h100-mega-80gb", "H200": "nvidia-h200",
        "K80": "nvidia-tesla-k80", "L4": "nvidia-l4", "L40s": "nvidia-l40s", "L4_VWS": "nvidia-l4-vws",
        "M60": "nvidia-tesla-m60", "P4": "nvidia-tesla-p4", "P100": "nvidia-tesla-p100", "RTX PRO 6000": "nvidia-rtx-pro-6000",
        "T4": "nvidia-tesla-t4", "V100": "nvidia-tesla-v100",
        "V5E": "tpu-v5-lite-podslice", "V5P": "tpu-v5p-slice", "V6E": "tpu-v6e-slice",
        "INF1": "aws-neuron-inf1", "INF2": "aws-neuron-inf2", "TRN1": "aws-neuron-trn1", "TRN1N": "aws-neuron-trn1n",
        "TRN2": "aws-neuron-trn2", "TRN2U": "aws-neuron-trn2u",
        "MI100": "amd-mi100", "MI210": "amd-mi210", "MI250": "amd-mi250", "MI250X": "amd-mi250x", "MI300A": "amd-mi300a",
        "MI300X": "amd-mi300x", "MI325X": "amd-mi325x", "MI350X": "amd-mi350x", "MI355X": "amd-mi355x",
        "GAUDI1": "habana-gaudi-dl1",
    ]
}

extension Flyteidl2_Core_GPUAccelerator.DeviceClass {
    /// The proto enum's name, the key of `accelerator-device-classes`.
    var name: String {
        switch self {
        case .nvidiaGpu: "NVIDIA_GPU"
        case .googleTpu: "GOOGLE_TPU"
        case .amazonNeuron: "AMAZON_NEURON"
        case .amdGpu: "AMD_GPU"
        case .habanaGaudi: "HABANA_GAUDI"
        case .UNRECOGNIZED(let value): String(value)
        }
    }
}

extension PluginConfig {
    /// The global GPU settings, overridden by the accelerator's device class where it sets them
    /// (Flyte's `getAcceleratorConfig`).
    func accelerator(_ accelerator: Flyteidl2_Core_GPUAccelerator?) -> AcceleratorDeviceClass {
        var resolved = AcceleratorDeviceClass(resourceName: gpuResourceName, deviceNodeLabel: gpuDeviceNodeLabel, partitionSizeNodeLabel: gpuPartitionSizeNodeLabel)
        resolved.unpartitionedNodeSelectorRequirement = gpuUnpartitionedNodeSelectorRequirement
        resolved.unpartitionedToleration = gpuUnpartitionedToleration
        guard let accelerator, let deviceClass = acceleratorDeviceClasses[accelerator.deviceClass.name] else { return resolved }
        if let name = deviceClass.resourceName, !name.isEmpty { resolved.resourceName = name }
        if let label = deviceClass.deviceNodeLabel, !label.isEmpty { resolved.deviceNodeLabel = label }
        if let label = deviceClass.partitionSizeNodeLabel, !label.isEmpty { resolved.partitionSizeNodeLabel = label }
        if let requirement = deviceClass.unpartitionedNodeSelectorRequirement { resolved.unpartitionedNodeSelectorRequirement = requirement }
        if let toleration = deviceClass.unpartitionedToleration { resolved.unpartitionedToleration = toleration }
        return resolved
    }

    /// Every accelerator resource (`gpu-resource-name` and each device class's), as Flyte's
    /// `getAllAcceleratorResourceNames`: a Pod limiting one is placed by its accelerator, and a
    /// primary container's request and limit of one fill in each other.
    var acceleratorResourceNames: Set<String> {
        Set([gpuResourceName] + acceleratorDeviceClasses.values.compactMap(\.resourceName)).subtracting([""])
    }

    /// The Kubernetes resource a template's `GPU` resource entries become: its accelerator's
    /// device class's, else `gpu-resource-name`.
    public func gpuResourceName(for template: Flyteidl2_Core_TaskTemplate) -> String {
        let accelerator = template.hasExtendedResources && template.extendedResources.hasGpuAccelerator ? template.extendedResources.gpuAccelerator : nil
        return self.accelerator(accelerator).resourceName ?? gpuResourceName
    }

    /// Flyte's `ApplyGPUNodeSelectors`, for a Pod whose containers limit an accelerator
    /// resource: a required node-affinity requirement and a toleration for the device (its
    /// name normalized by `accelerator-devices`), then for the partition size, or for
    /// unpartitioned devices when asked. A MIG partition (`1g.5gb`) also labels the Pod with
    /// its compute slices, as Flyte does.
    public func applyAccelerator(_ accelerator: Flyteidl2_Core_GPUAccelerator, to spec: inout PodSpec, labels: inout [String: String]) {
        let resources = acceleratorResourceNames
        guard spec.containers.contains(where: { !resources.isDisjoint(with: ($0.resources?.limits ?? [:]).keys) }) else { return }
        let resolved = self.accelerator(accelerator)
        var affinity = spec.affinity ?? .emptyObject
        func tolerate(_ toleration: Toleration) {
            if !(spec.tolerations ?? []).contains(where: { Self.matches($0, toleration) }) {
                spec.tolerations = (spec.tolerations ?? []) + [toleration]
            }
        }
        if !accelerator.device.isEmpty {
            let device = acceleratorDevices[accelerator.device.uppercased()] ?? accelerator.device
            let label = resolved.deviceNodeLabel ?? ""
            Self.addRequired(["key": .string(label), "operator": "In", "values": [.string(device)]], to: &affinity)
            tolerate(Toleration(key: label, operator: "Equal", value: device, effect: "NoSchedule"))
        }
        let partitionLabel = resolved.partitionSizeNodeLabel ?? ""
        switch accelerator.partitionSizeValue {
        case .unpartitioned(true)?:
            Self.addRequired(resolved.unpartitionedNodeSelectorRequirement ?? ["key": .string(partitionLabel), "operator": "DoesNotExist"], to: &affinity)
            if let toleration = resolved.unpartitionedToleration { tolerate(toleration) }
        case .partitionSize(let size)?:
            Self.addRequired(["key": .string(partitionLabel), "operator": "In", "values": [.string(size)]], to: &affinity)
            tolerate(Toleration(key: partitionLabel, operator: "Equal", value: size, effect: "NoSchedule"))
            if let slices = Self.migSlices(size) { labels["platform.union.ai/gpu-partition-slices"] = slices }
        case .unpartitioned(false)?, nil:
            break
        }
        spec.affinity = affinity
    }

    /// The compute slices of a MIG partition size `<N>g.<M>gb`, or nil.
    static func migSlices(_ size: String) -> String? {
        let parts = size.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].hasSuffix("g"), parts[1].hasSuffix("gb") else { return nil }
        let slices = parts[0].dropLast()
        let memory = parts[1].dropLast(2)
        guard !slices.isEmpty, !memory.isEmpty, slices.allSatisfy(\.isASCIIDigit), memory.allSatisfy(\.isASCIIDigit) else { return nil }
        return String(slices)
    }
}

private extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

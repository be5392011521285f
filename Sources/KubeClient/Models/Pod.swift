/// A core/v1 Pod: the fields plugins read and write, with every other field kept for round trips.
public struct Pod: KubernetesObject, Hashable {
    public static let resourceType = ResourceType(group: "", version: "v1", kind: "Pod", plural: "pods", namespaced: true)

    public var apiVersion: String = "v1"
    public var kind: String = "Pod"
    public var metadata: ObjectMeta
    public var spec: PodSpec?
    public var status: PodStatus?
    public var unknownFields: [String: JSONValue] = [:]

    public init(metadata: ObjectMeta, spec: PodSpec? = nil, status: PodStatus? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case apiVersion, kind, metadata, spec, status }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        apiVersion = try c.decodeIfPresent(String.self, forKey: .apiVersion) ?? "v1"
        kind = try c.decodeIfPresent(String.self, forKey: .kind) ?? "Pod"
        metadata = try c.decodeIfPresent(ObjectMeta.self, forKey: .metadata) ?? ObjectMeta()
        spec = try c.decodeIfPresent(PodSpec.self, forKey: .spec)
        status = try c.decodeIfPresent(PodStatus.self, forKey: .status)
        unknownFields = try decoder.unknownFields(besides: CodingKeys.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(apiVersion, forKey: .apiVersion)
        try c.encode(kind, forKey: .kind)
        try c.encode(metadata, forKey: .metadata)
        try c.encodeIfPresent(spec, forKey: .spec)
        try c.encodeIfPresent(status, forKey: .status)
        try encoder.encodeUnknownFields(unknownFields)
    }
}

/// `core/v1 PodSpec`.
public struct PodSpec: Codable, Sendable, Hashable {
    public var containers: [Container]
    public var initContainers: [Container]?
    public var restartPolicy: String?
    public var serviceAccountName: String?
    public var nodeName: String?
    public var nodeSelector: [String: String]?
    public var tolerations: [Toleration]?
    public var affinity: JSONValue?
    public var schedulerName: String?
    public var priorityClassName: String?
    public var activeDeadlineSeconds: Int64?
    public var terminationGracePeriodSeconds: Int64?
    public var volumes: [JSONValue]?
    public var securityContext: JSONValue?
    public var hostNetwork: Bool?
    public var unknownFields: [String: JSONValue] = [:]

    public init(containers: [Container], restartPolicy: String? = nil, serviceAccountName: String? = nil) {
        self.containers = containers
        self.restartPolicy = restartPolicy
        self.serviceAccountName = serviceAccountName
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case containers, initContainers, restartPolicy, serviceAccountName, nodeName, nodeSelector, tolerations
        case affinity, schedulerName, priorityClassName, activeDeadlineSeconds, terminationGracePeriodSeconds
        case volumes, securityContext, hostNetwork
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        containers = try c.decodeIfPresent([Container].self, forKey: .containers) ?? []
        initContainers = try c.decodeIfPresent([Container].self, forKey: .initContainers)
        restartPolicy = try c.decodeIfPresent(String.self, forKey: .restartPolicy)
        serviceAccountName = try c.decodeIfPresent(String.self, forKey: .serviceAccountName)
        nodeName = try c.decodeIfPresent(String.self, forKey: .nodeName)
        nodeSelector = try c.decodeIfPresent([String: String].self, forKey: .nodeSelector)
        tolerations = try c.decodeIfPresent([Toleration].self, forKey: .tolerations)
        affinity = try c.decodeIfPresent(JSONValue.self, forKey: .affinity)
        schedulerName = try c.decodeIfPresent(String.self, forKey: .schedulerName)
        priorityClassName = try c.decodeIfPresent(String.self, forKey: .priorityClassName)
        activeDeadlineSeconds = try c.decodeIfPresent(Int64.self, forKey: .activeDeadlineSeconds)
        terminationGracePeriodSeconds = try c.decodeIfPresent(Int64.self, forKey: .terminationGracePeriodSeconds)
        volumes = try c.decodeIfPresent([JSONValue].self, forKey: .volumes)
        securityContext = try c.decodeIfPresent(JSONValue.self, forKey: .securityContext)
        hostNetwork = try c.decodeIfPresent(Bool.self, forKey: .hostNetwork)
        unknownFields = try decoder.unknownFields(besides: CodingKeys.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(containers, forKey: .containers)
        try c.encodeIfPresent(initContainers, forKey: .initContainers)
        try c.encodeIfPresent(restartPolicy, forKey: .restartPolicy)
        try c.encodeIfPresent(serviceAccountName, forKey: .serviceAccountName)
        try c.encodeIfPresent(nodeName, forKey: .nodeName)
        try c.encodeIfPresent(nodeSelector, forKey: .nodeSelector)
        try c.encodeIfPresent(tolerations, forKey: .tolerations)
        try c.encodeIfPresent(affinity, forKey: .affinity)
        try c.encodeIfPresent(schedulerName, forKey: .schedulerName)
        try c.encodeIfPresent(priorityClassName, forKey: .priorityClassName)
        try c.encodeIfPresent(activeDeadlineSeconds, forKey: .activeDeadlineSeconds)
        try c.encodeIfPresent(terminationGracePeriodSeconds, forKey: .terminationGracePeriodSeconds)
        try c.encodeIfPresent(volumes, forKey: .volumes)
        try c.encodeIfPresent(securityContext, forKey: .securityContext)
        try c.encodeIfPresent(hostNetwork, forKey: .hostNetwork)
        try encoder.encodeUnknownFields(unknownFields)
    }
}

/// `core/v1 Container`.
public struct Container: Codable, Sendable, Hashable {
    public var name: String
    public var image: String?
    public var command: [String]?
    public var args: [String]?
    public var workingDir: String?
    public var env: [EnvVar]?
    public var resources: ResourceRequirements?
    public var imagePullPolicy: String?
    public var unknownFields: [String: JSONValue] = [:]

    public init(name: String, image: String? = nil, command: [String]? = nil, args: [String]? = nil, env: [EnvVar]? = nil, resources: ResourceRequirements? = nil) {
        self.name = name
        self.image = image
        self.command = command
        self.args = args
        self.env = env
        self.resources = resources
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, image, command, args, workingDir, env, resources, imagePullPolicy
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name) ?? ""
        image = try c.decodeIfPresent(String.self, forKey: .image)
        command = try c.decodeIfPresent([String].self, forKey: .command)
        args = try c.decodeIfPresent([String].self, forKey: .args)
        workingDir = try c.decodeIfPresent(String.self, forKey: .workingDir)
        env = try c.decodeIfPresent([EnvVar].self, forKey: .env)
        resources = try c.decodeIfPresent(ResourceRequirements.self, forKey: .resources)
        imagePullPolicy = try c.decodeIfPresent(String.self, forKey: .imagePullPolicy)
        unknownFields = try decoder.unknownFields(besides: CodingKeys.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encodeIfPresent(image, forKey: .image)
        try c.encodeIfPresent(command, forKey: .command)
        try c.encodeIfPresent(args, forKey: .args)
        try c.encodeIfPresent(workingDir, forKey: .workingDir)
        try c.encodeIfPresent(env, forKey: .env)
        try c.encodeIfPresent(resources, forKey: .resources)
        try c.encodeIfPresent(imagePullPolicy, forKey: .imagePullPolicy)
        try encoder.encodeUnknownFields(unknownFields)
    }
}

/// `core/v1 EnvVar`.
public struct EnvVar: Codable, Sendable, Hashable {
    public var name: String
    public var value: String?
    public var valueFrom: JSONValue?
    public init(name: String, value: String? = nil, valueFrom: JSONValue? = nil) {
        self.name = name
        self.value = value
        self.valueFrom = valueFrom
    }
}

/// `core/v1 ResourceRequirements`; quantities are kept as the strings the API uses.
public struct ResourceRequirements: Codable, Sendable, Hashable {
    public var limits: [String: String]?
    public var requests: [String: String]?
    public var claims: [JSONValue]?
    public init(limits: [String: String]? = nil, requests: [String: String]? = nil) {
        self.limits = limits
        self.requests = requests
    }
}

/// `core/v1 Toleration`.
public struct Toleration: Codable, Sendable, Hashable {
    public var key: String?
    public var `operator`: String?
    public var value: String?
    public var effect: String?
    public var tolerationSeconds: Int64?
    public init(key: String? = nil, operator: String? = nil, value: String? = nil, effect: String? = nil, tolerationSeconds: Int64? = nil) {
        self.key = key
        self.operator = `operator`
        self.value = value
        self.effect = effect
        self.tolerationSeconds = tolerationSeconds
    }
}

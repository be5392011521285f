/// A core/v1 Pod: the fields plugins read and write, with every other field kept for round trips.
public struct Pod: KubernetesObject, Hashable, JSONReadable {
    public static let resourceType = ResourceType(group: "", version: "v1", kind: "Pod", plural: "pods", namespaced: true)

    public var apiVersion: String = "v1"
    public var kind: String = "Pod"
    public var metadata: ObjectMeta
    /// The spec, boxed: a cache that keeps a Pod without its spec (a finished task's) then holds
    /// a pointer instead of a 208-byte struct, and a Pod is cheaper to copy.
    private var specBox: Box<PodSpec>?
    public var spec: PodSpec? {
        get { specBox?.value }
        set { specBox = newValue.map(Box.init) }
        _modify {
            // Out of the box first, so that a Pod holding it alone mutates the spec's buffers in
            // place instead of copying them.
            var value = specBox?.value
            specBox = nil
            defer { specBox = value.map(Box.init) }
            yield &value
        }
    }
    public var status: PodStatus?
    public var unknownFields: [String: JSONValue] = [:]

    public init(metadata: ObjectMeta, spec: PodSpec? = nil, status: PodStatus? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    enum CodingKeys: String, CodingKey { case apiVersion, kind, metadata, spec, status }

    public init(json: inout JSONReader) throws {
        self.init(metadata: ObjectMeta())
        try json.readObject { key, value in
            switch key {
            case "apiVersion": apiVersion = try value.read(String?.self) ?? "v1"
            case "kind": kind = try value.read(String?.self) ?? "Pod"
            case "metadata": metadata = try value.read(ObjectMeta?.self) ?? ObjectMeta()
            case "spec": spec = try value.read()
            case "status": status = try value.read()
            default: try value.keepUnknown(key, in: &unknownFields)
            }
        }
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
public struct PodSpec: Codable, Sendable, Hashable, JSONReadable {
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

    enum CodingKeys: String, CodingKey {
        case containers, initContainers, restartPolicy, serviceAccountName, nodeName, nodeSelector, tolerations
        case affinity, schedulerName, priorityClassName, activeDeadlineSeconds, terminationGracePeriodSeconds
        case volumes, securityContext, hostNetwork
    }

    public init(json: inout JSONReader) throws {
        self.init(containers: [])
        try json.readObject { key, value in
            switch key {
            case "containers": containers = try value.read([Container]?.self) ?? []
            case "initContainers": initContainers = try value.read()
            case "restartPolicy": restartPolicy = try value.read()
            case "serviceAccountName": serviceAccountName = try value.read()
            case "nodeName": nodeName = try value.read()
            case "nodeSelector": nodeSelector = try value.read()
            case "tolerations": tolerations = try value.read()
            case "affinity": affinity = try value.read()
            case "schedulerName": schedulerName = try value.read()
            case "priorityClassName": priorityClassName = try value.read()
            case "activeDeadlineSeconds": activeDeadlineSeconds = try value.read()
            case "terminationGracePeriodSeconds": terminationGracePeriodSeconds = try value.read()
            case "volumes": volumes = try value.read()
            case "securityContext": securityContext = try value.read()
            case "hostNetwork": hostNetwork = try value.read()
            default: try value.keepUnknown(key, in: &unknownFields)
            }
        }
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
public struct Container: Codable, Sendable, Hashable, JSONReadable {
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

    enum CodingKeys: String, CodingKey {
        case name, image, command, args, workingDir, env, resources, imagePullPolicy
    }

    public init(json: inout JSONReader) throws {
        self.init(name: "")
        try json.readObject { key, value in
            switch key {
            case "name": name = try value.read(String?.self) ?? ""
            case "image": image = try value.read()
            case "command": command = try value.read()
            case "args": args = try value.read()
            case "workingDir": workingDir = try value.read()
            case "env": env = try value.read()
            case "resources": resources = try value.read()
            case "imagePullPolicy": imagePullPolicy = try value.read()
            default: try value.keepUnknown(key, in: &unknownFields)
            }
        }
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
public struct EnvVar: Codable, Sendable, Hashable, JSONReadable {
    public var name: String
    public var value: String?
    public var valueFrom: JSONValue?
    public init(name: String, value: String? = nil, valueFrom: JSONValue? = nil) {
        self.name = name
        self.value = value
        self.valueFrom = valueFrom
    }

    public init(json: inout JSONReader) throws {
        var name: String?
        var value: String?
        var valueFrom: JSONValue?
        try json.readObject { key, member in
            switch key {
            case "name": name = try member.read()
            case "value": value = try member.read()
            case "valueFrom": valueFrom = try member.read()
            default: break
            }
        }
        self.init(name: try json.required(name, "name"), value: value, valueFrom: valueFrom)
    }
}

/// `core/v1 ResourceRequirements`; quantities are kept as the strings the API uses.
public struct ResourceRequirements: Codable, Sendable, Hashable, JSONReadable {
    public var limits: [String: String]?
    public var requests: [String: String]?
    public var claims: [JSONValue]?
    public init(limits: [String: String]? = nil, requests: [String: String]? = nil) {
        self.limits = limits
        self.requests = requests
    }

    public init(json: inout JSONReader) throws {
        self.init()
        try json.readObject { key, value in
            switch key {
            case "limits": limits = try value.read()
            case "requests": requests = try value.read()
            case "claims": claims = try value.read()
            default: break
            }
        }
    }
}

/// `core/v1 Toleration`.
public struct Toleration: Codable, Sendable, Hashable, JSONReadable {
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

    public init(json: inout JSONReader) throws {
        self.init()
        try json.readObject { key, value in
            switch key {
            case "key": self.key = try value.read()
            case "operator": self.operator = try value.read()
            case "value": self.value = try value.read()
            case "effect": effect = try value.read()
            case "tolerationSeconds": tolerationSeconds = try value.read()
            default: break
            }
        }
    }
}

/// `core/v1 PodStatus`.
public struct PodStatus: Codable, Sendable, Hashable, JSONReadable {
    /// `Pending`, `Running`, `Succeeded`, `Failed` or `Unknown`.
    public var phase: String?
    public var reason: String?
    public var message: String?
    public var startTime: String?
    public var conditions: [PodCondition]?
    public var containerStatuses: [ContainerStatus]?
    public var initContainerStatuses: [ContainerStatus]?
    public var hostIP: String?
    public var podIP: String?
    public var unknownFields: [String: JSONValue] = [:]

    public init(phase: String? = nil, reason: String? = nil, message: String? = nil) {
        self.phase = phase
        self.reason = reason
        self.message = message
    }

    enum CodingKeys: String, CodingKey {
        case phase, reason, message, startTime, conditions, containerStatuses, initContainerStatuses, hostIP, podIP
    }

    public init(json: inout JSONReader) throws {
        self.init()
        try json.readObject { key, value in
            switch key {
            case "phase": phase = try value.read()
            case "reason": reason = try value.read()
            case "message": message = try value.read()
            case "startTime": startTime = try value.read()
            case "conditions": conditions = try value.read()
            case "containerStatuses": containerStatuses = try value.read()
            case "initContainerStatuses": initContainerStatuses = try value.read()
            case "hostIP": hostIP = try value.read()
            case "podIP": podIP = try value.read()
            default: try value.keepUnknown(key, in: &unknownFields)
            }
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(phase, forKey: .phase)
        try c.encodeIfPresent(reason, forKey: .reason)
        try c.encodeIfPresent(message, forKey: .message)
        try c.encodeIfPresent(startTime, forKey: .startTime)
        try c.encodeIfPresent(conditions, forKey: .conditions)
        try c.encodeIfPresent(containerStatuses, forKey: .containerStatuses)
        try c.encodeIfPresent(initContainerStatuses, forKey: .initContainerStatuses)
        try c.encodeIfPresent(hostIP, forKey: .hostIP)
        try c.encodeIfPresent(podIP, forKey: .podIP)
        try encoder.encodeUnknownFields(unknownFields)
    }
}

/// `core/v1 PodCondition`.
public struct PodCondition: Codable, Sendable, Hashable, JSONReadable {
    public var type: String
    public var status: String
    public var reason: String?
    public var message: String?
    public var lastTransitionTime: String?
    public var lastProbeTime: String?
    public init(type: String, status: String, reason: String? = nil, message: String? = nil, lastTransitionTime: String? = nil) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
        self.lastTransitionTime = lastTransitionTime
    }

    public init(json: inout JSONReader) throws {
        var type: String?, status: String?, reason: String?, message: String?, lastTransitionTime: String?, lastProbeTime: String?
        try json.readObject { key, value in
            switch key {
            case "type": type = try value.read()
            case "status": status = try value.read()
            case "reason": reason = try value.read()
            case "message": message = try value.read()
            case "lastTransitionTime": lastTransitionTime = try value.read()
            case "lastProbeTime": lastProbeTime = try value.read()
            default: break
            }
        }
        self.init(
            type: try json.required(type, "type"), status: try json.required(status, "status"),
            reason: reason, message: message, lastTransitionTime: lastTransitionTime)
        self.lastProbeTime = lastProbeTime
    }
}

/// `core/v1 ContainerStatus`.
public struct ContainerStatus: Codable, Sendable, Hashable, JSONReadable {
    public var name: String
    public var ready: Bool?
    public var restartCount: Int?
    public var image: String?
    public var imageID: String?
    public var containerID: String?
    public var started: Bool?
    public var state: ContainerState?
    public var lastState: ContainerState?
    public var unknownFields: [String: JSONValue] = [:]

    public init(name: String, ready: Bool? = nil, state: ContainerState? = nil) {
        self.name = name
        self.ready = ready
        self.state = state
    }

    enum CodingKeys: String, CodingKey {
        case name, ready, restartCount, image, imageID, containerID, started, state, lastState
    }

    public init(json: inout JSONReader) throws {
        self.init(name: "")
        try json.readObject { key, value in
            switch key {
            case "name": name = try value.read(String?.self) ?? ""
            case "ready": ready = try value.read()
            case "restartCount": restartCount = try value.read()
            case "image": image = try value.read()
            case "imageID": imageID = try value.read()
            case "containerID": containerID = try value.read()
            case "started": started = try value.read()
            case "state": state = try value.read()
            case "lastState": lastState = try value.read()
            default: try value.keepUnknown(key, in: &unknownFields)
            }
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encodeIfPresent(ready, forKey: .ready)
        try c.encodeIfPresent(restartCount, forKey: .restartCount)
        try c.encodeIfPresent(image, forKey: .image)
        try c.encodeIfPresent(imageID, forKey: .imageID)
        try c.encodeIfPresent(containerID, forKey: .containerID)
        try c.encodeIfPresent(started, forKey: .started)
        try c.encodeIfPresent(state, forKey: .state)
        try c.encodeIfPresent(lastState, forKey: .lastState)
        try encoder.encodeUnknownFields(unknownFields)
    }
}

/// `core/v1 ContainerState`: at most one of the three is set.
public struct ContainerState: Codable, Sendable, Hashable, JSONReadable {
    public var waiting: Waiting?
    public var running: Running?
    public var terminated: Terminated?

    public init(waiting: Waiting? = nil, running: Running? = nil, terminated: Terminated? = nil) {
        self.waiting = waiting
        self.running = running
        self.terminated = terminated
    }

    public init(json: inout JSONReader) throws {
        self.init()
        try json.readObject { key, value in
            switch key {
            case "waiting": waiting = try value.read()
            case "running": running = try value.read()
            case "terminated": terminated = try value.read()
            default: break
            }
        }
    }

    public struct Waiting: Codable, Sendable, Hashable, JSONReadable {
        public var reason: String?
        public var message: String?
        public init(reason: String? = nil, message: String? = nil) {
            self.reason = reason
            self.message = message
        }

        public init(json: inout JSONReader) throws {
            self.init()
            try json.readObject { key, value in
                switch key {
                case "reason": reason = try value.read()
                case "message": message = try value.read()
                default: break
                }
            }
        }
    }

    public struct Running: Codable, Sendable, Hashable, JSONReadable {
        public var startedAt: String?
        public init(startedAt: String? = nil) { self.startedAt = startedAt }

        public init(json: inout JSONReader) throws {
            self.init()
            try json.readObject { key, value in
                if key == "startedAt" { startedAt = try value.read() }
            }
        }
    }

    public struct Terminated: Codable, Sendable, Hashable, JSONReadable {
        public var exitCode: Int32
        public var signal: Int32?
        public var reason: String?
        public var message: String?
        public var startedAt: String?
        public var finishedAt: String?
        public var containerID: String?
        public init(exitCode: Int32, signal: Int32? = nil, reason: String? = nil, message: String? = nil, startedAt: String? = nil, finishedAt: String? = nil) {
            self.exitCode = exitCode
            self.signal = signal
            self.reason = reason
            self.message = message
            self.startedAt = startedAt
            self.finishedAt = finishedAt
        }

        public init(json: inout JSONReader) throws {
            var exitCode: Int32?, signal: Int32?, reason: String?, message: String?
            var startedAt: String?, finishedAt: String?, containerID: String?
            try json.readObject { key, value in
                switch key {
                case "exitCode": exitCode = try value.read()
                case "signal": signal = try value.read()
                case "reason": reason = try value.read()
                case "message": message = try value.read()
                case "startedAt": startedAt = try value.read()
                case "finishedAt": finishedAt = try value.read()
                case "containerID": containerID = try value.read()
                default: break
                }
            }
            self.init(
                exitCode: try json.required(exitCode, "exitCode"), signal: signal, reason: reason, message: message,
                startedAt: startedAt, finishedAt: finishedAt)
            self.containerID = containerID
        }
    }
}

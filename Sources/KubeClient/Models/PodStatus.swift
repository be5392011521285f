/// `core/v1 PodStatus`.
public struct PodStatus: Codable, Sendable, Hashable {
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

    enum CodingKeys: String, CodingKey, CaseIterable {
        case phase, reason, message, startTime, conditions, containerStatuses, initContainerStatuses, hostIP, podIP
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        phase = try c.decodeIfPresent(String.self, forKey: .phase)
        reason = try c.decodeIfPresent(String.self, forKey: .reason)
        message = try c.decodeIfPresent(String.self, forKey: .message)
        startTime = try c.decodeIfPresent(String.self, forKey: .startTime)
        conditions = try c.decodeIfPresent([PodCondition].self, forKey: .conditions)
        containerStatuses = try c.decodeIfPresent([ContainerStatus].self, forKey: .containerStatuses)
        initContainerStatuses = try c.decodeIfPresent([ContainerStatus].self, forKey: .initContainerStatuses)
        hostIP = try c.decodeIfPresent(String.self, forKey: .hostIP)
        podIP = try c.decodeIfPresent(String.self, forKey: .podIP)
        unknownFields = try decoder.unknownFields(besides: CodingKeys.self)
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
public struct PodCondition: Codable, Sendable, Hashable {
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
}

/// `core/v1 ContainerStatus`.
public struct ContainerStatus: Codable, Sendable, Hashable {
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

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, ready, restartCount, image, imageID, containerID, started, state, lastState
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name) ?? ""
        ready = try c.decodeIfPresent(Bool.self, forKey: .ready)
        restartCount = try c.decodeIfPresent(Int.self, forKey: .restartCount)
        image = try c.decodeIfPresent(String.self, forKey: .image)
        imageID = try c.decodeIfPresent(String.self, forKey: .imageID)
        containerID = try c.decodeIfPresent(String.self, forKey: .containerID)
        started = try c.decodeIfPresent(Bool.self, forKey: .started)
        state = try c.decodeIfPresent(ContainerState.self, forKey: .state)
        lastState = try c.decodeIfPresent(ContainerState.self, forKey: .lastState)
        unknownFields = try decoder.unknownFields(besides: CodingKeys.self)
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
public struct ContainerState: Codable, Sendable, Hashable {
    public var waiting: Waiting?
    public var running: Running?
    public var terminated: Terminated?

    public init(waiting: Waiting? = nil, running: Running? = nil, terminated: Terminated? = nil) {
        self.waiting = waiting
        self.running = running
        self.terminated = terminated
    }

    public struct Waiting: Codable, Sendable, Hashable {
        public var reason: String?
        public var message: String?
        public init(reason: String? = nil, message: String? = nil) {
            self.reason = reason
            self.message = message
        }
    }

    public struct Running: Codable, Sendable, Hashable {
        public var startedAt: String?
        public init(startedAt: String? = nil) { self.startedAt = startedAt }
    }

    public struct Terminated: Codable, Sendable, Hashable {
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
    }
}

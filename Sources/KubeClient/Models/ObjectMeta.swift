import Foundation

/// Standard object metadata (`metav1.ObjectMeta`).
public struct ObjectMeta: Codable, Sendable, Hashable, JSONReadable {
    public var name: String?
    public var generateName: String? { get { rare[\.generateName] } set { rare[\.generateName] = newValue } }
    public var namespace: String?
    public var uid: String?
    public var resourceVersion: String?
    public var generation: Int64?
    public var creationTimestamp: String?
    public var deletionTimestamp: String? { get { rare[\.deletionTimestamp] } set { rare[\.deletionTimestamp] = newValue } }
    public var deletionGracePeriodSeconds: Int64? { get { rare[\.deletionGracePeriodSeconds] } set { rare[\.deletionGracePeriodSeconds] = newValue } }
    public var labels: [String: String]?
    public var annotations: [String: String]?
    public var ownerReferences: [OwnerReference]?
    public var finalizers: [String]?
    public var managedFields: [ManagedFieldsEntry]? { get { rare[\.managedFields] } set { rare[\.managedFields] = newValue } }
    /// Members this model does not declare, kept for round trips.
    public var unknownFields: [String: JSONValue] { get { rare[\.unknownFields] } set { rare[\.unknownFields] = newValue } }

    /// The members a cached object seldom has, out of line: 64 of this struct's 192 bytes
    /// inline, and every cached object holds one. Caches drop managed fields and unknown
    /// members; a name is generated and a deletion marked once in an object's life.
    private var rare = OutOfLine<Rare>()

    private struct Rare: OutOfLineMembers {
        var generateName: String?
        var deletionTimestamp: String?
        var deletionGracePeriodSeconds: Int64?
        var managedFields: [ManagedFieldsEntry]?
        var unknownFields: [String: JSONValue] = [:]
    }

    public init(
        name: String? = nil, namespace: String? = nil, labels: [String: String]? = nil,
        annotations: [String: String]? = nil, ownerReferences: [OwnerReference]? = nil, finalizers: [String]? = nil
    ) {
        self.name = name
        self.namespace = namespace
        self.labels = labels
        self.annotations = annotations
        self.ownerReferences = ownerReferences
        self.finalizers = finalizers
    }

    enum CodingKeys: String, CodingKey {
        case name, generateName, namespace, uid, resourceVersion, generation, creationTimestamp
        case deletionTimestamp, deletionGracePeriodSeconds, labels, annotations, ownerReferences, finalizers
        case managedFields
    }

    public init(json: inout JSONReader) throws {
        self.init()
        // The rare members are gathered first and boxed once.
        var rare = Rare()
        try json.readObject { key, value in
            switch key {
            case "name": name = try value.read()
            case "generateName": rare.generateName = try value.read()
            case "namespace": namespace = try value.read()
            case "uid": uid = try value.read()
            case "resourceVersion": resourceVersion = try value.read()
            case "generation": generation = try value.read()
            case "creationTimestamp": creationTimestamp = try value.read()
            case "deletionTimestamp": rare.deletionTimestamp = try value.read()
            case "deletionGracePeriodSeconds": rare.deletionGracePeriodSeconds = try value.read()
            case "labels": labels = try value.read()
            case "annotations": annotations = try value.read()
            case "ownerReferences": ownerReferences = try value.read()
            case "finalizers": finalizers = try value.read()
            case "managedFields":
                if value.discardManagedFields { try value.skipValue() } else { rare.managedFields = try value.read() }
            default: try value.keepUnknown(key, in: &rare.unknownFields)
            }
        }
        self.rare = OutOfLine(rare)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(name, forKey: .name)
        try c.encodeIfPresent(generateName, forKey: .generateName)
        try c.encodeIfPresent(namespace, forKey: .namespace)
        try c.encodeIfPresent(uid, forKey: .uid)
        try c.encodeIfPresent(resourceVersion, forKey: .resourceVersion)
        try c.encodeIfPresent(generation, forKey: .generation)
        try c.encodeIfPresent(creationTimestamp, forKey: .creationTimestamp)
        try c.encodeIfPresent(deletionTimestamp, forKey: .deletionTimestamp)
        try c.encodeIfPresent(deletionGracePeriodSeconds, forKey: .deletionGracePeriodSeconds)
        try c.encodeIfPresent(labels, forKey: .labels)
        try c.encodeIfPresent(annotations, forKey: .annotations)
        try c.encodeIfPresent(ownerReferences, forKey: .ownerReferences)
        try c.encodeIfPresent(finalizers, forKey: .finalizers)
        try c.encodeIfPresent(managedFields, forKey: .managedFields)
        try encoder.encodeUnknownFields(unknownFields)
    }

    /// The controller owner reference (`controller: true`), if any.
    public var controllerReference: OwnerReference? {
        ownerReferences?.first { $0.controller == true }
    }

    /// `namespace/name`, or `name` for cluster-scoped objects: the key informers and queues use.
    public var key: String {
        if let namespace, !namespace.isEmpty { return "\(namespace)/\(name ?? "")" }
        return name ?? ""
    }
}

/// A reference from a dependent to its owner (`metav1.OwnerReference`).
public struct OwnerReference: Codable, Sendable, Hashable, JSONReadable {
    public var apiVersion: String
    public var kind: String
    public var name: String
    public var uid: String
    public var controller: Bool?
    public var blockOwnerDeletion: Bool?

    public init(apiVersion: String, kind: String, name: String, uid: String, controller: Bool? = nil, blockOwnerDeletion: Bool? = nil) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
        self.uid = uid
        self.controller = controller
        self.blockOwnerDeletion = blockOwnerDeletion
    }

    public init(json: inout JSONReader) throws {
        var apiVersion: String?, kind: String?, name: String?, uid: String?, controller: Bool?, blockOwnerDeletion: Bool?
        try json.readObject { key, value in
            switch key {
            case "apiVersion": apiVersion = try value.read()
            case "kind": kind = try value.read()
            case "name": name = try value.read()
            case "uid": uid = try value.read()
            case "controller": controller = try value.read()
            case "blockOwnerDeletion": blockOwnerDeletion = try value.read()
            default: break
            }
        }
        self.init(
            apiVersion: try json.required(apiVersion, "apiVersion"), kind: try json.required(kind, "kind"),
            name: try json.required(name, "name"), uid: try json.required(uid, "uid"),
            controller: controller, blockOwnerDeletion: blockOwnerDeletion)
    }
}

/// One field manager's record of the fields it owns (`metav1.ManagedFieldsEntry`).
public struct ManagedFieldsEntry: Codable, Sendable, Hashable, JSONReadable {
    public var manager: String?
    public var operation: String?
    public var apiVersion: String?
    public var time: String?
    public var fieldsType: String?
    public var fieldsV1: JSONValue?
    public var subresource: String?

    public init() {}

    public init(json: inout JSONReader) throws {
        try json.readObject { key, value in
            switch key {
            case "manager": manager = try value.read()
            case "operation": operation = try value.read()
            case "apiVersion": apiVersion = try value.read()
            case "time": time = try value.read()
            case "fieldsType": fieldsType = try value.read()
            case "fieldsV1": fieldsV1 = try value.read()
            case "subresource": subresource = try value.read()
            default: break
            }
        }
    }
}

/// List metadata (`metav1.ListMeta`).
public struct ListMeta: Codable, Sendable, Hashable {
    public var resourceVersion: String?
    public var `continue`: String?
    public var remainingItemCount: Int64?
    public init(resourceVersion: String? = nil, continue: String? = nil, remainingItemCount: Int64? = nil) {
        self.resourceVersion = resourceVersion
        self.continue = `continue`
        self.remainingItemCount = remainingItemCount
    }
}

/// A page of a list call.
public struct ObjectList<Item: Codable & Sendable>: Codable, Sendable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ListMeta
    public var items: [Item]

    public init(metadata: ListMeta, items: [Item]) {
        self.metadata = metadata
        self.items = items
    }

    enum CodingKeys: String, CodingKey { case apiVersion, kind, metadata, items }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        apiVersion = try c.decodeIfPresent(String.self, forKey: .apiVersion)
        kind = try c.decodeIfPresent(String.self, forKey: .kind)
        metadata = try c.decodeIfPresent(ListMeta.self, forKey: .metadata) ?? ListMeta()
        items = try c.decodeIfPresent([Item].self, forKey: .items) ?? []  // the server sends null for none
    }
}

extension ObjectList: JSONReadable where Item: JSONReadable {
    public init(json: inout JSONReader) throws {
        self.init(metadata: ListMeta(), items: [])
        try json.readObject { key, value in
            switch key {
            case "apiVersion": apiVersion = try value.read()
            case "kind": kind = try value.read()
            case "metadata": metadata = try value.decode(ListMeta?.self) ?? ListMeta()
            case "items":
                // Each item is a whole object, from whose root pruned fields apply.
                var read: [Item] = []
                if try !value.readNull() {
                    try value.readArray { item in read.append(try item.readRootObject(Item.self)) }
                }
                items = read  // the server sends null for none
            default: break
            }
        }
    }
}

/// Durations as kubectl and the API server's tables print ages (`duration.HumanDuration`):
/// `90s`, `5m30s`, `25m`, `3h12m`, `30h`, `2d4h`, `400d`, `1y30d`.
public enum HumanDuration {
    public static func format(seconds: Int) -> String {
        if seconds < -1 { return "<invalid>" }
        if seconds < 0 { return "0s" }
        if seconds < 120 { return "\(seconds)s" }
        let minutes = seconds / 60
        if minutes < 10 { return seconds % 60 == 0 ? "\(minutes)m" : "\(minutes)m\(seconds % 60)s" }
        if minutes < 180 { return "\(minutes)m" }
        let hours = seconds / 3600
        if hours < 8 { return minutes % 60 == 0 ? "\(hours)h" : "\(hours)h\(minutes % 60)m" }
        if hours < 48 { return "\(hours)h" }
        if hours < 24 * 8 { return hours % 24 == 0 ? "\(hours / 24)d" : "\(hours / 24)d\(hours % 24)h" }
        if hours < 24 * 365 * 2 { return "\(hours / 24)d" }
        if hours < 24 * 365 * 8 { return (hours / 24) % 365 == 0 ? "\(hours / 24 / 365)y" : "\(hours / 24 / 365)y\((hours / 24) % 365)d" }
        return "\(hours / 24 / 365)y"
    }

    /// `interval` rounded down, a negative one as `0s`.
    public static func format(_ interval: Double) -> String {
        format(seconds: Int(max(0, interval).rounded(.down)))
    }
}

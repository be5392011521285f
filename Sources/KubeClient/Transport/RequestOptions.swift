/// Options of a list call.
public struct ListOptions: Sendable, Equatable {
    public var labelSelector: String?
    public var fieldSelector: String?
    /// Page size; the server returns a `continue` token when more remain.
    public var limit: Int?
    public var `continue`: String?
    /// `nil` or "" reads the latest from storage; "0" allows the server's cache.
    public var resourceVersion: String?
    public var resourceVersionMatch: ResourceVersionMatch?
    public var timeoutSeconds: Int?

    public enum ResourceVersionMatch: String, Sendable { case notOlderThan = "NotOlderThan", exact = "Exact" }

    public init(labelSelector: String? = nil, fieldSelector: String? = nil, limit: Int? = nil, continue: String? = nil, resourceVersion: String? = nil, resourceVersionMatch: ResourceVersionMatch? = nil) {
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.limit = limit
        self.continue = `continue`
        self.resourceVersion = resourceVersion
        self.resourceVersionMatch = resourceVersionMatch
    }

    var query: [(String, String)] {
        var q: [(String, String)] = []
        if let labelSelector, !labelSelector.isEmpty { q.append(("labelSelector", labelSelector)) }
        if let fieldSelector, !fieldSelector.isEmpty { q.append(("fieldSelector", fieldSelector)) }
        if let limit { q.append(("limit", String(limit))) }
        if let c = `continue`, !c.isEmpty { q.append(("continue", c)) }
        if let resourceVersion { q.append(("resourceVersion", resourceVersion)) }
        if let resourceVersionMatch { q.append(("resourceVersionMatch", resourceVersionMatch.rawValue)) }
        if let timeoutSeconds { q.append(("timeoutSeconds", String(timeoutSeconds))) }
        return q
    }
}

/// Options of a watch call.
public struct WatchOptions: Sendable, Equatable {
    public var labelSelector: String?
    public var fieldSelector: String?
    /// Start after this version; `nil` starts with synthetic ADDED events for every existing object.
    public var resourceVersion: String?
    /// Ask for BOOKMARK events so a resumed watch starts from a recent version. Defaults to true.
    public var allowWatchBookmarks: Bool = true
    /// Server-side duration of the watch.
    public var timeoutSeconds: Int?
    /// Who ends the watch when its connection falls silent. Not sent to the server.
    public var silence: WatchSilence = .transport

    public init(labelSelector: String? = nil, fieldSelector: String? = nil, resourceVersion: String? = nil, allowWatchBookmarks: Bool = true, timeoutSeconds: Int? = nil, silence: WatchSilence = .transport) {
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.resourceVersion = resourceVersion
        self.allowWatchBookmarks = allowWatchBookmarks
        self.timeoutSeconds = timeoutSeconds
        self.silence = silence
    }

    var query: [(String, String)] {
        var q: [(String, String)] = [("watch", "true")]
        if let labelSelector, !labelSelector.isEmpty { q.append(("labelSelector", labelSelector)) }
        if let fieldSelector, !fieldSelector.isEmpty { q.append(("fieldSelector", fieldSelector)) }
        if let resourceVersion { q.append(("resourceVersion", resourceVersion)) }
        if allowWatchBookmarks { q.append(("allowWatchBookmarks", "true")) }
        if let timeoutSeconds { q.append(("timeoutSeconds", String(timeoutSeconds))) }
        return q
    }
}

/// Who ends a watch whose connection falls silent: a peer that died without closing it (a
/// node lost, a NAT entry dropped) sends nothing, and the stream would wait for ever.
public enum WatchSilence: Sendable, Equatable {
    /// The transport: no byte for ``ClientConfiguration/readIdleTimeout`` fails the stream with
    /// a transport error. It re-arms a timer on every read.
    case transport
    /// The caller, which runs a watchdog of its own and cancels the task consuming the stream
    /// (``Informer`` does, at the watch's `timeoutSeconds` plus a grace). The connection has no
    /// read timer, so a busy watch costs no timer per read, and a quiet watch asked to last
    /// longer than `readIdleTimeout` is not cut short.
    case caller
}

/// Options of create, update and patch calls.
public struct WriteOptions: Sendable, Equatable {
    /// Recorded in managedFields; required for server-side apply.
    public var fieldManager: String?
    public var dryRun: Bool = false
    /// `Strict`, `Warn` or `Ignore` handling of unknown and duplicate fields.
    public var fieldValidation: String?

    public init(fieldManager: String? = nil, dryRun: Bool = false, fieldValidation: String? = nil) {
        self.fieldManager = fieldManager
        self.dryRun = dryRun
        self.fieldValidation = fieldValidation
    }

    var query: [(String, String)] {
        var q: [(String, String)] = []
        if let fieldManager { q.append(("fieldManager", fieldManager)) }
        if dryRun { q.append(("dryRun", "All")) }
        if let fieldValidation { q.append(("fieldValidation", fieldValidation)) }
        return q
    }
}

/// Options of a delete call.
public struct DeleteOptions: Sendable, Equatable {
    public enum Propagation: String, Sendable { case foreground = "Foreground", background = "Background", orphan = "Orphan" }

    public var propagationPolicy: Propagation?
    public var gracePeriodSeconds: Int64?
    /// Delete only if the object still has this uid.
    public var preconditionUID: String?
    /// Delete only if the object is still at this version.
    public var preconditionResourceVersion: String?
    public var dryRun: Bool = false

    public init(propagationPolicy: Propagation? = nil, gracePeriodSeconds: Int64? = nil, preconditionUID: String? = nil, preconditionResourceVersion: String? = nil, dryRun: Bool = false) {
        self.propagationPolicy = propagationPolicy
        self.gracePeriodSeconds = gracePeriodSeconds
        self.preconditionUID = preconditionUID
        self.preconditionResourceVersion = preconditionResourceVersion
        self.dryRun = dryRun
    }

    var body: JSONValue {
        var body: JSONValue = ["kind": "DeleteOptions", "apiVersion": "v1"]
        if let propagationPolicy { body["propagationPolicy"] = .string(propagationPolicy.rawValue) }
        if let gracePeriodSeconds { body["gracePeriodSeconds"] = .int(gracePeriodSeconds) }
        if preconditionUID != nil || preconditionResourceVersion != nil {
            var pre: JSONValue = [:]
            if let preconditionUID { pre["uid"] = .string(preconditionUID) }
            if let preconditionResourceVersion { pre["resourceVersion"] = .string(preconditionResourceVersion) }
            body["preconditions"] = pre
        }
        if dryRun { body["dryRun"] = ["All"] }
        return body
    }
}

/// A patch body and its content type.
public enum Patch: Sendable {
    /// RFC 7386 JSON merge patch: objects merge, `null` deletes, arrays are replaced.
    case merge(JSONValue)
    /// A JSON merge patch already serialized; ``merge(encoding:)`` makes one from a model
    /// without building a tree.
    case encodedMerge([UInt8])
    /// RFC 6902 JSON patch; a `test` operation makes it conditional.
    case json([JSONPatchOperation])
    /// Strategic merge patch, built-in kinds only.
    case strategicMerge(JSONValue)
    /// Server-side apply of a partial object owned by `fieldManager`.
    case apply(JSONValue, fieldManager: String, force: Bool = false)

    public var contentType: String {
        switch self {
        case .merge, .encodedMerge: return "application/merge-patch+json"
        case .json: return "application/json-patch+json"
        case .strategicMerge: return "application/strategic-merge-patch+json"
        case .apply: return "application/apply-patch+yaml"
        }
    }

    /// A JSON merge patch of `value` as its encoding writes it: `nil` members it writes as
    /// `null` delete, members it leaves out stay.
    public static func merge(encoding value: some Encodable) throws -> Patch {
        .encodedMerge(try JSONBytesEncoder().encode(value))
    }

    /// The body as bytes; for an `apply` patch its object with `apiVersion` and `kind` filled in.
    func serialized(_ resource: ResourceType) -> [UInt8] {
        switch self {
        case .encodedMerge(let bytes): return bytes
        case .merge(let v), .strategicMerge(let v): return v.serialized()
        case .apply(let v, _, _): return KubernetesClient.stamped(v, resource).serialized()
        case .json(let ops): return JSONValue.array(ops.map(\.json)).serialized()
        }
    }
}

/// One operation of an RFC 6902 JSON patch.
public struct JSONPatchOperation: Sendable, Equatable {
    public enum Op: String, Sendable { case add, remove, replace, move, copy, test }
    public var op: Op
    /// A JSON pointer such as `/metadata/finalizers/0`.
    public var path: String
    public var value: JSONValue?
    public var from: String?

    public init(op: Op, path: String, value: JSONValue? = nil, from: String? = nil) {
        self.op = op
        self.path = path
        self.value = value
        self.from = from
    }

    public static func add(_ path: String, _ value: JSONValue) -> Self { .init(op: .add, path: path, value: value) }
    public static func remove(_ path: String) -> Self { .init(op: .remove, path: path) }
    public static func replace(_ path: String, _ value: JSONValue) -> Self { .init(op: .replace, path: path, value: value) }
    public static func test(_ path: String, _ value: JSONValue) -> Self { .init(op: .test, path: path, value: value) }

    public var json: JSONValue {
        var o: JSONValue = ["op": .string(op.rawValue), "path": .string(path)]
        if let value { o["value"] = value }
        if let from { o["from"] = .string(from) }
        return o
    }

    /// Escapes one JSON pointer segment (`~` and `/`).
    public static func escape(_ segment: String) -> String {
        segment.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }
}

import Foundation

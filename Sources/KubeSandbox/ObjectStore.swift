import Foundation
import KubeClient

/// One change of the store, kept in the bounded history that serves watches and consistent
/// paging. `previous` is the object before the change (none for ADDED).
struct ObjectLocation: Hashable, Sendable {
    var storageKey: String
    var key: String
}

/// The result of a write and the warnings to send with it.
struct Written: Sendable {
    var object: JSONValue
    var warnings: [String] = []
}

struct StoredEvent: Sendable {
    var resourceVersion: Int64
    var storageKey: String
    var type: WatchEventType
    var object: JSONValue
    var previous: JSONValue?
}

/// The sandbox's etcd and registry in one actor: objects of every resource, one global
/// increasing resourceVersion, the change history, and the open watches.
///
/// Every write runs to completion inside the actor, so optimistic concurrency, finalizers,
/// garbage collection and watch delivery are atomic with respect to each other.
actor ObjectStore {
    /// Objects by storage key (`plural.group`), then by `namespace/name`.
    var objects: [String: [String: JSONValue]] = [:]
    var resourceVersion: Int64 = 1
    var history: [StoredEvent] = []
    var historyStart = 0
    let historyCapacity: Int
    var watchCache: WatchCache
    /// Definitions by `group/version/plural`.
    var definitions: [String: ResourceDefinition] = [:]
    var watchers: [Int: WatchSubscription] = [:]
    var nextWatcherID = 0
    var garbageCollectionEnabled: Bool
    /// Where each object lives, by uid: (storage key, object key).
    var uidIndex: [String: ObjectLocation] = [:]
    /// Dependents of each owner uid.
    var ownerIndex: [String: Set<ObjectLocation>] = [:]
    /// Objects per namespace, to finish terminating namespaces without scanning.
    var namespaceCounts: [String: Int] = [:]
    /// How many times each object was created, by storage key then `namespace/name`, ever:
    /// a drill's audit finds duplicate children by it.
    var createCounts: [String: [String: Int]] = [:]
    let clock: @Sendable () -> Date

    init(historyCapacity: Int, watchCache: WatchCache.Settings = WatchCache.Settings(), garbageCollection: Bool, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.historyCapacity = max(historyCapacity, 16)
        self.watchCache = WatchCache(watchCache)
        self.garbageCollectionEnabled = garbageCollection
        self.clock = clock
        for def in ResourceDefinition.builtins {
            definitions[def.registryKey] = def
            objects[def.storageKey] = [:]
        }
    }

    /// Creates the namespaces every cluster has.
    func bootstrap() {
        for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            _ = try? create(Self.namespaceDefinition, namespace: nil, body: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(ns)]])
        }
        // The node the simulated kubelet binds Pods to, Ready, so `kubectl get nodes` and
        // `-o wide` show where Pods run.
        if let nodes = definitions[ResourceDefinition.registryKey(group: "", version: "v1", plural: "nodes")] {
            let now = JSONValue.string(KubeTime.format(clock()))
            _ = try? create(nodes, namespace: nil, body: [
                "apiVersion": "v1", "kind": "Node",
                "metadata": ["name": .string(SimulatedKubelet.nodeName), "labels": ["kubernetes.io/hostname": .string(SimulatedKubelet.nodeName), "kubernetes.io/os": "linux"]],
                "status": [
                    "conditions": [["type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status", "lastHeartbeatTime": now, "lastTransitionTime": now]],
                    "nodeInfo": ["kubeletVersion": .string(Discovery.kubernetesVersion.git), "operatingSystem": "linux", "architecture": "amd64"],
                    "addresses": [["type": "InternalIP", "address": "10.0.0.1"], ["type": "Hostname", "address": .string(SimulatedKubelet.nodeName)]],
                ],
            ])
        }
    }

    static let namespaceDefinition = ResourceDefinition.namespaces

    // MARK: Registry

    func register(_ def: ResourceDefinition) {
        definitions[def.registryKey] = def
        if objects[def.storageKey] == nil { objects[def.storageKey] = [:] }
    }

    func definition(group: String, version: String, plural: String) -> ResourceDefinition? {
        definitions[ResourceDefinition.registryKey(group: group, version: version, plural: plural)]
    }

    func allDefinitions() -> [ResourceDefinition] { Array(definitions.values) }

    func setGarbageCollection(_ enabled: Bool) { garbageCollectionEnabled = enabled }

    // MARK: Reads

    func createCounts(of type: ResourceType) -> [String: Int] {
        guard let def = definition(group: type.group, version: type.version, plural: type.plural) else { return [:] }
        return createCounts[def.storageKey] ?? [:]
    }

    static func key(_ namespace: String?, _ name: String) -> String {
        if let namespace, !namespace.isEmpty { return "\(namespace)/\(name)" }
        return name
    }

    func get(_ def: ResourceDefinition, namespace: String?, name: String) throws(APIError) -> JSONValue {
        guard let object = objects[def.storageKey]?[Self.key(def.type.namespaced ? namespace : nil, name)] else {
            throw .notFound(def, name)
        }
        return object
    }

    func currentResourceVersion() -> Int64 { resourceVersion }

    // MARK: Writes

    /// Applies a CRD's defaults and prunes unknown fields; `Strict` refuses unknown fields,
    /// `Warn` (the server default) and `Ignore` drop them, `Warn` with a warning each.
    func normalize(_ def: ResourceDefinition, _ object: JSONValue, fieldValidation: String?, warnings: inout [String]) throws(APIError) -> JSONValue {
        guard let schema = def.schema else { return object }
        let (pruned, unknown) = SchemaValidator.pruneAndDefault(object, schema: schema)
        if !unknown.isEmpty {
            let list = unknown.map { "unknown field \"\($0)\"" }
            if fieldValidation == "Strict" {
                throw .badRequest("\(def.type.kind) in version \"\(def.type.version)\" cannot be handled as a \(def.type.kind): strict decoding error: \(list.joined(separator: ", "))")
            }
            if fieldValidation != "Ignore" { warnings += list }
        }
        return pruned
    }

    /// Creates an object after admission; `namespace` comes from the URL.
    /// - Parameter manager: the field manager of a client's write, recorded in
    ///   `metadata.managedFields` as an `Update` entry; nil for the server's own writes and
    ///   for apply, which records its own.
    func create(_ def: ResourceDefinition, namespace: String?, body: JSONValue, dryRun: Bool = false, fieldValidation: String? = nil, manager: String? = nil) throws(APIError) -> Written {
        var warnings: [String] = []
        var object = EventStorage.toStorage(try Admission.checkIdentity(def, body: body, urlNamespace: namespace, urlName: nil), from: def)
        if let crd = def.crdName, isTerminating(crd: crd) {
            throw APIError(code: 405, reason: "MethodNotAllowed", message: "create not allowed while custom resource definition is terminating",
                           details: StatusDetails(group: def.type.group, kind: def.type.plural))
        }
        var meta = object["metadata"] ?? [:]
        if let version = meta["resourceVersion"]?.stringValue, !version.isEmpty {
            throw APIError(code: 500, reason: "InternalError", message: "Internal error occurred: resourceVersion should not be set on objects to be created")
        }
        if def.type.namespaced {
            let ns = namespace ?? meta["namespace"]?.stringValue ?? ""
            guard !ns.isEmpty else { throw .badRequest("the server could not find the requested resource: a namespace is required") }
            guard let nsObject = objects[Self.namespaceDefinition.storageKey]?[ns] else {
                throw APIError(code: 404, reason: "NotFound", message: "namespaces \"\(ns)\" not found", details: StatusDetails(name: ns, kind: "namespaces"))
            }
            if nsObject.value(atPath: "metadata.deletionTimestamp") != nil {
                throw APIError(code: 403, reason: "Forbidden", message: "\(def.type.plural) \"\(meta["name"]?.stringValue ?? "")\" is forbidden: unable to create new content in namespace \(ns) because it is being terminated")
            }
            meta["namespace"] = .string(ns)
        } else {
            meta["namespace"] = nil
        }
        if meta["name"]?.stringValue?.isEmpty ?? true, let prefix = meta["generateName"]?.stringValue, !prefix.isEmpty {
            var name: String
            repeat { name = prefix + Self.randomSuffix() } while objects[def.storageKey]?[Self.key(meta["namespace"]?.stringValue, name)] != nil
            meta["name"] = .string(name)
        }
        guard let name = meta["name"]?.stringValue, !name.isEmpty else {
            throw .invalid(def, "", [FieldError(field: "metadata.name", reason: "FieldValueRequired", detail: "Required value: name or generateName is required")])
        }
        let key = Self.key(meta["namespace"]?.stringValue, name)
        if let existing = objects[def.storageKey]?[key] {
            var error = APIError.alreadyExists(def, name)
            // A Pod in its grace period still holds its name, and says why.
            if existing.value(atPath: "metadata.deletionTimestamp") != nil { error.status.message = "object is being deleted: " + (error.status.message ?? "") }
            throw error
        }
        meta["uid"] = .string(UUID().uuidString.lowercased())
        meta["creationTimestamp"] = .string(KubeTime.format(clock()))
        meta["deletionTimestamp"] = nil
        meta["deletionGracePeriodSeconds"] = nil
        meta["resourceVersion"] = nil
        meta["selfLink"] = nil
        if def.tracksGeneration { meta["generation"] = 1 } else { meta["generation"] = nil }
        object["metadata"] = meta
        if def.type.group.isEmpty && def.type.plural == "pods" { try Quantity.decodeCheck(pod: object) }
        object = try Admission.prepareForCreate(def, object, now: clock())
        object = try normalize(def, object, fieldValidation: fieldValidation, warnings: &warnings)
        try Admission.validate(def, object, name: name, creating: true)
        if def.isCRD {
            object = try CRDSupport.prepare(object, existing: definitions)
            warnings += CELRules.warnings(for: object)
        }
        if let manager {
            // The fields the request set, not those the server defaulted.
            var requested = FieldSet.leaves(of: FieldSet.withoutServerFields(body), subresource: nil)
            if def.hasStatusSubresource { requested = requested.filter { !$0.hasPrefix(".status") } }
            object["metadata"]?["managedFields"] = requested.isEmpty ? nil : .array([FieldSet.entry(manager: manager, operation: "Update", apiVersion: def.type.apiVersion, paths: requested, time: KubeTime.format(clock()), subresource: nil)])
        }
        if def.type.group.isEmpty && def.type.plural == "pods" {
            try checkServiceAccount(object, name: name)
        }
        if dryRun { return Written(object: object, warnings: warnings) }
        let stored = commit(def, key: key, type: .added, object: object, previous: nil)
        createCounts[def.storageKey, default: [:]][key, default: 0] += 1
        if def.isCRD {
            for crdDef in CRDSupport.definitions(from: stored) { register(crdDef) }
        }
        if def.type.group.isEmpty && def.type.plural == "namespaces" {
            populateNamespace(name)
        }
        collectIfOwnersAbsent(def, stored)
        return Written(object: stored, warnings: warnings)
    }

    /// Replaces an object (PUT), or only its status when `subresource` is `status`.
    /// - Parameter requireResourceVersion: refuse an update without `metadata.resourceVersion`.
    func update(_ def: ResourceDefinition, namespace: String?, name: String, body: JSONValue, subresource: String?, dryRun: Bool = false, fieldValidation: String? = nil, manager: String? = nil) throws(APIError) -> Written {
        var warnings: [String] = []
        let key = Self.key(def.type.namespaced ? namespace : nil, name)
        guard let current = objects[def.storageKey]?[key] else { throw .notFound(def, name) }
        var incoming = EventStorage.toStorage(try Admission.checkIdentity(def, body: body, urlNamespace: def.type.namespaced ? namespace : nil, urlName: name), from: def)
        if let rv = incoming.value(atPath: "metadata.resourceVersion")?.stringValue, !rv.isEmpty {
            guard Int64(rv) != nil else { throw .badRequest("invalid resource version: \"\(rv)\"") }
            if rv != current.value(atPath: "metadata.resourceVersion")?.stringValue { throw .conflict(def, name) }
        }
        if let uid = incoming.value(atPath: "metadata.uid")?.stringValue, !uid.isEmpty, uid != current.value(atPath: "metadata.uid")?.stringValue {
            throw .invalid(def, name, [.invalid("metadata.uid", .string(uid), "field is immutable")])
        }
        var next: JSONValue
        if subresource == "status" {
            next = current
            next["status"] = incoming["status"]
        } else {
            if def.hasStatusSubresource { incoming["status"] = current["status"] }
            next = incoming
            var meta = next["metadata"] ?? [:]
            let old = current["metadata"] ?? [:]
            for field in ["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation", "namespace"] {
                meta[field] = old[field]
            }
            if old["deletionTimestamp"] != nil {
                let oldFinalizers = Set(old["finalizers"]?.arrayValue?.compactMap(\.stringValue) ?? [])
                let added = (meta["finalizers"]?.arrayValue?.compactMap(\.stringValue) ?? []).filter { !oldFinalizers.contains($0) }
                if !added.isEmpty {
                    throw .invalid(def, name, [.forbidden("metadata.finalizers", "no new finalizers can be added if the object is being deleted, found new finalizers []string{\(added.map { "\"\($0)\"" }.joined(separator: ", "))}")])
                }
            }
            next["metadata"] = meta
        }
        next["metadata"]?["resourceVersion"] = current.value(atPath: "metadata.resourceVersion")
        if def.type.group.isEmpty && def.type.plural == "pods" { try Quantity.decodeCheck(pod: next) }
        next = try Admission.prepareForUpdate(def, next, old: current)
        next = try normalize(def, next, fieldValidation: fieldValidation, warnings: &warnings)
        if Self.sameContent(next, current) { return Written(object: current, warnings: warnings) }  // a no-op write changes nothing, as on etcd
        if def.tracksGeneration, Self.specChanged(def, next, current) {
            next["metadata"]?["generation"] = .int((current.value(atPath: "metadata.generation")?.intValue ?? 0) + 1)
        }
        try Admission.validate(def, next, name: name, old: current)
        if def.isCRD {
            next = try CRDSupport.prepare(next, existing: definitions)
            warnings += CELRules.warnings(for: next)
        }
        if let manager {
            let fields = FieldSet.recordUpdate(old: current, new: next, manager: manager, subresource: subresource, apiVersion: def.type.apiVersion, time: KubeTime.format(clock()))
            next["metadata"]?["managedFields"] = fields
        }
        if dryRun { return Written(object: next, warnings: warnings) }
        if next.value(atPath: "metadata.deletionTimestamp") != nil, (next.value(atPath: "metadata.finalizers")?.arrayValue ?? []).isEmpty {
            return Written(object: remove(def, key: key, last: next), warnings: warnings)
        }
        let stored = commit(def, key: key, type: .modified, object: next, previous: current)
        if def.isCRD {
            for crdDef in CRDSupport.definitions(from: stored) { register(crdDef) }
        }
        return Written(object: stored, warnings: warnings)
    }

    /// Reads the current object, lets `change` compute its replacement, and writes it, atomically.
    /// A patch without its own `metadata.resourceVersion` is therefore never a lost update.
    func patch(_ def: ResourceDefinition, namespace: String?, name: String, subresource: String?, dryRun: Bool = false, fieldValidation: String? = nil, manager: String? = nil,
               _ change: @Sendable (JSONValue) throws(APIError) -> JSONValue) throws(APIError) -> Written
    {
        let current = EventStorage.toServed(try get(def, namespace: namespace, name: name), as: def)
        var next = try change(current)
        if next.value(atPath: "metadata.resourceVersion") == nil || next.value(atPath: "metadata.resourceVersion")?.isNull == true {
            next["metadata"]?["resourceVersion"] = current.value(atPath: "metadata.resourceVersion")
        }
        return try update(def, namespace: namespace, name: name, body: next, subresource: subresource, dryRun: dryRun, fieldValidation: fieldValidation, manager: manager)
    }

    /// Deletes an object: marks it when finalizers remain, removes it otherwise.
    /// Returns the object and whether it is gone.
    func delete(_ def: ResourceDefinition, namespace: String?, name: String, options: JSONValue?, dryRun: Bool = false) throws(APIError) -> (JSONValue, removed: Bool) {
        let key = Self.key(def.type.namespaced ? namespace : nil, name)
        guard var object = objects[def.storageKey]?[key] else { throw .notFound(def, name) }
        if let pre = options?["preconditions"] {
            if let uid = pre["uid"]?.stringValue, uid != object.value(atPath: "metadata.uid")?.stringValue {
                throw .conflict(def, name, "Precondition failed: UID in precondition: \(uid), UID in object meta: \(object.value(atPath: "metadata.uid")?.stringValue ?? "")")
            }
            if let rv = pre["resourceVersion"]?.stringValue, rv != object.value(atPath: "metadata.resourceVersion")?.stringValue {
                throw .conflict(def, name, "Precondition failed: ResourceVersion in precondition: \(rv), ResourceVersion in object meta: \(object.value(atPath: "metadata.resourceVersion")?.stringValue ?? "")")
            }
        }
        if dryRun { return (object, false) }
        var policy = options?["propagationPolicy"]?.stringValue
        if policy == nil, options?["orphanDependents"]?.boolValue == true { policy = "Orphan" }
        var finalizers = object.value(atPath: "metadata.finalizers")?.arrayValue?.compactMap(\.stringValue) ?? []
        if garbageCollectionEnabled, object.value(atPath: "metadata.deletionTimestamp") == nil {
            if policy == "Foreground", !finalizers.contains("foregroundDeletion") { finalizers.append("foregroundDeletion") }
            if policy == "Orphan", !finalizers.contains("orphan") { finalizers.append("orphan") }
        }
        if def.type.plural == "namespaces" && def.type.group.isEmpty {
            if ["default", "kube-system", "kube-public"].contains(name) {
                throw APIError(code: 403, reason: "Forbidden", message: "namespaces \"\(name)\" is forbidden: this namespace may not be deleted", details: StatusDetails(name: name, kind: "namespaces"))
            }
            return (terminateNamespace(name, object), objects[def.storageKey]?[key] == nil)
        }
        if def.isCRD, object.value(atPath: "metadata.deletionTimestamp") == nil {
            let marked = beginCustomResourceCleanup(def, key: key, object: object, finalizers: finalizers)
            return (objects[def.storageKey]?[key] ?? marked, objects[def.storageKey]?[key] == nil)
        }
        if def.type.plural == "pods" && def.type.group.isEmpty, let period = Self.podGracePeriod(object, options: options), period > 0 {
            return (beginGracefulDeletion(def, key: key, object: object, finalizers: finalizers, period: period), false)
        }
        if finalizers.isEmpty {
            return (remove(def, key: key, last: object), true)
        }
        if object.value(atPath: "metadata.deletionTimestamp") != nil && finalizers == (object.value(atPath: "metadata.finalizers")?.arrayValue?.compactMap(\.stringValue) ?? []) {
            return (object, false)  // already being deleted: nothing changes
        }
        let previous = object
        if object.value(atPath: "metadata.deletionTimestamp") == nil {
            object["metadata"]?["deletionTimestamp"] = .string(KubeTime.format(clock()))
            object["metadata"]?["deletionGracePeriodSeconds"] = 0
            // kube-apiserver counts the start of a deletion as a change of the object's intent.
            if def.tracksGeneration {
                let generation = object.value(atPath: "metadata.generation")?.intValue ?? 0
                object["metadata"]?["generation"] = .int(generation + 1)
            }
        }
        object["metadata"]?["finalizers"] = .array(finalizers.map(JSONValue.string))
        let stored = commit(def, key: key, type: .modified, object: object, previous: previous)
        collectGarbage(owner: stored)
        return (objects[def.storageKey]?[key] ?? stored, objects[def.storageKey]?[key] == nil)
    }

    // MARK: What controllers add to every namespace

    /// What kube-controller-manager's service account controller puts in a new namespace: the
    /// `default` ServiceAccount, here in the same step as the namespace, so a Pod created next
    /// finds it. (Its root CA publisher's `kube-root-ca.crt` ConfigMap is left out: no
    /// container here reads it, and tests count the ConfigMaps they make.)
    func populateNamespace(_ namespace: String) {
        guard let accounts = definitions[ResourceDefinition.registryKey(group: "", version: "v1", plural: "serviceaccounts")] else { return }
        _ = try? create(accounts, namespace: namespace, body: ["apiVersion": "v1", "kind": "ServiceAccount", "metadata": ["name": "default", "namespace": .string(namespace)]])
    }

    /// The ServiceAccount admission plugin: a Pod may only name a service account that exists.
    func checkServiceAccount(_ pod: JSONValue, name: String) throws(APIError) {
        let namespace = pod.value(atPath: "metadata.namespace")?.stringValue ?? ""
        let account = pod.value(atPath: "spec.serviceAccountName")?.stringValue ?? "default"
        guard let def = definitions[ResourceDefinition.registryKey(group: "", version: "v1", plural: "serviceaccounts")],
              objects[def.storageKey]?[Self.key(namespace, account)] == nil
        else { return }
        throw APIError(code: 403, reason: "Forbidden", message: "pods \"\(name)\" is forbidden: error looking up service account \(namespace)/\(account): serviceaccount \"\(account)\" not found",
                       details: StatusDetails(name: name, kind: "pods"))
    }

    // MARK: Graceful deletion of Pods

    /// kube-apiserver's `CheckGracefulDelete` for Pods: the request's `gracePeriodSeconds`, else
    /// the Pod's `terminationGracePeriodSeconds`; 0 for a Pod no node runs (`spec.nodeName`
    /// empty) or one that has finished; 1 for a negative value.
    static func podGracePeriod(_ pod: JSONValue, options: JSONValue?) -> Int64? {
        var period = options?["gracePeriodSeconds"]?.intValue ?? pod.value(atPath: "spec.terminationGracePeriodSeconds")?.intValue ?? 0
        if (pod.value(atPath: "spec.nodeName")?.stringValue ?? "").isEmpty { period = 0 }
        if ["Succeeded", "Failed"].contains(pod.value(atPath: "status.phase")?.stringValue ?? "") { period = 0 }
        if period < 0 { period = 1 }
        return period
    }

    /// Marks a running Pod Terminating: `deletionTimestamp` `period` seconds ahead and
    /// `deletionGracePeriodSeconds`. It stays, holding its name, until its kubelet deletes it
    /// with a grace period of 0 or the period runs out. A second delete may only shorten it.
    func beginGracefulDeletion(_ def: ResourceDefinition, key: String, object: JSONValue, finalizers: [String], period: Int64) -> JSONValue {
        if let current = object.value(atPath: "metadata.deletionGracePeriodSeconds")?.intValue, object.value(atPath: "metadata.deletionTimestamp") != nil, current <= period {
            return object
        }
        var marked = object
        marked["metadata"]?["deletionTimestamp"] = .string(KubeTime.format(clock().addingTimeInterval(TimeInterval(period))))
        marked["metadata"]?["deletionGracePeriodSeconds"] = .int(period)
        marked["metadata"]?["finalizers"] = finalizers.isEmpty ? nil : .array(finalizers.map(JSONValue.string))
        let stored = commit(def, key: key, type: .modified, object: marked, previous: object)
        let uid = stored.value(atPath: "metadata.uid")?.stringValue
        Task { [weak self] in
            try? await Task.sleep(for: .seconds(period))
            await self?.gracePeriodEnded(def, key: key, uid: uid)
        }
        return stored
    }

    /// The grace period ran out with nobody confirming: the Pod goes, unless finalizers hold it.
    func gracePeriodEnded(_ def: ResourceDefinition, key: String, uid: String?) {
        guard let object = objects[def.storageKey]?[key], object.value(atPath: "metadata.uid")?.stringValue == uid,
              object.value(atPath: "metadata.deletionTimestamp") != nil,
              (object.value(atPath: "metadata.finalizers")?.arrayValue ?? []).isEmpty
        else { return }
        remove(def, key: key, last: object)
    }

    /// `pods/binding`: assigns the Pod to a node, as the scheduler does, in one write as
    /// kube-apiserver's BindingREST does: `spec.nodeName`, the binding's annotations copied onto
    /// the Pod, and the `PodScheduled` condition set True (so a watcher sees the Pod scheduled in
    /// the same event that binds it). A Pod already on a node, being deleted, or not the one
    /// the binding's `metadata.uid` names is a 409.
    func bind(_ def: ResourceDefinition, namespace: String?, name: String, binding: JSONValue) throws(APIError) {
        guard let node = binding.value(atPath: "target.name")?.stringValue, !node.isEmpty else {
            throw .invalid(def, name, [.required("target.name")])
        }
        let key = Self.key(namespace, name)
        guard let pod = objects[def.storageKey]?[key] else { throw .notFound(def, name) }
        if let assigned = pod.value(atPath: "spec.nodeName")?.stringValue, !assigned.isEmpty {
            throw APIError(code: 409, reason: "Conflict", message: "Operation cannot be fulfilled on pods/binding \"\(name)\": pod \(name) is already assigned to node \"\(assigned)\"")
        }
        if pod.value(atPath: "metadata.deletionTimestamp") != nil {
            throw APIError(code: 409, reason: "Conflict", message: "Operation cannot be fulfilled on pods/binding \"\(name)\": pod \(name) is being deleted, cannot be assigned to a host")
        }
        if let uid = binding.value(atPath: "metadata.uid")?.stringValue, !uid.isEmpty, let actual = pod.value(atPath: "metadata.uid")?.stringValue, uid != actual {
            throw APIError(code: 409, reason: "Conflict", message: "Operation cannot be fulfilled on pods/binding \"\(name)\": Precondition failed: UID in precondition: \(uid), UID in object meta: \(actual)")
        }
        var bound = pod
        bound["spec"]?["nodeName"] = .string(node)
        if case .object(let added)? = binding.value(atPath: "metadata.annotations"), !added.isEmpty {
            var annotations = pod.value(atPath: "metadata.annotations")?.objectValue ?? [:]
            for (k, v) in added { annotations[k] = v }
            bound["metadata"]?["annotations"] = .object(annotations)
        }
        // podutil.UpdatePodCondition: the transition time moves only when the status changes.
        var conditions = pod.value(atPath: "status.conditions")?.arrayValue ?? []
        let scheduled: JSONValue = ["type": "PodScheduled", "status": "True", "lastProbeTime": .null, "lastTransitionTime": .string(KubeTime.format(clock()))]
        if let i = conditions.firstIndex(where: { $0["type"]?.stringValue == "PodScheduled" }) {
            if conditions[i]["status"]?.stringValue != "True" { conditions[i] = scheduled }
        } else {
            conditions.append(scheduled)
        }
        if bound["status"] == nil { bound["status"] = .object([:]) }
        bound["status"]?["conditions"] = .array(conditions)
        commit(def, key: key, type: .modified, object: bound, previous: pod)
    }

    // MARK: Internals

    /// Stamps a new resourceVersion, stores, records history and notifies watchers.
    @discardableResult
    func commit(_ def: ResourceDefinition, key: String, type: WatchEventType, object: JSONValue, previous: JSONValue?) -> JSONValue {
        resourceVersion += 1
        var object = object
        object["metadata"]?["resourceVersion"] = .string(String(resourceVersion))
        let location = ObjectLocation(storageKey: def.storageKey, key: key)
        if let stored = objects[def.storageKey]?[key] { unindex(stored, at: location) }
        if type != .deleted { index(object, at: location) }
        if type == .deleted {
            objects[def.storageKey]?[key] = nil
        } else {
            objects[def.storageKey, default: [:]][key] = object
        }
        let event = StoredEvent(resourceVersion: resourceVersion, storageKey: def.storageKey, type: type, object: object, previous: previous)
        appendHistory(event)
        dispatch(event)
        return object
    }

    /// Removes an object for good, then lets garbage collection react.
    @discardableResult
    func remove(_ def: ResourceDefinition, key: String, last: JSONValue) -> JSONValue {
        let previous = objects[def.storageKey]?[key]
        let gone = commit(def, key: key, type: .deleted, object: last, previous: previous)
        if def.isCRD {
            dropCustomResources(crd: gone)
        }
        afterRemoval(gone)
        if let crd = def.crdName { finishCustomResourceCleanup(crd) }
        return gone
    }

    func index(_ object: JSONValue, at location: ObjectLocation) {
        if let uid = object.value(atPath: "metadata.uid")?.stringValue { uidIndex[uid] = location }
        for ref in object.value(atPath: "metadata.ownerReferences")?.arrayValue ?? [] {
            if let owner = ref["uid"]?.stringValue { ownerIndex[owner, default: []].insert(location) }
        }
        if let ns = object.value(atPath: "metadata.namespace")?.stringValue, !ns.isEmpty { namespaceCounts[ns, default: 0] += 1 }
    }

    func unindex(_ object: JSONValue, at location: ObjectLocation) {
        if let uid = object.value(atPath: "metadata.uid")?.stringValue { uidIndex[uid] = nil }
        for ref in object.value(atPath: "metadata.ownerReferences")?.arrayValue ?? [] {
            if let owner = ref["uid"]?.stringValue {
                ownerIndex[owner]?.remove(location)
                if ownerIndex[owner]?.isEmpty == true { ownerIndex[owner] = nil }
            }
        }
        if let ns = object.value(atPath: "metadata.namespace")?.stringValue, !ns.isEmpty {
            namespaceCounts[ns, default: 1] -= 1
            if namespaceCounts[ns] == 0 { namespaceCounts[ns] = nil }
        }
    }

    func appendHistory(_ event: StoredEvent) {
        if history.count - historyStart >= historyCapacity {
            historyStart += 1
            if historyStart > historyCapacity {  // compact in batches so appends stay amortized O(1)
                history.removeFirst(historyStart)
                historyStart = 0
            }
        }
        history.append(event)
        watchCache.record(event.storageKey, version: event.resourceVersion, at: clock())
    }

    /// The oldest version a watch of `storageKey` may resume from: the watch cache's window, and
    /// never older than the history.
    func oldestWatchable(_ storageKey: String) -> Int64 {
        max(oldestResumableVersion, watchCache.oldestResumable(storageKey) ?? .min)
    }

    /// The oldest resourceVersion a watch or continue token may resume from.
    var oldestResumableVersion: Int64 {
        history.count > historyStart ? history[historyStart].resourceVersion - 1 : resourceVersion
    }

    /// Forgets the history, as an etcd compaction does: older versions then answer 410 Gone.
    func compact() {
        history.removeAll()
        historyStart = 0
        watchCache.compact(through: resourceVersion)
    }

    static func randomSuffix() -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        return String((0..<5).map { _ in alphabet.randomElement() ?? "x" })
    }

    static func sameContent(_ a: JSONValue, _ b: JSONValue) -> Bool {
        var a = a, b = b
        a["metadata"]?["managedFields"] = nil
        b["metadata"]?["managedFields"] = nil
        return a == b
    }

    static func specChanged(_ def: ResourceDefinition, _ a: JSONValue, _ b: JSONValue) -> Bool {
        var a = a, b = b
        a["metadata"] = nil
        b["metadata"] = nil
        if def.hasStatusSubresource {
            a["status"] = nil
            b["status"] = nil
        }
        return a != b
    }
}

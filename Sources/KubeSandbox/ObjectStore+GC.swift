import KubeClient

/// Owner-reference garbage collection and namespace termination, done at once inside the
/// store where kube-controller-manager would do them a moment later.
extension ObjectStore {
    /// The definition serving a storage key (any version).
    func definition(storageKey: String) -> ResourceDefinition? {
        definitions.values.first { $0.storageKey == storageKey }
    }

    func lookup(_ location: ObjectLocation) -> (ResourceDefinition, String, JSONValue)? {
        guard let object = objects[location.storageKey]?[location.key], let def = definition(storageKey: location.storageKey) else { return nil }
        return (def, location.key, object)
    }

    func object(uid: String) -> (ResourceDefinition, String, JSONValue)? {
        uidIndex[uid].flatMap(lookup)
    }

    func dependents(of uid: String) -> [(ResourceDefinition, String, JSONValue)] {
        (ownerIndex[uid] ?? []).sorted { $0.key < $1.key }.compactMap(lookup)
    }

    /// The garbage collector's rule for a dependent whose owners are all absent (created after
    /// its owner was deleted, as a controller racing the deletion does): it is deleted, in the
    /// background, a moment after it was created.
    func collectIfOwnersAbsent(_ def: ResourceDefinition, _ dependent: JSONValue) {
        let owners = dependent.value(atPath: "metadata.ownerReferences")?.arrayValue ?? []
        guard garbageCollectionEnabled, !owners.isEmpty else { return }
        let live = owners.contains { ref in ref["uid"]?.stringValue.flatMap { object(uid: $0) } != nil }
        guard !live else { return }
        _ = try? delete(def, namespace: dependent.value(atPath: "metadata.namespace")?.stringValue, name: dependent.value(atPath: "metadata.name")?.stringValue ?? "", options: nil)
    }

    /// Handles an owner being deleted with the `foregroundDeletion` or `orphan` finalizer.
    func collectGarbage(owner: JSONValue) {
        guard garbageCollectionEnabled, let uid = owner.value(atPath: "metadata.uid")?.stringValue else { return }
        let finalizers = owner.value(atPath: "metadata.finalizers")?.arrayValue?.compactMap(\.stringValue) ?? []
        if finalizers.contains("orphan") {
            for (def, key, dependent) in dependents(of: uid) {
                var next = dependent
                next["metadata"]?["ownerReferences"] = .array((dependent.value(atPath: "metadata.ownerReferences")?.arrayValue ?? []).filter { $0["uid"]?.stringValue != uid })
                commit(def, key: key, type: .modified, object: next, previous: dependent)
            }
            removeFinalizer("orphan", from: owner)
        } else if finalizers.contains("foregroundDeletion") {
            for (def, _, dependent) in dependents(of: uid) {
                _ = try? delete(def, namespace: dependent.value(atPath: "metadata.namespace")?.stringValue, name: dependent.value(atPath: "metadata.name")?.stringValue ?? "", options: ["propagationPolicy": "Foreground"])
            }
            releaseForegroundOwnerIfDone(uid: uid)
        }
    }

    /// After an object is gone: delete dependents left without owners, finish foreground owners
    /// that waited for it, and finish a terminating namespace that it emptied.
    func afterRemoval(_ gone: JSONValue) {
        let namespace = gone.value(atPath: "metadata.namespace")?.stringValue
        if garbageCollectionEnabled {
            if let uid = gone.value(atPath: "metadata.uid")?.stringValue {
                for (def, _, dependent) in dependents(of: uid) {
                    let owners = dependent.value(atPath: "metadata.ownerReferences")?.arrayValue ?? []
                    let live = owners.contains { ref in
                        guard let refUID = ref["uid"]?.stringValue, refUID != uid else { return false }
                        return object(uid: refUID) != nil
                    }
                    if !live {
                        _ = try? delete(def, namespace: dependent.value(atPath: "metadata.namespace")?.stringValue, name: dependent.value(atPath: "metadata.name")?.stringValue ?? "", options: nil)
                    }
                }
            }
            for ref in gone.value(atPath: "metadata.ownerReferences")?.arrayValue ?? [] {
                if let ownerUID = ref["uid"]?.stringValue { releaseForegroundOwnerIfDone(uid: ownerUID) }
            }
        }
        if let namespace, !namespace.isEmpty { finishNamespaceIfEmpty(namespace) }
    }

    func releaseForegroundOwnerIfDone(uid: String) {
        guard let (_, _, owner) = object(uid: uid),
            owner.value(atPath: "metadata.deletionTimestamp") != nil,
            owner.value(atPath: "metadata.finalizers")?.arrayValue?.contains(.string("foregroundDeletion")) == true
        else { return }
        let blocking = dependents(of: uid).contains { _, _, d in
            d.value(atPath: "metadata.ownerReferences")?.arrayValue?.contains { $0["uid"]?.stringValue == uid && $0["blockOwnerDeletion"]?.boolValue == true } ?? false
        }
        if !blocking { removeFinalizer("foregroundDeletion", from: owner) }
    }

    func removeFinalizer(_ finalizer: String, from object: JSONValue) {
        guard let uid = object.value(atPath: "metadata.uid")?.stringValue, let (def, key, current) = self.object(uid: uid) else { return }
        var next = current
        let remaining = (current.value(atPath: "metadata.finalizers")?.arrayValue ?? []).filter { $0.stringValue != finalizer }
        next["metadata"]?["finalizers"] = remaining.isEmpty ? JSONValue?.none : .array(remaining)
        if remaining.isEmpty && current.value(atPath: "metadata.deletionTimestamp") != nil {
            remove(def, key: key, last: next)
        } else {
            commit(def, key: key, type: .modified, object: next, previous: current)
        }
    }

    /// Marks a namespace Terminating and deletes its content; it goes once empty.
    func terminateNamespace(_ name: String, _ object: JSONValue) -> JSONValue {
        var next = object
        if object.value(atPath: "metadata.deletionTimestamp") == nil {
            next["metadata"]?["deletionTimestamp"] = .string(KubeTime.format(clock()))
            next["metadata"]?["deletionGracePeriodSeconds"] = 0
            next["status"] = ["phase": "Terminating"]
            next = commit(Self.namespaceDefinition, key: name, type: .modified, object: next, previous: object)
        }
        for (storageKey, items) in objects {
            guard let def = definition(storageKey: storageKey), def.type.namespaced else { continue }
            for (key, item) in items where key.hasPrefix(name + "/") {
                _ = try? delete(def, namespace: name, name: item.value(atPath: "metadata.name")?.stringValue ?? "", options: nil)
            }
        }
        finishNamespaceIfEmpty(name)
        return objects[Self.namespaceDefinition.storageKey]?[name] ?? next
    }

    func finishNamespaceIfEmpty(_ name: String) {
        guard let ns = objects[Self.namespaceDefinition.storageKey]?[name], ns.value(atPath: "metadata.deletionTimestamp") != nil else { return }
        if namespaceCounts[name, default: 0] == 0 && (ns.value(atPath: "metadata.finalizers")?.arrayValue ?? []).isEmpty {
            remove(Self.namespaceDefinition, key: name, last: ns)
        }
    }

    static let customResourceCleanupFinalizer = "customresourcecleanup.apiextensions.k8s.io"

    /// What deleting a CRD starts, as apiextensions-apiserver does it: the CRD gets the
    /// cleanup finalizer and a `Terminating` condition, each of its objects is deleted (those
    /// with finalizers stay until their controllers let go), and only when none is left does
    /// the finalizer go and the CRD with it. Meanwhile the kind is still served, but new
    /// objects are refused.
    func beginCustomResourceCleanup(_ def: ResourceDefinition, key: String, object: JSONValue, finalizers: [String]) -> JSONValue {
        var marked = object
        let now = JSONValue.string(KubeTime.format(clock()))
        marked["metadata"]?["deletionTimestamp"] = now
        marked["metadata"]?["deletionGracePeriodSeconds"] = 0
        marked["metadata"]?["generation"] = .int((object.value(atPath: "metadata.generation")?.intValue ?? 1) + 1)
        marked["metadata"]?["finalizers"] = .array((finalizers + [Self.customResourceCleanupFinalizer]).map(JSONValue.string))
        marked["status"] = CRDSupport.terminatingStatus(object["status"] ?? [:], at: now)
        let stored = commit(def, key: key, type: .modified, object: marked, previous: object)
        for crDef in CRDSupport.definitions(from: stored).prefix(1) {
            for (_, cr) in (objects[crDef.storageKey] ?? [:]).sorted(by: { $0.key < $1.key }) {
                _ = try? delete(crDef, namespace: cr.value(atPath: "metadata.namespace")?.stringValue, name: cr.value(atPath: "metadata.name")?.stringValue ?? "", options: nil)
            }
        }
        finishCustomResourceCleanup(stored.value(atPath: "metadata.name")?.stringValue ?? "")
        return stored
    }

    /// Whether the CRD named `crd` is being deleted.
    func isTerminating(crd: String) -> Bool {
        objects[ResourceDefinition.customResourceDefinitions.storageKey]?[crd]?.value(atPath: "metadata.deletionTimestamp") != nil
    }

    /// Ends a CRD's deletion once its last object is gone.
    func finishCustomResourceCleanup(_ crd: String) {
        let def = ResourceDefinition.customResourceDefinitions
        guard let object = objects[def.storageKey]?[crd], object.value(atPath: "metadata.deletionTimestamp") != nil,
            let first = CRDSupport.definitions(from: object).first, (objects[first.storageKey] ?? [:]).isEmpty
        else { return }
        let finalizers = (object.value(atPath: "metadata.finalizers")?.arrayValue ?? []).filter { $0 != .string(Self.customResourceCleanupFinalizer) }
        var next = object
        next["metadata"]?["finalizers"] = finalizers.isEmpty ? nil : .array(finalizers)
        if finalizers.isEmpty {
            remove(def, key: crd, last: next)
        } else {
            commit(def, key: crd, type: .modified, object: next, previous: object)
        }
    }

    /// Deleting a CRD deletes its objects and stops serving it.
    func dropCustomResources(crd: JSONValue) {
        for def in CRDSupport.definitions(from: crd) {
            for (key, object) in objects[def.storageKey] ?? [:] {
                commit(def, key: key, type: .deleted, object: object, previous: object)
            }
            definitions[def.registryKey] = nil
        }
    }
}

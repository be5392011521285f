import KubeClient

/// The result of a server-side apply.
struct Applied: Sendable {
    var object: JSONValue
    var warnings: [String]
    var created: Bool
}

/// Server-side apply: the subset the executor uses, with field ownership.
///
/// Ownership is tracked per manager as the set of leaf field paths it applied, stored in
/// `metadata.managedFields` as FieldsV1. Applying a value that differs from one owned by another
/// manager is a 409 Conflict unless `force=true`, which takes ownership. Fields a manager applied
/// before and leaves out now are removed when no other manager owns them. Lists with a merge key
/// (see ``Patching/listKeys(_:_:)``) merge by key, defaulted key fields included, so a
/// re-applied port never becomes a second copy; other lists are atomic.
extension ObjectStore {
    func apply(_ def: ResourceDefinition, namespace: String?, name: String, subresource: String?, config: JSONValue,
               manager: String, force: Bool, dryRun: Bool, fieldValidation: String?) throws(APIError) -> Applied
    {
        var config = config
        if config.value(atPath: "metadata.name")?.stringValue == nil { config["metadata"]?["name"] = .string(name) }
        let applied = FieldSet.leaves(of: config, subresource: subresource)
        let key = Self.key(def.type.namespaced ? namespace : nil, name)
        guard let current = objects[def.storageKey]?[key].map({ EventStorage.toServed($0, as: def) }) else {
            guard subresource == nil else { throw .notFound(def, name) }
            // An apply that would create is a patch to the handler, so it is not the 405 a POST
            // gets; the real server refuses it as forbidden.
            if let crd = def.crdName, isTerminating(crd: crd) {
                throw APIError(code: 403, reason: "Forbidden", message: "\(def.type.groupResource) \"\(name)\" is forbidden: create not allowed while custom resource definition is terminating",
                               details: StatusDetails(name: name, group: def.type.group, kind: def.type.plural))
            }
            var object = config
            object["metadata"]?["resourceVersion"] = nil
            object["metadata"]?["managedFields"] = .array([FieldSet.entry(manager: manager, operation: "Apply", apiVersion: def.type.apiVersion, paths: applied, time: KubeTime.format(clock()), subresource: nil)])
            let written = try create(def, namespace: namespace, body: object, dryRun: dryRun, fieldValidation: fieldValidation)
            return Applied(object: written.object, warnings: written.warnings, created: true)
        }
        var entries = current.value(atPath: "metadata.managedFields")?.arrayValue ?? []
        let owners: [(manager: String, index: Int, paths: Set<String>)] = entries.enumerated().compactMap { i, entry in
            guard let m = entry["manager"]?.stringValue, entry["subresource"]?.stringValue == subresource else { return nil }
            return (m, i, FieldSet.paths(fromFieldsV1: entry["fieldsV1"] ?? [:]))
        }
        var conflicts: [String] = []
        for path in applied.sorted() {
            let newValue = FieldSet.value(at: path, in: config)
            let oldValue = FieldSet.value(at: path, in: current)
            guard oldValue != nil, newValue != oldValue else { continue }
            for owner in owners where owner.manager != manager && owner.paths.contains(path) {
                conflicts.append("conflict with \"\(owner.manager)\": \(path)")
            }
        }
        if !conflicts.isEmpty && !force {
            throw APIError(code: 409, reason: "Conflict", message: "Apply failed with \(conflicts.count) conflict\(conflicts.count == 1 ? "" : "s"): \(conflicts.joined(separator: "\n"))",
                           details: StatusDetails(name: name, group: def.type.group, kind: def.type.plural, causes: conflicts.map { StatusCause(reason: "FieldManagerConflict", message: $0) }))
        }
        let previouslyMine = owners.first { $0.manager == manager }?.paths ?? []
        let ownedByOthers = owners.filter { $0.manager != manager }.reduce(into: Set<String>()) { $0.formUnion($1.paths) }
        var next = Patching.strategicMerge(current, FieldSet.withoutManagedFields(config))
        for path in previouslyMine.subtracting(applied).subtracting(ownedByOthers).sorted(by: >) {
            next = FieldSet.removing(path, from: next)
        }
        // Forced fields change hands; everyone else keeps what they own.
        for owner in owners where owner.manager != manager {
            let remaining = owner.paths.subtracting(applied)
            if remaining.count != owner.paths.count {
                entries[owner.index]["fieldsV1"] = FieldSet.fieldsV1(remaining)
            }
        }
        entries.removeAll { $0["manager"]?.stringValue == manager && $0["subresource"]?.stringValue == subresource && $0["operation"]?.stringValue == "Apply" }
        entries.append(FieldSet.entry(manager: manager, operation: "Apply", apiVersion: def.type.apiVersion, paths: applied, time: KubeTime.format(clock()), subresource: subresource))
        next["metadata"]?["managedFields"] = .array(entries)
        next["metadata"]?["resourceVersion"] = current.value(atPath: "metadata.resourceVersion")
        let written = try update(def, namespace: namespace, name: name, body: next, subresource: subresource, dryRun: dryRun, fieldValidation: fieldValidation)
        return Applied(object: written.object, warnings: written.warnings, created: false)
    }
}

/// Field paths and their FieldsV1 form (`{"f:spec":{"f:replicas":{}}}`).
enum FieldSet {
    static let identityFields: Set<String> = [".apiVersion", ".kind", ".metadata.name", ".metadata.namespace"]

    /// Metadata the server sets, which no manager owns.
    static let serverFields = ["uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"]

    static func withoutServerFields(_ object: JSONValue) -> JSONValue {
        var o = object
        for field in serverFields { o["metadata"]?[field] = nil }
        return o
    }

    /// `metadata.managedFields` after `manager` changed `old` into `new` with an ordinary write
    /// (create, update, patch, on the main resource or `subresource`): the manager's `Update`
    /// entry gains every field it set or changed; other managers lose those fields and any the
    /// write removed; entries left empty go.
    static func recordUpdate(old: JSONValue, new: JSONValue, manager: String, subresource: String?, apiVersion: String, time: String) -> JSONValue? {
        let before = leaves(of: withoutServerFields(old), subresource: subresource)
        let after = leaves(of: withoutServerFields(new), subresource: subresource)
        let changed = after.filter { value(at: $0, in: new) != value(at: $0, in: old) }
        let removed = before.subtracting(after)
        var entries: [JSONValue] = []
        var mine = Set<String>()
        for entry in old.value(atPath: "metadata.managedFields")?.arrayValue ?? [] {
            let paths = FieldSet.paths(fromFieldsV1: entry["fieldsV1"] ?? [:])
            if entry["manager"]?.stringValue == manager, entry["operation"]?.stringValue == "Update", entry["subresource"]?.stringValue == subresource {
                mine = paths
                continue
            }
            let remaining = paths.subtracting(changed).subtracting(removed)
            if remaining.count == paths.count {
                entries.append(entry)
            } else if !remaining.isEmpty {
                var kept = entry
                kept["fieldsV1"] = fieldsV1(remaining)
                entries.append(kept)
            }
        }
        mine = mine.union(changed).subtracting(removed)
        if !mine.isEmpty {
            entries.append(entry(manager: manager, operation: "Update", apiVersion: apiVersion, paths: mine, time: time, subresource: subresource))
        }
        return entries.isEmpty ? nil : .array(entries)
    }

    static func withoutManagedFields(_ config: JSONValue) -> JSONValue {
        var c = config
        c["metadata"]?["managedFields"] = nil
        c["metadata"]?["resourceVersion"] = nil
        return c
    }

    /// The leaf paths of an applied configuration: `.spec.containers[{"name":"main"}].image`; a
    /// list item is named by its key fields as JSON, as FieldsV1 names it (`k:{...}`).
    static func leaves(of value: JSONValue, subresource: String?) -> Set<String> {
        var out = Set<String>()
        collect(value, prefix: "", field: "", into: &out)
        out.subtract(identityFields)
        out = out.filter { !$0.hasPrefix(".metadata.managedFields") && !$0.hasPrefix(".metadata.resourceVersion") }
        if subresource == "status" { out = out.filter { $0.hasPrefix(".status") } }
        return out
    }

    private static func collect(_ value: JSONValue, prefix: String, field: String, into out: inout Set<String>) {
        switch value {
        case .object(let members) where !members.isEmpty:
            for (k, v) in members { collect(v, prefix: "\(prefix).\(k)", field: k, into: &out) }
        case .array(let items) where Patching.listKeys(field, items) != nil:
            let keys = Patching.listKeys(field, items) ?? []
            for item in items {
                guard let key = Patching.itemKey(item, keys) else { continue }
                let itemPrefix = "\(prefix)[\(keyText(key))]"
                out.insert(itemPrefix)
                collect(item, prefix: itemPrefix, field: "", into: &out)
            }
        default:
            out.insert(prefix)
        }
    }

    /// A list item's key as path text: its JSON with sorted members.
    static func keyText(_ key: JSONValue) -> String {
        String(decoding: key.serialized(sortedKeys: true), as: UTF8.self)
    }

    /// The item of `items` a `[{...}]` path component names.
    static func itemIndex(_ component: String, in items: [JSONValue]) -> Int? {
        guard let key = try? JSONValue.parse(String(component.dropFirst().dropLast())), let fields = key.objectValue else { return nil }
        let names = fields.keys.sorted { a, b in (a == "protocol" ? 1 : 0, a) < (b == "protocol" ? 1 : 0, b) }
        return items.firstIndex { Patching.itemKey($0, names) == key }
    }

    static func components(_ path: String) -> [String] {
        var parts: [String] = []
        var current = ""
        var depth = 0
        for ch in path {
            if ch == "[" && depth == 0 {
                // A list item starts a component of its own: `ports` then `[{"port":80}]`.
                if !current.isEmpty { parts.append(current) }
                current = "["
                depth = 1
                continue
            }
            if ch == "[" { depth += 1 } else if ch == "]" { depth -= 1 }
            if ch == "." && depth == 0 {
                if !current.isEmpty { parts.append(current) }
                current = ""
            } else {
                current.append(ch)
            }
        }
        if !current.isEmpty { parts.append(current) }
        return parts
    }

    static func value(at path: String, in root: JSONValue) -> JSONValue? {
        var current: JSONValue? = root
        for part in components(path) {
            if part.hasPrefix("[") {
                guard let items = current?.arrayValue, let index = itemIndex(part, in: items) else { return nil }
                current = items[index]
            } else {
                current = current?[part]
            }
        }
        return current
    }

    static func removing(_ path: String, from root: JSONValue) -> JSONValue {
        removing(components(path)[...], from: root)
    }

    private static func removing(_ parts: ArraySlice<String>, from value: JSONValue) -> JSONValue {
        guard let first = parts.first else { return value }
        if first.hasPrefix("[") {
            guard var items = value.arrayValue, let i = itemIndex(first, in: items) else { return value }
            if parts.count == 1 { items.remove(at: i) } else { items[i] = removing(parts.dropFirst(), from: items[i]) }
            return .array(items)
        }
        guard var members = value.objectValue, let child = members[first] else { return value }
        members[first] = parts.count == 1 ? JSONValue?.none : removing(parts.dropFirst(), from: child)
        return .object(members)
    }

    static func fieldsV1(_ paths: Set<String>) -> JSONValue {
        var root: JSONValue = [:]
        for path in paths {
            var keys: [String] = []
            for part in components(path) {
                if part.hasPrefix("[") {
                    keys.append("k:" + part.dropFirst().dropLast())
                } else {
                    keys.append("f:" + part)
                }
            }
            root = inserting(keys[...], into: root)
        }
        return root
    }

    private static func inserting(_ keys: ArraySlice<String>, into node: JSONValue) -> JSONValue {
        guard let first = keys.first else { return node }
        var node = node
        node[first] = inserting(keys.dropFirst(), into: node[first] ?? [:])
        return node
    }

    static func paths(fromFieldsV1 node: JSONValue, prefix: String = "") -> Set<String> {
        var out = Set<String>()
        for (key, child) in node.objectValue ?? [:] {
            var path: String
            if key.hasPrefix("f:") {
                path = "\(prefix).\(key.dropFirst(2))"
            } else if key.hasPrefix("k:"), let json = try? JSONValue.parse(String(key.dropFirst(2))) {
                path = "\(prefix)[\(keyText(json))]"
            } else {
                continue
            }
            let children = child.objectValue ?? [:]
            if children.isEmpty || key.hasPrefix("k:") { out.insert(path) }
            if !children.isEmpty { out.formUnion(paths(fromFieldsV1: child, prefix: path)) }
        }
        return out
    }

    static func entry(manager: String, operation: String, apiVersion: String, paths: Set<String>, time: String, subresource: String?) -> JSONValue {
        var e: JSONValue = ["manager": .string(manager), "operation": .string(operation), "apiVersion": .string(apiVersion), "time": .string(time), "fieldsType": "FieldsV1", "fieldsV1": fieldsV1(paths)]
        if let subresource { e["subresource"] = .string(subresource) }
        return e
    }
}

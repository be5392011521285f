import KubeClient

/// The patch formats kube-apiserver accepts.
enum Patching {
    /// RFC 7386: objects merge recursively, `null` deletes, anything else replaces.
    static func mergePatch(_ target: JSONValue, _ patch: JSONValue) -> JSONValue {
        guard case .object(let patchMembers) = patch else { return patch }
        var result: [String: JSONValue] = target.objectValue ?? [:]
        for (key, value) in patchMembers {
            if value.isNull {
                result[key] = nil
            } else {
                result[key] = mergePatch(result[key] ?? .null, value)
            }
        }
        return .object(result)
    }

    /// RFC 6902 JSON patch. A failed `test` is answered 422, as kube-apiserver does.
    static func jsonPatch(_ target: JSONValue, _ operations: JSONValue, def: ResourceDefinition, name: String) throws(APIError) -> JSONValue {
        guard let ops = operations.arrayValue else { throw .badRequest("json: cannot unmarshal object into Go value of type jsonpatch.Patch") }
        var doc = target
        for op in ops {
            guard let kind = op["op"]?.stringValue, let path = op["path"]?.stringValue else {
                throw .badRequest("the server rejected our request due to an error in our request: invalid JSON patch operation \(op)")
            }
            do {
                switch kind {
                case "add": doc = try JSONPointer.add(doc, path, op["value"] ?? .null)
                case "remove": doc = try JSONPointer.remove(doc, path)
                case "replace":
                    _ = try JSONPointer.get(doc, path)
                    doc = try JSONPointer.add(try JSONPointer.remove(doc, path), path, op["value"] ?? .null)
                case "move":
                    let from = op["from"]?.stringValue ?? ""
                    let value = try JSONPointer.get(doc, from)
                    doc = try JSONPointer.add(try JSONPointer.remove(doc, from), path, value)
                case "copy":
                    doc = try JSONPointer.add(doc, path, try JSONPointer.get(doc, op["from"]?.stringValue ?? ""))
                case "test":
                    let actual = try JSONPointer.get(doc, path)
                    if actual != (op["value"] ?? .null) {
                        throw APIError(code: 422, reason: "Invalid", message: "the server rejected our request due to an error in our request: testing value \(path) failed: test failed")
                    }
                default:
                    throw APIError.badRequest("Unexpected kind: \(kind)")
                }
            } catch let e as APIError {
                throw e
            } catch let e as JSONPointer.Failure {
                throw APIError(code: 422, reason: "Invalid", message: "the server rejected our request due to an error in our request: \(e.message)")
            } catch {
                throw APIError.badRequest("\(error)")
            }
        }
        return doc
    }

    /// Merge keys of built-in list fields, for strategic merge patch and apply: list items with
    /// the same key merge instead of the list being replaced. Lists not named here are replaced,
    /// which is the documented subset this sandbox supports. `ports` is keyed by
    /// ``listKeys(_:_:)``.
    static let mergeKeys: [String: String] = [
        "containers": "name", "initContainers": "name", "ephemeralContainers": "name", "env": "name", "volumes": "name",
        "volumeMounts": "mountPath", "imagePullSecrets": "name", "ownerReferences": "uid",
        "conditions": "type", "hostAliases": "ip", "topologySpreadConstraints": "topologyKey", "resourceClaims": "name",
    ]

    /// The fields that identify an item of the list `field` (its `x-kubernetes-list-map-keys`),
    /// or nil for a list that is replaced whole. Ports are keyed by number and protocol, as the
    /// API server keys them: a container's by `containerPort`, a Service's by `port`.
    static func listKeys(_ field: String, _ items: [JSONValue]) -> [String]? {
        if field == "ports" {
            if items.contains(where: { $0["containerPort"] != nil }) { return ["containerPort", "protocol"] }
            if items.contains(where: { $0["port"] != nil }) { return ["port", "protocol"] }
            return nil
        }
        return mergeKeys[field].map { [$0] }
    }

    /// What a key field is when an item leaves it out: the API server defaults it before it
    /// compares, so `{containerPort: 80}` and a stored `{containerPort: 80, protocol: TCP}` are
    /// one item.
    static let keyDefaults: [String: JSONValue] = ["protocol": "TCP"]

    /// An item's identity under `keys`, nil when it lacks the first key.
    static func itemKey(_ item: JSONValue, _ keys: [String]) -> JSONValue? {
        var out: [String: JSONValue] = [:]
        for (i, key) in keys.enumerated() {
            if let value = item[key] {
                out[key] = value
            } else if let value = keyDefaults[key] {
                out[key] = value
            } else if i == 0 {
                return nil
            }
        }
        return .object(out)
    }

    /// Lists of strings merged as sets by strategic merge patch.
    static let setLists: Set<String> = ["finalizers"]

    /// Strategic merge patch for built-in kinds: merge patch plus merge keys, set lists and the
    /// `$patch: replace|delete` directives.
    static func strategicMerge(_ target: JSONValue, _ patch: JSONValue, field: String = "") -> JSONValue {
        guard case .object(var patchMembers) = patch else { return patch }
        if patchMembers["$patch"]?.stringValue == "replace" {
            patchMembers["$patch"] = nil
            return .object(patchMembers)
        }
        var result = target.objectValue ?? [:]
        for (key, value) in patchMembers {
            if key.hasPrefix("$setElementOrder/") || key == "$retainKeys" { continue }
            if key.hasPrefix("$deleteFromPrimitiveList/") {
                let listKey = String(key.dropFirst("$deleteFromPrimitiveList/".count))
                let remove = Set(value.arrayValue ?? [])
                result[listKey] = result[listKey].map { .array(($0.arrayValue ?? []).filter { !remove.contains($0) }) }
                continue
            }
            if value.isNull {
                result[key] = nil
            } else if case .array(let patchItems) = value, case .array(let existing)? = result[key], let keys = listKeys(key, existing + patchItems) {
                result[key] = .array(mergeList(existing, patchItems, keys: keys))
            } else if case .array(let patchItems) = value, setLists.contains(key), case .array(let existing)? = result[key] {
                var merged = existing
                for item in patchItems where !merged.contains(item) { merged.append(item) }
                result[key] = .array(merged)
            } else if case .object = value {
                result[key] = strategicMerge(result[key] ?? .null, value, field: key)
            } else {
                result[key] = value
            }
        }
        return .object(result)
    }

    static func mergeList(_ existing: [JSONValue], _ patch: [JSONValue], keys: [String]) -> [JSONValue] {
        var merged = existing
        for item in patch {
            let key = itemKey(item, keys)
            if let index = merged.firstIndex(where: { key != nil && itemKey($0, keys) == key }) {
                if item["$patch"]?.stringValue == "delete" {
                    merged.remove(at: index)
                } else {
                    merged[index] = strategicMerge(merged[index], item)
                }
            } else if item["$patch"]?.stringValue != "delete" {
                merged.append(item)
            }
        }
        return merged
    }
}

/// RFC 6901 JSON pointers over ``JSONValue``.
enum JSONPointer {
    struct Failure: Error { var message: String }

    static func tokens(_ pointer: String) throws(Failure) -> [String] {
        if pointer.isEmpty { return [] }
        guard pointer.hasPrefix("/") else { throw Failure(message: "JSON pointer \"\(pointer)\" must start with /") }
        return pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
    }

    static func get(_ doc: JSONValue, _ pointer: String) throws(Failure) -> JSONValue {
        var current = doc
        for token in try tokens(pointer) {
            switch current {
            case .object(let o):
                guard let next = o[token] else { throw Failure(message: "doc is missing path: \"\(pointer)\": missing value") }
                current = next
            case .array(let a):
                guard let i = Int(token), a.indices.contains(i) else { throw Failure(message: "doc is missing path: \"\(pointer)\": missing value") }
                current = a[i]
            default:
                throw Failure(message: "doc is missing path: \"\(pointer)\": missing value")
            }
        }
        return current
    }

    static func add(_ doc: JSONValue, _ pointer: String, _ value: JSONValue) throws(Failure) -> JSONValue {
        try modify(doc, try tokens(pointer)[...], pointer) { container, last throws(Failure) in
            switch container {
            case .object(var o):
                o[last] = value
                return .object(o)
            case .array(var a):
                if last == "-" { a.append(value); return .array(a) }
                guard let i = Int(last), i >= 0, i <= a.count else { throw Failure(message: "add operation does not apply: doc is missing path: \"\(pointer)\"") }
                a.insert(value, at: i)
                return .array(a)
            default:
                throw Failure(message: "add operation does not apply: doc is missing path: \"\(pointer)\"")
            }
        }
    }

    static func remove(_ doc: JSONValue, _ pointer: String) throws(Failure) -> JSONValue {
        try modify(doc, try tokens(pointer)[...], pointer) { container, last throws(Failure) in
            switch container {
            case .object(var o):
                guard o[last] != nil else { throw Failure(message: "remove operation does not apply: doc is missing path: \"\(pointer)\"") }
                o[last] = nil
                return .object(o)
            case .array(var a):
                guard let i = Int(last), a.indices.contains(i) else { throw Failure(message: "remove operation does not apply: doc is missing path: \"\(pointer)\"") }
                a.remove(at: i)
                return .array(a)
            default:
                throw Failure(message: "remove operation does not apply: doc is missing path: \"\(pointer)\"")
            }
        }
    }

    private static func modify(_ doc: JSONValue, _ tokens: ArraySlice<String>, _ pointer: String,
                               _ apply: (JSONValue, String) throws(Failure) -> JSONValue) throws(Failure) -> JSONValue
    {
        guard let first = tokens.first else { throw Failure(message: "cannot modify the whole document at \"\(pointer)\"") }
        if tokens.count == 1 { return try apply(doc, first) }
        switch doc {
        case .object(var o):
            guard let child = o[first] else { throw Failure(message: "doc is missing path: \"\(pointer)\": missing value") }
            o[first] = try modify(child, tokens.dropFirst(), pointer, apply)
            return .object(o)
        case .array(var a):
            guard let i = Int(first), a.indices.contains(i) else { throw Failure(message: "doc is missing path: \"\(pointer)\": missing value") }
            a[i] = try modify(a[i], tokens.dropFirst(), pointer, apply)
            return .array(a)
        default:
            throw Failure(message: "doc is missing path: \"\(pointer)\": missing value")
        }
    }
}

import KubeClient

/// Label and field selection over stored objects.
enum Selection {
    static func matches(_ object: JSONValue, def: ResourceDefinition, labels: LabelSelector, fields: FieldSelector) -> Bool {
        if !labels.isEverything {
            let map = object.value(atPath: "metadata.labels")?.objectValue?.compactMapValues(\.stringValue) ?? [:]
            if !labels.matches(map) { return false }
        }
        if !fields.requirements.isEmpty {
            var values: [String: String] = [:]
            for r in fields.requirements { values[r.field] = fieldValue(object, EventStorage.storedFieldPath(r.field, def: def)) }
            if !fields.matches(values) { return false }
        }
        return true
    }

    static func fieldValue(_ object: JSONValue, _ path: String) -> String {
        switch object.value(atPath: path) {
        case .string(let s): return s
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .some(let v) where !v.isNull: return v.description
        default: return ""
        }
    }

    /// Checks the requested fields are selectable for the resource (400 otherwise, as the server answers).
    static func validate(_ fields: FieldSelector, def: ResourceDefinition) throws(APIError) {
        let allowed = Set(["metadata.name", "metadata.namespace"] + def.selectableFields)
        for r in fields.requirements where !allowed.contains(r.field) {
            throw .badRequest("field label not supported: \(r.field)")
        }
    }
}

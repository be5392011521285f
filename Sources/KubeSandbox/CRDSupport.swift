import KubeClient

/// CustomResourceDefinitions: checking them, computing their status, and turning each served
/// version into a resource the sandbox serves.
enum CRDSupport {
    static func prepare(_ crd: JSONValue, existing: [String: ResourceDefinition]) throws(APIError) -> JSONValue {
        let def = ResourceDefinition.customResourceDefinitions
        let name = crd.value(atPath: "metadata.name")?.stringValue ?? ""
        var errors: [FieldError] = []
        let spec = crd["spec"] ?? [:]
        let group = spec["group"]?.stringValue ?? ""
        let plural = spec.value(atPath: "names.plural")?.stringValue ?? ""
        if group.isEmpty { errors.append(.required("spec.group")) }
        if plural.isEmpty { errors.append(.required("spec.names.plural")) }
        if spec.value(atPath: "names.kind")?.stringValue?.isEmpty ?? true { errors.append(.required("spec.names.kind")) }
        let scope = spec["scope"]?.stringValue ?? ""
        if scope != "Namespaced" && scope != "Cluster" {
            errors.append(FieldError(field: "spec.scope", reason: "FieldValueNotSupported", detail: "Unsupported value: \"\(scope)\": supported values: \"Cluster\", \"Namespaced\""))
        }
        if !group.isEmpty, !plural.isEmpty, name != "\(plural).\(group)" {
            errors.append(.invalid("metadata.name", .string(name), "must be spec.names.plural+\".\"+spec.group"))
        }
        let versions = spec["versions"]?.arrayValue ?? []
        if versions.isEmpty { errors.append(.required("spec.versions")) }
        if versions.filter({ $0["storage"]?.boolValue == true }).count != 1 {
            errors.append(.invalid("spec.versions", .array(versions), "must have exactly one version marked as storage version"))
        }
        for (i, version) in versions.enumerated() {
            if version["schema"]?["openAPIV3Schema"] == nil {
                errors.append(.required("spec.versions[\(i)].schema.openAPIV3Schema"))
            }
        }
        guard errors.isEmpty else { throw .invalid(def, name, errors) }
        var out = crd
        let names = spec["names"] ?? [:]
        var accepted = names
        if accepted["singular"] == nil { accepted["singular"] = .string(spec.value(atPath: "names.kind")?.stringValue?.lowercased() ?? "") }
        if accepted["listKind"] == nil { accepted["listKind"] = .string((spec.value(atPath: "names.kind")?.stringValue ?? "") + "List") }
        out["spec"]?["names"] = accepted
        let storage = versions.first { $0["storage"]?.boolValue == true }?["name"] ?? ""
        out["status"] = [
            "acceptedNames": accepted,
            "storedVersions": [storage],
            "conditions": [
                ["type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found", "lastTransitionTime": .string(crd.value(atPath: "metadata.creationTimestamp")?.stringValue ?? "")],
                ["type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted", "lastTransitionTime": .string(crd.value(atPath: "metadata.creationTimestamp")?.stringValue ?? "")],
            ],
        ]
        if let deleting = crd.value(atPath: "metadata.deletionTimestamp"), !deleting.isNull {
            out["status"] = terminatingStatus(out["status"] ?? [:], at: deleting)
        }
        return out
    }

    /// A CRD's status once its deletion began: a `Terminating` condition besides the others.
    static func terminatingStatus(_ status: JSONValue, at time: JSONValue) -> JSONValue {
        var status = status
        var conditions = (status["conditions"]?.arrayValue ?? []).filter { $0["type"] != "Terminating" }
        conditions.append(["type": "Terminating", "status": "True", "reason": "InstanceDeletionInProgress", "message": "CustomResource deletion is in progress", "lastTransitionTime": time])
        status["conditions"] = .array(conditions)
        return status
    }

    /// One resource definition per served version.
    static func definitions(from crd: JSONValue) -> [ResourceDefinition] {
        let spec = crd["spec"] ?? [:]
        guard let group = spec["group"]?.stringValue, let plural = spec.value(atPath: "names.plural")?.stringValue,
            let kind = spec.value(atPath: "names.kind")?.stringValue
        else { return [] }
        return (spec["versions"]?.arrayValue ?? []).filter { $0["served"]?.boolValue ?? true }.compactMap { version in
            guard let name = version["name"]?.stringValue else { return nil }
            var def = ResourceDefinition(
                type: ResourceType(group: group, version: name, kind: kind, plural: plural, namespaced: spec["scope"]?.stringValue == "Namespaced"),
                singular: spec.value(atPath: "names.singular")?.stringValue ?? kind.lowercased())
            def.shortNames = spec.value(atPath: "names.shortNames")?.arrayValue?.compactMap(\.stringValue) ?? []
            def.categories = spec.value(atPath: "names.categories")?.arrayValue?.compactMap(\.stringValue) ?? []
            def.hasStatusSubresource = version.value(atPath: "subresources.status") != nil
            def.tracksGeneration = true
            def.schema = version.value(atPath: "schema.openAPIV3Schema")
            def.crdName = crd.value(atPath: "metadata.name")?.stringValue
            def.selectableFields = version["selectableFields"]?.arrayValue?.compactMap { $0["jsonPath"]?.stringValue.map { String($0.drop { $0 == "." }) } } ?? []
            def.printerColumns = (version["additionalPrinterColumns"]?.arrayValue ?? []).map { column in
                ResourceDefinition.PrinterColumn(
                    name: column["name"]?.stringValue ?? "", type: column["type"]?.stringValue ?? "string",
                    jsonPath: column["jsonPath"]?.stringValue ?? "", format: column["format"]?.stringValue ?? "",
                    description: column["description"]?.stringValue ?? "", priority: Int(column["priority"]?.intValue ?? 0))
            }
            return def
        }
    }
}

import Foundation
import KubeClient

/// How stored objects are shown: in the version asked for, and as `meta.k8s.io/v1` Tables.
enum Presentation {
    /// The object as served at `def`'s version (versions of a CRD share storage, conversion `None`).
    static func render(_ object: JSONValue, as def: ResourceDefinition) -> JSONValue {
        if EventStorage.isEventsAPI(def) { return EventStorage.toServed(object, as: def) }
        if object["apiVersion"]?.stringValue == def.type.apiVersion { return object }
        var copy = object
        copy["apiVersion"] = .string(def.type.apiVersion)
        return copy
    }

    static func columnDefinitions(_ def: ResourceDefinition) -> [JSONValue] {
        var columns: [JSONValue] = [["name": "Name", "type": "string", "format": "name", "description": "Name must be unique within a namespace.", "priority": 0]]
        let age: JSONValue = ["name": "Age", "type": "string", "format": "", "description": "CreationTimestamp is a timestamp representing the server time when this object was created.", "priority": 0]
        for (i, column) in def.printerColumns.enumerated() {
            if i == ageIndex(def) { columns.append(age) }
            columns.append(["name": .string(column.name), "type": .string(column.type), "format": .string(column.format), "description": .string(column.description), "priority": .int(Int64(column.priority))])
        }
        if ageIndex(def) == def.printerColumns.count { columns.append(age) }
        return columns
    }

    /// Built-in kinds and CRDs without printer columns get an Age column, as on a real server;
    /// for built-ins it comes before the `-o wide` columns (priority above 0), as Pods show
    /// `AGE` before `IP` and `NODE`. `nil` when there is none.
    static func ageIndex(_ def: ResourceDefinition) -> Int? {
        guard !def.printerColumns.contains(where: { $0.name == "Age" || $0.name == "Created At" }), def.schema == nil || def.printerColumns.isEmpty else { return nil }
        return def.printerColumns.firstIndex { $0.priority > 0 } ?? def.printerColumns.count
    }

    static func row(_ object: JSONValue, _ def: ResourceDefinition, now: Date) -> JSONValue {
        var cells: [JSONValue] = [object.value(atPath: "metadata.name") ?? ""]
        let age = JSONValue.string(humanAge(object.value(atPath: "metadata.creationTimestamp")?.stringValue, now: now))
        for (i, column) in def.printerColumns.enumerated() {
            if i == ageIndex(def) { cells.append(age) }
            cells.append(cell(object, column, now: now, isCustom: def.schema != nil))
        }
        if ageIndex(def) == def.printerColumns.count { cells.append(age) }
        var partial = ResponseForm.partialMetadata(object)
        partial["metadata"]?["managedFields"] = nil
        return ["cells": .array(cells), "object": partial]
    }

    /// A Table of `objects`; `includeObject=Object` embeds whole objects instead of metadata.
    static func table(_ objects: [JSONValue], _ def: ResourceDefinition, listMeta: JSONValue, includeObject: String?, now: Date, withColumns: Bool = true) -> JSONValue {
        let rows: [JSONValue] = objects.map { object in
            var r = row(object, def, now: now)
            if includeObject == "Object" { r["object"] = object }
            if includeObject == "None" { r["object"] = nil }
            return r
        }
        return [
            "kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": listMeta,
            "columnDefinitions": withColumns ? .array(columnDefinitions(def)) : .array([]),
            "rows": .array(rows),
        ]
    }

    static func cell(_ object: JSONValue, _ column: ResourceDefinition.PrinterColumn, now: Date, isCustom: Bool) -> JSONValue {
        switch column.jsonPath {
        case "{podIP}":
            return object.value(atPath: "status.podIP") ?? "<none>"
        case "{nodeName}":
            return object.value(atPath: "spec.nodeName") ?? "<none>"
        case "{nominatedNode}":
            return object.value(atPath: "status.nominatedNodeName") ?? "<none>"
        case "{readinessGates}":
            let gates = object.value(atPath: "spec.readinessGates")?.arrayValue ?? []
            if gates.isEmpty { return "<none>" }
            let conditions = object.value(atPath: "status.conditions")?.arrayValue ?? []
            let ready = gates.filter { gate in conditions.contains { $0["type"] == gate["conditionType"] && $0["status"] == "True" } }.count
            return .string("\(ready)/\(gates.count)")
        case "{jobStatus}":
            let conditions = object.value(atPath: "status.conditions")?.arrayValue ?? []
            for (type, shown) in [("Complete", "Complete"), ("Failed", "Failed"), ("Suspended", "Suspended")] where conditions.contains(where: { $0["type"] == .string(type) && $0["status"] == "True" }) {
                return .string(shown)
            }
            return "Running"
        case "{jobCompletions}":
            let succeeded = object.value(atPath: "status.succeeded")?.intValue ?? 0
            return .string("\(succeeded)/\(object.value(atPath: "spec.completions")?.intValue ?? 1)")
        case "{nodeStatus}":
            let ready = object.value(atPath: "status.conditions")?.arrayValue?.first { $0["type"] == "Ready" }
            return ready?["status"] == "True" ? "Ready" : "NotReady"
        case "{nodeRoles}":
            let roles = (object.value(atPath: "metadata.labels")?.objectValue ?? [:]).keys.filter { $0.hasPrefix("node-role.kubernetes.io/") }.map { String($0.dropFirst("node-role.kubernetes.io/".count)) }
            return .string(roles.isEmpty ? "<none>" : roles.sorted().joined(separator: ","))
        case "{ready}":
            let statuses = object.value(atPath: "status.containerStatuses")?.arrayValue ?? []
            let total = object.value(atPath: "spec.containers")?.arrayValue?.count ?? 0
            return .string("\(statuses.filter { $0["ready"]?.boolValue == true }.count)/\(total)")
        case "{podStatus}":
            if object.value(atPath: "metadata.deletionTimestamp") != nil { return "Terminating" }
            for status in object.value(atPath: "status.containerStatuses")?.arrayValue ?? [] {
                if let reason = status.value(atPath: "state.waiting.reason")?.stringValue { return .string(reason) }
                if let reason = status.value(atPath: "state.terminated.reason")?.stringValue { return .string(reason) }
            }
            return object.value(atPath: "status.reason") ?? object.value(atPath: "status.phase") ?? "Unknown"
        case "{restarts}":
            let restarts = (object.value(atPath: "status.containerStatuses")?.arrayValue ?? []).reduce(Int64(0)) { $0 + ($1["restartCount"]?.intValue ?? 0) }
            return .string(String(restarts))
        case "{dataCount}":
            return .int(Int64((object["data"]?.objectValue?.count ?? 0) + (object["binaryData"]?.objectValue?.count ?? 0)))
        default:
            let values = JSONPath.evaluate(column.jsonPath, on: object)
            guard let first = values.first else { return column.type == "string" ? "" : .null }
            // A custom resource's date column shows how long ago, as kubectl's AGE does.
            if column.type == "date", isCustom, let text = first.stringValue {
                return .string(KubeTime.parse(text) == nil ? "<invalid>" : humanAge(text, now: now))
            }
            if values.count > 1 { return .string(values.map { $0.stringValue ?? $0.description }.joined(separator: ",")) }
            return first
        }
    }

    /// An age as the API server's tables show it (`duration.HumanDuration`): `90s`, `5m30s`,
    /// `3h12m`, `2d4h`, `1y30d`.
    static func humanAge(_ timestamp: String?, now: Date) -> String {
        guard let timestamp, let date = KubeTime.parse(timestamp) else { return "<unknown>" }
        return HumanDuration.format(seconds: Int(now.timeIntervalSince(date).rounded(.down)))
    }
}

/// The JSONPath subset printer columns use: `.a.b`, `[n]`, `[*]` and `[?(@.k=='v')]`.
enum JSONPath {
    static func evaluate(_ path: String, on root: JSONValue) -> [JSONValue] {
        var current: [JSONValue] = [root]
        var rest = Substring(path.trimmingCharacters(in: CharacterSet(charactersIn: "{}")))
        if rest.hasPrefix("$") { rest = rest.dropFirst() }
        while !rest.isEmpty {
            if rest.hasPrefix(".") {
                rest = rest.dropFirst()
                let name = rest.prefix { $0 != "." && $0 != "[" }
                rest = rest.dropFirst(name.count)
                current = current.compactMap { $0[String(name)] }
            } else if rest.hasPrefix("[") {
                guard let close = rest.firstIndex(of: "]") else { return [] }
                var inner = rest[rest.index(after: rest.startIndex)..<close]
                rest = rest[rest.index(after: close)...]
                if inner == "*" {
                    current = current.flatMap { $0.arrayValue ?? Array(($0.objectValue ?? [:]).values) }
                } else if let i = Int(inner) {
                    current = current.compactMap { $0[i] }
                } else if inner.hasPrefix("?(@.") && inner.hasSuffix(")") {
                    inner = inner.dropFirst(4).dropLast()
                    let parts = inner.components(separatedBy: "==")
                    guard parts.count == 2 else { return [] }
                    let field = parts[0].trimmingCharacters(in: .whitespaces)
                    let expected = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: " '\""))
                    current = current.flatMap { ($0.arrayValue ?? []).filter { item in
                        Selection.fieldValue(item, field) == expected
                    } }
                } else {
                    let key = inner.trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
                    current = current.compactMap { $0[key] }
                }
            } else {
                return []
            }
        }
        return current
    }
}

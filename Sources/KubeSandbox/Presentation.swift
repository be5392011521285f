import Foundation
import KubeClient

/// How stored objects are shown: in the version asked for, and as `meta.k8s.io/v1` Tables.
enum Presentation {
    /// The object as served at `def`'s version (versions of a CRD share storage, conversion `None`).
    static func render(_ object: JSONValue, as def: ResourceDefinition) -> JSONValue {
        if object["apiVersion"]?.stringValue == def.type.apiVersion { return object }
        var copy = object
        copy["apiVersion"] = .string(def.type.apiVersion)
        return copy
    }

    /// Whether the Accept header asks for a Table.
    static func wantsTable(_ accept: String) -> Bool {
        accept.split(separator: ",").first.map { $0.contains("as=Table") } ?? false
    }

    static func columnDefinitions(_ def: ResourceDefinition) -> [JSONValue] {
        var columns: [JSONValue] = [["name": "Name", "type": "string", "format": "name", "description": "Name must be unique within a namespace.", "priority": 0]]
        for column in def.printerColumns {
            columns.append(["name": .string(column.name), "type": .string(column.type), "format": .string(column.format), "description": .string(column.description), "priority": .int(Int64(column.priority))])
        }
        if appendsAge(def) {
            columns.append(["name": "Age", "type": "date", "format": "", "description": "CreationTimestamp is a timestamp representing the server time when this object was created.", "priority": 0])
        }
        return columns
    }

    /// Built-in kinds and CRDs without printer columns get an Age column, as on a real server.
    static func appendsAge(_ def: ResourceDefinition) -> Bool {
        !def.printerColumns.contains { $0.name == "Age" || $0.name == "Created At" } && (def.schema == nil || def.printerColumns.isEmpty)
    }

    static func row(_ object: JSONValue, _ def: ResourceDefinition, now: Date) -> JSONValue {
        var cells: [JSONValue] = [object.value(atPath: "metadata.name") ?? ""]
        for column in def.printerColumns {
            cells.append(cell(object, column, now: now))
        }
        if appendsAge(def) {
            cells.append(.string(age(object.value(atPath: "metadata.creationTimestamp")?.stringValue, now: now)))
        }
        var partial: JSONValue = ["kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": object["metadata"] ?? [:]]
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

    static func cell(_ object: JSONValue, _ column: ResourceDefinition.PrinterColumn, now: Date) -> JSONValue {
        switch column.jsonPath {
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
            if column.type == "date", let text = first.stringValue {
                return column.name == "Age" ? .string(age(text, now: now)) : .string(text)
            }
            if values.count > 1 { return .string(values.map { $0.stringValue ?? $0.description }.joined(separator: ",")) }
            return first
        }
    }

    /// kubectl's short age: `5s`, `3m`, `2h`, `4d`.
    static func age(_ timestamp: String?, now: Date) -> String {
        guard let timestamp, let date = KubeTime.parse(timestamp) else { return "<unknown>" }
        let seconds = max(0, Int(now.timeIntervalSince(date)))
        if seconds < 120 { return "\(seconds)s" }
        if seconds < 3600 * 3 { return "\(seconds / 60)m" }
        if seconds < 86400 * 2 { return "\(seconds / 3600)h" }
        return "\(seconds / 86400)d"
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

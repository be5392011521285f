import Foundation
import KubeClient
import Synchronization

/// Validation, pruning and defaulting of custom resources against a CRD's structural
/// OpenAPI v3 schema, with kube-apiserver's field paths and messages.
enum SchemaValidator {
    /// Applies `default` values, then drops fields the schema does not declare.
    /// Returns the pruned paths so the caller can warn, or fail under `fieldValidation=Strict`.
    static func pruneAndDefault(_ value: JSONValue, schema: JSONValue, path: String = "", isRoot: Bool = true) -> (JSONValue, pruned: [String]) {
        var pruned: [String] = []
        let result = prune(value, schema: schema, path: path, isRoot: isRoot, pruned: &pruned)
        return (result, pruned)
    }

    private static func prune(_ value: JSONValue, schema: JSONValue, path: String, isRoot: Bool, pruned: inout [String]) -> JSONValue {
        switch value {
        case .object(var members):
            let properties = schema["properties"]?.objectValue
            let preserve = schema["x-kubernetes-preserve-unknown-fields"]?.boolValue == true
            if let properties {
                for (key, propSchema) in properties where members[key] == nil {
                    if let def = propSchema["default"] { members[key] = def }
                }
            }
            var out: [String: JSONValue] = [:]
            for (key, member) in members {
                let childPath = path.isEmpty ? key : "\(path).\(key)"
                if (isRoot || schema["x-kubernetes-embedded-resource"]?.boolValue == true), ["apiVersion", "kind", "metadata"].contains(key) {
                    out[key] = member  // the API machinery's fields are never pruned
                } else if let propSchema = properties?[key] {
                    out[key] = prune(member, schema: propSchema, path: childPath, isRoot: false, pruned: &pruned)
                } else if let additional = schema["additionalProperties"], additional.objectValue != nil {
                    out[key] = prune(member, schema: additional, path: childPath, isRoot: false, pruned: &pruned)
                } else if preserve || schema["additionalProperties"]?.boolValue == true {
                    out[key] = member
                } else {
                    pruned.append(childPath)
                }
            }
            return .object(out)
        case .array(let items):
            guard let itemSchema = schema["items"] else { return value }
            return .array(items.enumerated().map { i, item in prune(item, schema: itemSchema, path: "\(path)[\(i)]", isRoot: false, pruned: &pruned) })
        default:
            return value
        }
    }

    /// Validates `value` and returns every violation.
    static func validate(_ value: JSONValue, schema: JSONValue, path: String = "", isRoot: Bool = true) -> [FieldError] {
        var errors: [FieldError] = []
        check(value, schema: schema, path: path, isRoot: isRoot, errors: &errors)
        return errors
    }

    private static func check(_ value: JSONValue, schema: JSONValue, path: String, isRoot: Bool, errors: inout [FieldError]) {
        let field = path.isEmpty ? "<root>" : path
        if value.isNull {
            if schema["nullable"]?.boolValue != true && !isRoot {
                errors.append(FieldError(field: field, reason: "FieldValueTypeInvalid", detail: "Invalid value: \"null\": \(field) in body must be of type \(schema["type"]?.stringValue ?? "object"): \"null\""))
            }
            return
        }
        if schema["x-kubernetes-int-or-string"]?.boolValue == true {
            switch value {
            case .int, .string: break
            case .double(let d) where d.rounded() == d: break
            default:
                errors.append(FieldError(field: field, reason: "FieldValueTypeInvalid", detail: "Invalid value: \(FieldError.render(value)): \(field) in body must be of type integer or string: \(FieldError.render(value))"))
                return
            }
        } else if let type = schema["type"]?.stringValue, !typeMatches(value, type) {
            errors.append(FieldError(field: field, reason: "FieldValueTypeInvalid", detail: "Invalid value: \"\(value.typeName)\": \(field) in body must be of type \(type): \"\(value.typeName)\""))
            return
        }
        if let allowed = schema["enum"]?.arrayValue, !allowed.contains(where: { equalForEnum($0, value) }) {
            let list = allowed.map { FieldError.render($0) }.joined(separator: ", ")
            errors.append(FieldError(field: field, reason: "FieldValueNotSupported", detail: "Unsupported value: \(FieldError.render(value)): supported values: \(list)"))
        }
        switch value {
        case .string(let s):
            if let max = schema["maxLength"]?.intValue, s.count > max {
                errors.append(FieldError(field: field, reason: "FieldValueTooLong", detail: "Too long: may not be more than \(max) bytes"))
            }
            if let min = schema["minLength"]?.intValue, s.count < min {
                errors.append(.invalid(field, value, "\(field) in body should be at least \(min) chars long"))
            }
            if let pattern = schema["pattern"]?.stringValue, !RegexCache.matches(pattern, s) {
                errors.append(.invalid(field, value, "\(field) in body should match '\(pattern)'"))
            }
            if let format = schema["format"]?.stringValue, !formatMatches(format, s) {
                errors.append(.invalid(field, value, "\(field) in body must be of type \(format): \(FieldError.render(value))"))
            }
        case .int, .double:
            let number = value.doubleValue ?? 0
            if let min = schema["minimum"]?.doubleValue {
                let exclusive = schema["exclusiveMinimum"]?.boolValue == true
                if exclusive ? number <= min : number < min {
                    errors.append(.invalid(field, value, "\(field) in body should be greater than \(exclusive ? "" : "or equal to ")\(render(min))"))
                }
            }
            if let max = schema["maximum"]?.doubleValue {
                let exclusive = schema["exclusiveMaximum"]?.boolValue == true
                if exclusive ? number >= max : number > max {
                    errors.append(.invalid(field, value, "\(field) in body should be less than \(exclusive ? "" : "or equal to ")\(render(max))"))
                }
            }
        case .array(let items):
            if let max = schema["maxItems"]?.intValue, items.count > max {
                errors.append(FieldError(field: field, reason: "FieldValueTooMany", detail: "Too many: \(items.count): must have at most \(max) items"))
            }
            if let min = schema["minItems"]?.intValue, items.count < min {
                errors.append(.invalid(field, value, "\(field) in body should have at least \(min) items"))
            }
            if let itemSchema = schema["items"] {
                for (i, item) in items.enumerated() {
                    check(item, schema: itemSchema, path: "\(path)[\(i)]", isRoot: false, errors: &errors)
                }
            }
        case .object(let members):
            for name in schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where members[name] == nil {
                errors.append(.required(path.isEmpty ? name : "\(path).\(name)"))
            }
            if let max = schema["maxProperties"]?.intValue, members.count > max {
                errors.append(FieldError(field: field, reason: "FieldValueTooMany", detail: "Too many: \(members.count): must have at most \(max) items"))
            }
            if let min = schema["minProperties"]?.intValue, members.count < min {
                errors.append(.invalid(field, value, "\(field) in body should have at least \(min) properties"))
            }
            let properties = schema["properties"]?.objectValue ?? [:]
            for (name, member) in members.sorted(by: { $0.key < $1.key }) {
                if isRoot && ["apiVersion", "kind", "metadata"].contains(name) { continue }
                let childPath = path.isEmpty ? name : "\(path).\(name)"
                if let propSchema = properties[name] {
                    check(member, schema: propSchema, path: childPath, isRoot: false, errors: &errors)
                } else if let additional = schema["additionalProperties"], additional.objectValue != nil {
                    check(member, schema: additional, path: childPath, isRoot: false, errors: &errors)
                }
            }
        default:
            break
        }
        for sub in schema["allOf"]?.arrayValue ?? [] {
            check(value, schema: sub, path: path, isRoot: isRoot, errors: &errors)
        }
        if let anyOf = schema["anyOf"]?.arrayValue, !anyOf.isEmpty,
            !anyOf.contains(where: { validate(value, schema: $0, path: path, isRoot: isRoot).isEmpty })
        {
            errors.append(.invalid(field, value, "\(field) in body must match at least one schema in anyOf"))
        }
        if let oneOf = schema["oneOf"]?.arrayValue, !oneOf.isEmpty,
            oneOf.filter({ validate(value, schema: $0, path: path, isRoot: isRoot).isEmpty }).count != 1
        {
            errors.append(.invalid(field, value, "\(field) in body must match exactly one schema in oneOf"))
        }
    }

    static func typeMatches(_ value: JSONValue, _ type: String) -> Bool {
        switch (type, value) {
        case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool): return true
        case ("integer", .int): return true
        case ("integer", .double(let d)): return d.rounded() == d
        case ("number", .int), ("number", .double): return true
        default: return false
        }
    }

    static func equalForEnum(_ a: JSONValue, _ b: JSONValue) -> Bool {
        if let x = a.doubleValue, let y = b.doubleValue { return x == y }
        return a == b
    }

    static func render(_ d: Double) -> String { d.rounded() == d ? String(Int64(d)) : String(d) }

    static func formatMatches(_ format: String, _ s: String) -> Bool {
        switch format {
        case "byte": return Data(base64Encoded: s) != nil
        case "date-time": return KubeTime.parse(s) != nil || (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(s)) != nil
        case "date": return (try? Date.ISO8601FormatStyle().year().month().day().parse(s)) != nil
        case "int32", "int64", "double", "float", "": return true  // numeric formats only qualify numbers
        default: return true  // kube-apiserver ignores formats it does not know
        }
    }
}

/// Compiled patterns, shared by every validation.
enum RegexCache {
    /// `NSRegularExpression` is immutable after creation and documented as safe to use from any thread.
    private struct Box: @unchecked Sendable { let regex: NSRegularExpression? }
    private static let cache = Mutex<[String: Box]>([:])

    static func matches(_ pattern: String, _ text: String) -> Bool {
        let box = cache.withLock { cache -> Box in
            if let hit = cache[pattern] { return hit }
            let made = Box(regex: try? NSRegularExpression(pattern: pattern))
            cache[pattern] = made
            return made
        }
        guard let regex = box.regex else { return true }
        return regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }
}

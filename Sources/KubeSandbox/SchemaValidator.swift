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
            // A null where the schema does not allow one is dropped before defaulting, as
            // kube-apiserver prunes it, so an optional field sent as null is simply absent.
            for (key, member) in members where member.isNull && !(isRoot && ["apiVersion", "kind", "metadata"].contains(key)) {
                let memberSchema = properties?[key] ?? schema["additionalProperties"]?.objectValue.map(JSONValue.object)
                if memberSchema?["nullable"]?.boolValue != true { members[key] = nil }
            }
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
    /// - Parameter old: the stored object on an update. Values equal to their old
    ///   counterparts are not validated again (validation ratcheting, on by default since
    ///   Kubernetes 1.30), and transition rules (`oldSelf`) are evaluated only where one exists.
    static func validate(_ value: JSONValue, schema: JSONValue, path: String = "", isRoot: Bool = true, old: JSONValue? = nil) -> [FieldError] {
        var errors: [FieldError] = []
        check(value, schema: schema, path: path, isRoot: isRoot, old: old, errors: &errors)
        return errors
    }

    private static func check(_ value: JSONValue, schema: JSONValue, path: String, isRoot: Bool, old: JSONValue?, errors: inout [FieldError]) {
        if let old, old == value { return }  // ratcheting: an unchanged value stays accepted
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
            if let pattern = schema["pattern"]?.stringValue, RegexCache.matches(pattern, s) == false {
                errors.append(.invalid(field, value, "\(field) in body should match '\(pattern)'"))
            }
            if let format = schema["format"]?.stringValue, !formatMatches(format, s) {
                errors.append(.invalid(field, value, "\(field) in body must be of type \(format): \(FieldError.render(value))"))
            }
        case .int, .double:
            let number = value.doubleValue ?? 0
            if let format = schema["format"]?.stringValue, let range = integerRanges[format], !range.contains(number) {
                errors.append(.invalid(field, value, "\(field) in body must be of type \(format): \"\(FieldError.render(value))\""))
            }
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
            let mapKeys = schema["x-kubernetes-list-map-keys"]?.arrayValue?.compactMap(\.stringValue) ?? []
            let listType = schema["x-kubernetes-list-type"]?.stringValue
            if let itemSchema = schema["items"] {
                // Old items correlate with new ones only by their keys in a map-list.
                let oldItems = listType == "map" ? (old?.arrayValue ?? []) : []
                for (i, item) in items.enumerated() {
                    let oldItem = oldItems.first { Self.listKey($0, mapKeys) == Self.listKey(item, mapKeys) }
                    check(item, schema: itemSchema, path: "\(path)[\(i)]", isRoot: false, old: oldItem, errors: &errors)
                }
            }
            errors += duplicates(items, listType: listType, mapKeys: mapKeys, path: path)
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
                    check(member, schema: propSchema, path: childPath, isRoot: false, old: old?[name], errors: &errors)
                } else if let additional = schema["additionalProperties"], additional.objectValue != nil {
                    check(member, schema: additional, path: childPath, isRoot: false, old: old?[name], errors: &errors)
                }
            }
        default:
            break
        }
        for sub in schema["allOf"]?.arrayValue ?? [] {
            check(value, schema: sub, path: path, isRoot: isRoot, old: old, errors: &errors)
        }
        if let rules = schema["x-kubernetes-validations"]?.arrayValue {
            errors += CELRules.check(rules, value: value, old: old, path: path)
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

    /// The ranges `format: int32` and `int64` allow.
    static let integerRanges: [String: ClosedRange<Double>] = ["int32": Double(Int32.min)...Double(Int32.max), "int64": Double(Int64.min)...Double(Int64.max)]

    /// A map-list item's key: the values of its key fields.
    static func listKey(_ item: JSONValue, _ keys: [String]) -> [JSONValue] { keys.map { item[$0] ?? .null } }

    /// `x-kubernetes-list-type: set` items must be unique, and `map` items unique by their keys:
    /// 422 `Duplicate value` at the later item, as kube-apiserver reports it.
    static func duplicates(_ items: [JSONValue], listType: String?, mapKeys: [String], path: String) -> [FieldError] {
        var errors: [FieldError] = []
        switch listType {
        case "set":
            for (i, item) in items.enumerated() where items[..<i].contains(item) {
                errors.append(FieldError(field: "\(path)[\(i)]", reason: "FieldValueDuplicate", detail: "Duplicate value: \(FieldError.render(item))"))
            }
        case "map" where !mapKeys.isEmpty:
            let keys = items.map { listKey($0, mapKeys) }
            for (i, key) in keys.enumerated() where keys[..<i].contains(key) {
                let shown = zip(mapKeys, key).filter { !$0.1.isNull }.map { "\"\($0.0)\":\(goValue($0.1))" }.joined(separator: ", ")
                errors.append(FieldError(field: "\(path)[\(i)]", reason: "FieldValueDuplicate", detail: "Duplicate value: map[string]interface {}{\(shown)}"))
            }
        default:
            break
        }
        return errors
    }

    /// A JSON scalar as Go's `%#v` prints it inside a `map[string]interface {}`.
    static func goValue(_ value: JSONValue) -> String {
        switch value {
        case .string(let s): return "\"\(s)\""
        case .int(let i): return "\(i)"
        case .double(let d): return d.rounded() == d ? "\(Int64(d))" : "\(d)"
        default: return value.description
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

/// Compiled patterns, shared by every validation: a CRD's `pattern` and CEL's `matches()`.
enum RegexCache {
    /// `NSRegularExpression` is immutable after creation and documented as safe to use from any thread.
    private struct Box: @unchecked Sendable { let regex: NSRegularExpression? }
    private static let cache = Mutex<[String: Box]>([:])

    /// Whether `pattern` matches somewhere in `text`; nil when the pattern does not compile.
    static func matches(_ pattern: String, _ text: String) -> Bool? {
        let box = cache.withLock { cache -> Box in
            if let hit = cache[pattern] { return hit }
            let made = Box(regex: try? NSRegularExpression(pattern: re2Anchors(pattern)))
            cache[pattern] = made
            return made
        }
        guard let regex = box.regex else { return nil }
        return regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    /// kube-apiserver matches with Go's RE2, where `$` is the end of the text; in ICU (what
    /// `NSRegularExpression` is) it also matches before a final line break, so `^[a-z]+$`
    /// would let `"abc\n"` through. Every `$` outside a character class and not escaped
    /// becomes `\z`, unless the pattern turns on multi-line mode (`(?m)`), where both agree.
    static func re2Anchors(_ pattern: String) -> String {
        var rest = pattern[...]
        while let group = rest.range(of: "(?") {
            rest = rest[group.upperBound...]
            if rest.prefix(while: \.isLetter).contains("m") { return pattern }
        }
        var out = ""
        var escaped = false
        var classDepth = 0
        for c in pattern {
            if escaped {
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else if c == "[" {
                classDepth += 1
            } else if c == "]", classDepth > 0 {
                classDepth -= 1
            } else if c == "$", classDepth == 0 {
                out += "\\z"
                continue
            }
            out.append(c)
        }
        return out
    }
}

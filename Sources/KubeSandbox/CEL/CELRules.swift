import KubeClient
import Synchronization

/// A CRD's `x-kubernetes-validations`: each rule compiled once, evaluated with `self` (and
/// `oldSelf` for transition rules) where the schema declares it, and reported as
/// kube-apiserver reports a failed rule.
enum CELRules {
    /// Compiled rules by source text, shared by every validation.
    private static let cache = Mutex<[String: Result<CELExpr, CELError>]>([:])

    static func compile(_ source: String) -> Result<CELExpr, CELError> {
        if let hit = cache.withLock({ $0[source] }) { return hit }
        let result: Result<CELExpr, CELError>
        do { result = .success(try CELParser.parse(source)) } catch { result = .failure(error) }
        cache.withLock { $0[source] = result }
        return result
    }

    /// Checks `rules` against `value`; `old` is the value before an update, if it existed.
    static func check(_ rules: [JSONValue], value: JSONValue, old: JSONValue?, path: String) -> [FieldError] {
        var errors: [FieldError] = []
        let selfValue = CELValue(value)
        for rule in rules {
            guard let source = rule["rule"]?.stringValue, case .success(let program) = compile(source) else { continue }  // reported when the CRD was created
            let isTransition = program.references("oldSelf")
            if isTransition && old == nil { continue }  // a transition rule needs a previous value
            var variables = ["self": selfValue]
            if let old { variables["oldSelf"] = CELValue(old) }
            let evaluator = CELEvaluator(variables: variables)
            var field = path.isEmpty ? "<nil>" : path
            if let extra = rule["fieldPath"]?.stringValue, !extra.isEmpty { field = path + extra }
            let typeName = "\"\(value.typeName)\""
            do {
                if case .bool(true) = try evaluator.evaluate(program) { continue }
            } catch {
                errors.append(FieldError(field: field, reason: "FieldValueInvalid", detail: "Invalid value: \(typeName): \(error.message) evaluating rule: \(source)"))
                continue
            }
            var message = rule["message"]?.stringValue ?? "failed rule: \(source)"
            if let expression = rule["messageExpression"]?.stringValue, case .success(let messageProgram) = compile(expression),
                case .string(let text)? = try? evaluator.evaluate(messageProgram), !text.isEmpty
            {
                message = text
            }
            switch rule["reason"]?.stringValue {
            case "FieldValueForbidden": errors.append(FieldError(field: field, reason: "FieldValueForbidden", detail: "Forbidden: \(message)"))
            case "FieldValueRequired": errors.append(FieldError(field: field, reason: "FieldValueRequired", detail: "Required value: \(message)"))
            case "FieldValueDuplicate": errors.append(FieldError(field: field, reason: "FieldValueDuplicate", detail: "Duplicate value: \(typeName): \(message)"))
            default: errors.append(FieldError(field: field, reason: "FieldValueInvalid", detail: "Invalid value: \(typeName): \(message)"))
            }
        }
        return errors
    }

    /// One warning per rule (or messageExpression) of `crd` the sandbox cannot evaluate, so
    /// the gap is said when the CRD is created instead of the rule passing silently.
    static func warnings(for crd: JSONValue) -> [String] {
        var out: [String] = []
        for version in crd.value(atPath: "spec.versions")?.arrayValue ?? [] {
            let name = version["name"]?.stringValue ?? ""
            visit(version.value(atPath: "schema.openAPIV3Schema") ?? [:], path: "") { rules, path in
                for rule in rules {
                    for key in ["rule", "messageExpression"] {
                        guard let source = rule[key]?.stringValue, case .failure(let error) = compile(source) else { continue }
                        out.append("KubeSandbox cannot evaluate the x-kubernetes-validations \(key) \"\(source)\" at \(name):\(path.isEmpty ? "<root>" : path) (\(error.message)); it is not enforced here")
                    }
                }
            }
        }
        return out
    }

    /// Calls `body` with each schema node's rules and its path.
    static func visit(_ schema: JSONValue, path: String, _ body: ([JSONValue], String) -> Void) {
        if let rules = schema["x-kubernetes-validations"]?.arrayValue { body(rules, path) }
        for (name, child) in schema["properties"]?.objectValue ?? [:] { visit(child, path: path.isEmpty ? name : "\(path).\(name)", body) }
        if let items = schema["items"] { visit(items, path: path + "[*]", body) }
        if let additional = schema["additionalProperties"], additional.objectValue != nil { visit(additional, path: path + "[*]", body) }
    }
}

import Foundation

/// Evaluates a ``CELExpr`` against named values (`self`, `oldSelf`), with CEL's semantics for
/// errors: `&&` and `||` absorb an error when the other side decides the result, anything
/// else propagates it.
struct CELEvaluator {
    /// The functions (global or receiver-style) the sandbox implements.
    static let functions: Set<String> = [
        "size", "startsWith", "endsWith", "contains", "matches", "lowerAscii", "upperAscii", "trim",
        "int", "uint", "double", "string", "bool", "dyn", "indexOf", "lastIndexOf", "join", "split", "isSorted", "sum", "min", "max",
    ]

    var variables: [String: CELValue]

    func evaluate(_ expr: CELExpr) throws(CELError) -> CELValue {
        switch expr {
        case .literal(let v):
            return v
        case .identifier(let name):
            guard let v = variables[name] else { throw CELError.evaluation("undeclared reference to '\(name)'") }
            return v
        case .select(let operand, let field):
            let base = try evaluate(operand)
            guard case .map(let m) = base else { throw CELError.evaluation("type '\(base.typeName)' does not support field selection") }
            guard let v = m[field] else { throw CELError.evaluation("no such key: \(field)") }
            return v
        case .presence(let operand, let field):
            let base = try evaluate(operand)
            guard case .map(let m) = base else { throw CELError.evaluation("invalid type for field selection.") }
            return .bool(m[field] != nil)
        case .index(let operand, let index):
            let base = try evaluate(operand)
            let key = try evaluate(index)
            switch (base, key) {
            case (.list(let items), _):
                guard let i = key.number, i.rounded() == i else { throw CELError.evaluation("unsupported index type '\(key.typeName)' in list") }
                guard i >= 0, Int(i) < items.count else { throw CELError.evaluation("index out of bounds: \(Int(i))") }
                return items[Int(i)]
            case (.map(let m), .string(let k)):
                guard let v = m[k] else { throw CELError.evaluation("no such key: \(k)") }
                return v
            default:
                throw CELError.evaluation("no such overload: \(base.typeName)[\(key.typeName)]")
            }
        case .list(let items):
            return .list(try items.map { (e) throws(CELError) in try evaluate(e) })
        case .map(let entries):
            var out: [String: CELValue] = [:]
            for entry in entries {
                guard case .string(let k) = try evaluate(entry.key) else { throw CELError.unsupported("map keys other than strings are not implemented by the sandbox") }
                out[k] = try evaluate(entry.value)
            }
            return .map(out)
        case .unary(let op, let operand):
            let v = try evaluate(operand)
            switch (op, v) {
            case ("!", .bool(let b)): return .bool(!b)
            case ("-", .int(let i)): return .int(-i)
            case ("-", .double(let d)): return .double(-d)
            default: throw CELError.evaluation("no such overload: \(op)\(v.typeName)")
            }
        case .binary("&&", let a, let b):
            return try logical(a, b, decidingValue: false)
        case .binary("||", let a, let b):
            return try logical(a, b, decidingValue: true)
        case .binary(let op, let a, let b):
            return try Self.binary(op, try evaluate(a), try evaluate(b))
        case .conditional(let condition, let then, let otherwise):
            guard case .bool(let c) = try evaluate(condition) else { throw CELError.evaluation("no matching overload for '_?_:_'") }
            return try evaluate(c ? then : otherwise)
        case .comprehension(let kind, let range, let variable, let body):
            return try comprehension(kind, range: range, variable: variable, body: body)
        case .call(let name, let target, let args):
            var values: [CELValue] = []
            if let target { values.append(try evaluate(target)) }
            for arg in args { values.append(try evaluate(arg)) }
            return try Self.call(name, values)
        }
    }

    /// `&&` (deciding value false) and `||` (true), commutative over errors as CEL defines them.
    func logical(_ a: CELExpr, _ b: CELExpr, decidingValue: Bool) throws(CELError) -> CELValue {
        var firstError: CELError?
        for side in [a, b] {
            do throws(CELError) {
                let v = try evaluate(side)
                guard case .bool(let flag) = v else { throw CELError.evaluation("no matching overload for '\(decidingValue ? "_||_" : "_&&_")' applied to '\(v.typeName)'") }
                if flag == decidingValue { return .bool(decidingValue) }
            } catch {
                firstError = firstError ?? error
            }
        }
        if let firstError { throw firstError }
        return .bool(!decidingValue)
    }

    func comprehension(_ kind: String, range: CELExpr, variable: String, body: CELExpr) throws(CELError) -> CELValue {
        let elements: [CELValue]
        switch try evaluate(range) {
        case .list(let items): elements = items
        case .map(let m): elements = m.keys.sorted().map(CELValue.string)
        case let other: throw CELError.evaluation("\(kind)() cannot range over '\(other.typeName)'")
        }
        var scope = self
        var results: [CELValue] = []
        var count = 0
        for element in elements {
            scope.variables[variable] = element
            let v = try scope.evaluate(body)
            switch kind {
            case "map":
                results.append(v)
            default:
                guard case .bool(let flag) = v else { throw CELError.evaluation("\(kind)() predicate did not return a bool") }
                if kind == "all" && !flag { return .bool(false) }
                if kind == "exists" && flag { return .bool(true) }
                if kind == "filter" && flag { results.append(element) }
                if kind == "exists_one" && flag { count += 1 }
            }
        }
        switch kind {
        case "all": return .bool(true)
        case "exists": return .bool(false)
        case "exists_one": return .bool(count == 1)
        default: return .list(results)
        }
    }

    static func binary(_ op: String, _ a: CELValue, _ b: CELValue) throws(CELError) -> CELValue {
        switch op {
        case "==": return .bool(CELValue.equal(a, b))
        case "!=": return .bool(!CELValue.equal(a, b))
        case "in":
            switch b {
            case .list(let items): return .bool(items.contains { CELValue.equal($0, a) })
            case .map(let m):
                guard case .string(let k) = a else { return .bool(false) }
                return .bool(m[k] != nil)
            default: throw CELError.evaluation("no such overload: \(a.typeName) in \(b.typeName)")
            }
        case "<", "<=", ">", ">=":
            let order: Int
            if let x = a.number, let y = b.number {
                order = x < y ? -1 : (x > y ? 1 : 0)
            } else if case .string(let x) = a, case .string(let y) = b {
                order = x < y ? -1 : (x > y ? 1 : 0)
            } else if case .bool(let x) = a, case .bool(let y) = b {
                order = x == y ? 0 : (x ? 1 : -1)
            } else {
                throw CELError.evaluation("no such overload: \(a.typeName) \(op) \(b.typeName)")
            }
            switch op {
            case "<": return .bool(order < 0)
            case "<=": return .bool(order <= 0)
            case ">": return .bool(order > 0)
            default: return .bool(order >= 0)
            }
        case "+":
            switch (a, b) {
            case (.int(let x), .int(let y)):
                let (r, overflow) = x.addingReportingOverflow(y)
                if overflow { throw CELError.evaluation("integer overflow") }
                return .int(r)
            case (.uint(let x), .uint(let y)): return .uint(x &+ y)
            case (.double(let x), .double(let y)): return .double(x + y)
            case (.string(let x), .string(let y)): return .string(x + y)
            case (.list(let x), .list(let y)): return .list(x + y)
            default: throw CELError.evaluation("no such overload: \(a.typeName) + \(b.typeName)")
            }
        case "-", "*", "/", "%":
            switch (a, b) {
            case (.int(let x), .int(let y)):
                if (op == "/" || op == "%") && y == 0 { throw CELError.evaluation(op == "/" ? "division by zero" : "modulus by zero") }
                let (r, overflow): (Int64, Bool) = switch op {
                case "-": x.subtractingReportingOverflow(y)
                case "*": x.multipliedReportingOverflow(by: y)
                case "/": x.dividedReportingOverflow(by: y)
                default: x.remainderReportingOverflow(dividingBy: y)
                }
                if overflow { throw CELError.evaluation("integer overflow") }
                return .int(r)
            case (.double(let x), .double(let y)):
                switch op {
                case "-": return .double(x - y)
                case "*": return .double(x * y)
                case "/": return .double(x / y)
                default: throw CELError.evaluation("no such overload: double % double")
                }
            default: throw CELError.evaluation("no such overload: \(a.typeName) \(op) \(b.typeName)")
            }
        default:
            throw CELError.unsupported("operator \(op) is not implemented by the sandbox")
        }
    }

    static func call(_ name: String, _ args: [CELValue]) throws(CELError) -> CELValue {
        func overload() -> CELError { CELError.evaluation("no such overload: \(name)(\(args.map(\.typeName).joined(separator: ", ")))") }
        switch (name, args.first, args.count) {
        case ("size", .string(let s)?, 1): return .int(Int64(s.unicodeScalars.count))
        case ("size", .list(let l)?, 1): return .int(Int64(l.count))
        case ("size", .map(let m)?, 1): return .int(Int64(m.count))
        case ("startsWith", .string(let s)?, 2):
            guard case .string(let p) = args[1] else { throw overload() }
            return .bool(s.hasPrefix(p))
        case ("endsWith", .string(let s)?, 2):
            guard case .string(let p) = args[1] else { throw overload() }
            return .bool(s.hasSuffix(p))
        case ("contains", .string(let s)?, 2):
            guard case .string(let p) = args[1] else { throw overload() }
            return .bool(p.isEmpty || s.contains(p))
        case ("matches", .string(let s)?, 2):
            guard case .string(let pattern) = args[1] else { throw overload() }
            guard let matched = RegexCache.matches(pattern, s) else { throw CELError.evaluation("invalid regular expression: \(pattern)") }
            return .bool(matched)
        case ("lowerAscii", .string(let s)?, 1): return .string(String(s.map { $0.isASCII ? Character($0.lowercased()) : $0 }))
        case ("upperAscii", .string(let s)?, 1): return .string(String(s.map { $0.isASCII ? Character($0.uppercased()) : $0 }))
        case ("trim", .string(let s)?, 1): return .string(s.trimmingCharacters(in: .whitespacesAndNewlines))
        case ("indexOf", .string(let s)?, 2), ("lastIndexOf", .string(let s)?, 2):
            guard case .string(let p) = args[1] else { throw overload() }
            guard let range = name == "indexOf" ? s.range(of: p) : s.range(of: p, options: .backwards) else { return .int(-1) }
            return .int(Int64(s.unicodeScalars.distance(from: s.unicodeScalars.startIndex, to: range.lowerBound)))
        case ("join", .list(let l)?, _):
            let separator: String
            if args.count == 2, case .string(let sep) = args[1] { separator = sep } else if args.count == 1 { separator = "" } else { throw overload() }
            var parts: [String] = []
            for item in l {
                guard case .string(let s) = item else { throw overload() }
                parts.append(s)
            }
            return .string(parts.joined(separator: separator))
        case ("split", .string(let s)?, 2):
            guard case .string(let sep) = args[1] else { throw overload() }
            return .list(s.components(separatedBy: sep).map(CELValue.string))
        case ("isSorted", .list(let l)?, 1):
            for (x, y) in zip(l, l.dropFirst()) {
                guard case .bool(let ok) = try binary("<=", x, y), ok else { return .bool(false) }
            }
            return .bool(true)
        case ("sum", .list(let l)?, 1):
            var total = CELValue.int(0)
            for v in l { total = try binary("+", total, v) }
            return total
        case ("min", .list(let l)?, 1), ("max", .list(let l)?, 1):
            guard var best = l.first else { throw CELError.evaluation("\(name)() of an empty list") }
            for v in l.dropFirst() {
                if case .bool(true) = try binary(name == "min" ? "<" : ">", v, best) { best = v }
            }
            return best
        case ("int", let v?, 1):
            switch v {
            case .int: return v
            case .uint(let u): guard u <= UInt64(Int64.max) else { throw CELError.evaluation("integer overflow") }; return .int(Int64(u))
            case .double(let d): guard d.isFinite, abs(d) < 9.2e18 else { throw CELError.evaluation("integer overflow") }; return .int(Int64(d))
            case .string(let s): guard let i = Int64(s) else { throw CELError.evaluation("cannot convert \"\(s)\" to int") }; return .int(i)
            default: throw overload()
            }
        case ("uint", let v?, 1):
            switch v {
            case .uint: return v
            case .int(let i): guard i >= 0 else { throw CELError.evaluation("unsigned integer overflow") }; return .uint(UInt64(i))
            case .string(let s): guard let u = UInt64(s) else { throw CELError.evaluation("cannot convert \"\(s)\" to uint") }; return .uint(u)
            default: throw overload()
            }
        case ("double", let v?, 1):
            if let n = v.number { return .double(n) }
            if case .string(let s) = v, let d = Double(s) { return .double(d) }
            throw overload()
        case ("string", let v?, 1): return .string(v.text)
        case ("bool", .bool(let b)?, 1): return .bool(b)
        case ("bool", .string(let s)?, 1):
            switch s {
            case "true", "True", "TRUE", "t", "1": return .bool(true)
            case "false", "False", "FALSE", "f", "0": return .bool(false)
            default: throw CELError.evaluation("cannot convert \"\(s)\" to bool")
            }
        case ("dyn", let v?, 1): return v
        default: throw overload()
        }
    }
}

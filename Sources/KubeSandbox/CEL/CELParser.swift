/// A parsed CEL expression.
indirect enum CELExpr: Sendable {
    case literal(CELValue)
    case identifier(String)
    /// `operand.field`
    case select(CELExpr, String)
    /// `has(operand.field)`
    case presence(CELExpr, String)
    /// `operand[index]`
    case index(CELExpr, CELExpr)
    /// `name(args)` or `target.name(args)`
    case call(String, target: CELExpr?, args: [CELExpr])
    case list([CELExpr])
    case map([(key: CELExpr, value: CELExpr)])
    case unary(String, CELExpr)
    case binary(String, CELExpr, CELExpr)
    case conditional(CELExpr, CELExpr, CELExpr)
    /// The macros `all`, `exists`, `exists_one`, `map` and `filter` over a list or a map's keys.
    case comprehension(String, range: CELExpr, variable: String, body: CELExpr)

    /// Whether the expression reads `name` (a transition rule reads `oldSelf`).
    func references(_ name: String) -> Bool {
        switch self {
        case .literal: return false
        case .identifier(let n): return n == name
        case .select(let e, _), .presence(let e, _), .unary(_, let e): return e.references(name)
        case .index(let a, let b), .binary(_, let a, let b): return a.references(name) || b.references(name)
        case .call(_, let target, let args): return (target?.references(name) ?? false) || args.contains { $0.references(name) }
        case .list(let items): return items.contains { $0.references(name) }
        case .map(let entries): return entries.contains { $0.key.references(name) || $0.value.references(name) }
        case .conditional(let a, let b, let c): return a.references(name) || b.references(name) || c.references(name)
        case .comprehension(_, let range, let variable, let body): return range.references(name) || (variable != name && body.references(name))
        }
    }
}

/// A recursive-descent parser for the CEL subset: literals, lists and maps, field selection
/// and indexing, `!` and unary `-`, arithmetic, comparisons, `in`, `&&`, `||`, `?:`, `has()`,
/// the comprehension macros, and the functions in ``CELEvaluator/functions``.
///
/// It keeps cel-go's default limits (`parser.NewParser`), so a rule kube-apiserver refuses is
/// refused here with the same words: a source over 100,000 code points, and nesting deeper than
/// 250 (parentheses, lists, maps, arguments, operator chains, selections, indexes and calls,
/// as cel-go's visitor counts them). The limit also keeps this parser, the evaluator and the
/// tree's release, all recursive, within a thread's stack: a rule nested a few hundred deep
/// overflowed it (found by `make fuzz`, target `cel`).
struct CELParser {
    var tokens: [CELToken]
    var position = 0
    /// How deep the expression being read is nested, against ``maxRecursionDepth``.
    var depth = 0

    /// cel-go's `maxRecursionDepth` default.
    static let maxRecursionDepth = 250
    /// cel-go's `expressionSizeCodePointLimit` default.
    static let maxCodePoints = 100_000

    static func parse(_ source: String) throws(CELError) -> CELExpr {
        let size = source.unicodeScalars.count
        guard size <= maxCodePoints else { throw CELError.syntax("expression code point size exceeds limit: size: \(size), limit \(maxCodePoints)") }
        var parser = CELParser(tokens: try CELLexer.tokenize(source))
        let expr = try parser.expression()
        guard parser.current == .end else { throw CELError.syntax("unexpected \(parser.describe(parser.current)) after the expression") }
        return expr
    }

    var current: CELToken { tokens[position] }

    mutating func advance() { if position < tokens.count - 1 { position += 1 } }

    mutating func accept(_ symbol: String) -> Bool {
        if current == .symbol(symbol) { advance(); return true }
        return false
    }

    mutating func expect(_ symbol: String) throws(CELError) {
        guard accept(symbol) else { throw CELError.syntax("expected '\(symbol)', found \(describe(current))") }
    }

    func describe(_ token: CELToken) -> String {
        switch token {
        case .identifier(let n): "'\(n)'"
        case .symbol(let s): "'\(s)'"
        case .end: "the end"
        default: "a literal"
        }
    }

    /// One level deeper; the caller gives it back (`depth -= 1`) when its level is built.
    mutating func nest() throws(CELError) {
        depth += 1
        guard depth <= Self.maxRecursionDepth else { throw CELError.syntax("expression recursion limit exceeded: \(Self.maxRecursionDepth)") }
    }

    mutating func expression() throws(CELError) -> CELExpr {
        try nest()
        defer { depth -= 1 }
        let condition = try binary(level: 0)
        guard accept("?") else { return condition }
        let then = try binary(level: 0)
        try expect(":")
        return .conditional(condition, then, try expression())
    }

    /// Binary operators by precedence, loosest first.
    static let levels: [[String]] = [["||"], ["&&"], ["<", "<=", ">", ">=", "==", "!=", "in"], ["+", "-"], ["*", "/", "%"]]

    mutating func binary(level: Int) throws(CELError) -> CELExpr {
        guard level < Self.levels.count else { return try unary() }
        // `||` and `&&` chains become balanced trees, as cel-go's balancer makes them: a long
        // chain of conditions is not a deep tree. Both are associative, and commutative over
        // errors, so the grouping does not change a result.
        if level < 2 {
            var terms = [try binary(level: level + 1)]
            while accept(Self.levels[level][0]) { terms.append(try binary(level: level + 1)) }
            return Self.balanced(Self.levels[level][0], terms[...])
        }
        var left = try binary(level: level + 1)
        // Each operator nests the tree one deeper, as cel-go's left-recursive rules do.
        var chained = 0
        defer { depth -= chained }
        while true {
            let op: String
            switch current {
            case .symbol(let s) where Self.levels[level].contains(s): op = s
            case .identifier("in") where Self.levels[level].contains("in"): op = "in"
            default: return left
            }
            advance()
            try nest()
            chained += 1
            left = .binary(op, left, try binary(level: level + 1))
        }
    }

    /// `terms` joined by `op` into a tree of logarithmic depth, in their order.
    static func balanced(_ op: String, _ terms: ArraySlice<CELExpr>) -> CELExpr {
        if terms.count == 1 { return terms[terms.startIndex] }
        let middle = terms.startIndex + terms.count / 2
        return .binary(op, balanced(op, terms[..<middle]), balanced(op, terms[middle...]))
    }

    /// A run of `!` or of `-` is one operator applied once or not at all, as in cel-go's
    /// grammar (`'!'+ member`, `'-'+ member`), so a long run is not a deep tree.
    mutating func unary() throws(CELError) -> CELExpr {
        while true {
            guard let op = ["!", "-"].first(where: { current == .symbol($0) }) else { return try postfix(try primary()) }
            var count = 0
            while accept(op) { count += 1 }
            // An even run is no operator; what follows is read in this same frame.
            guard count % 2 == 1 else { continue }
            if op == "-" {
                // A negative literal, so -9223372036854775808 fits.
                if case .int(let n) = current { advance(); return try postfix(.literal(.int(-n))) }
                if case .double(let d) = current { advance(); return try postfix(.literal(.double(-d))) }
            }
            try nest()
            defer { depth -= 1 }
            return .unary(op, try unary())
        }
    }

    mutating func primary() throws(CELError) -> CELExpr {
        let token = current
        advance()
        switch token {
        case .int(let n): return .literal(.int(n))
        case .uint(let n): return .literal(.uint(n))
        case .double(let d): return .literal(.double(d))
        case .string(let s): return .literal(.string(s))
        case .identifier("true"): return .literal(.bool(true))
        case .identifier("false"): return .literal(.bool(false))
        case .identifier("null"): return .literal(.null)
        case .identifier(let name):
            guard accept("(") else { return .identifier(name) }
            let args = try arguments(")")
            if name == "has" {
                guard args.count == 1, case .select(let operand, let field) = args[0] else { throw CELError.syntax("has() needs a field selection, as has(self.field)") }
                return .presence(operand, field)
            }
            guard CELEvaluator.functions.contains(name) else { throw CELError.unsupported("function \(name)() is not implemented by the sandbox") }
            return .call(name, target: nil, args: args)
        case .symbol("("):
            let inner = try expression()
            try expect(")")
            return inner
        case .symbol("["):
            return .list(try arguments("]"))
        case .symbol("{"):
            var entries: [(key: CELExpr, value: CELExpr)] = []
            if !accept("}") {
                repeat {
                    let key = try expression()
                    try expect(":")
                    entries.append((key, try expression()))
                } while accept(",")
                try expect("}")
            }
            return .map(entries)
        default:
            throw CELError.syntax("unexpected \(describe(token))")
        }
    }

    mutating func arguments(_ close: String) throws(CELError) -> [CELExpr] {
        var args: [CELExpr] = []
        if accept(close) { return args }
        repeat {
            if current == .symbol(close) { break }  // a trailing comma
            args.append(try expression())
        } while accept(",")
        try expect(close)
        return args
    }

    static let macros: Set<String> = ["all", "exists", "exists_one", "map", "filter"]

    mutating func postfix(_ base: CELExpr) throws(CELError) -> CELExpr {
        var expr = base
        // Each selection, index or call nests the tree one deeper.
        var chained = 0
        defer { depth -= chained }
        while true {
            if current == .symbol(".") || current == .symbol("[") {
                try nest()
                chained += 1
            }
            if accept(".") {
                guard case .identifier(let name) = current else { throw CELError.syntax("expected a field name after '.', found \(describe(current))") }
                advance()
                guard accept("(") else { expr = .select(expr, name); continue }
                if Self.macros.contains(name) {
                    guard case .identifier(let variable) = current else { throw CELError.syntax("\(name)() needs a variable name first") }
                    advance()
                    try expect(",")
                    let body = try expression()
                    try expect(")")
                    expr = .comprehension(name, range: expr, variable: variable, body: body)
                    continue
                }
                guard CELEvaluator.functions.contains(name) else { throw CELError.unsupported("function \(name)() is not implemented by the sandbox") }
                expr = .call(name, target: expr, args: try arguments(")"))
            } else if accept("[") {
                let index = try expression()
                try expect("]")
                expr = .index(expr, index)
            } else {
                return expr
            }
        }
    }
}

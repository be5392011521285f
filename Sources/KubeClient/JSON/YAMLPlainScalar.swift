/// What a plain (unquoted) YAML scalar stands for, by the YAML 1.1 rules that kubectl and Yams'
/// default resolver (`Resolver.default`) apply: `true`/`yes`/`on` are booleans, `0x1F` and
/// `1:30` are integers, `.inf` is a float, `~` and the empty scalar are null.
///
/// Written out by hand rather than through `Resolver.default` because that resolver matches
/// with `NSRegularExpression`, which on Linux is ICU's regex engine: compiling its seven
/// patterns maps about 3.5 MiB of ICU and Foundation's internationalization library into the
/// process for the rest of its life, for a config file read once at start
/// (docs/benchmarks.md, "YAML without ICU"). `YAMLPlainScalarTests` checks every rule against
/// `Resolver.default` itself.
enum YAMLPlainScalar: Equatable, Sendable {
    case null
    case bool(Bool)
    case int
    case float
    /// Anything else: a string, a timestamp, the merge key `<<`, the value key `=`.
    case other

    /// Resolves `text` as `Resolver.default` would, in its order: bool, int, float, null.
    init(resolving text: String) {
        let bytes = Array(text.utf8)
        if let bool = Self.bool(bytes) {
            self = .bool(bool)
        } else if Self.isInt(bytes[...]) {
            self = .int
        } else if Self.isFloat(bytes[...]) {
            self = .float
        } else if Self.isNull(bytes) {
            self = .null
        } else {
            self = .other
        }
    }

    private static let trueWords: Set<String> = ["yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"]
    private static let falseWords: Set<String> = ["no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"]

    static func bool(_ bytes: [UInt8]) -> Bool? {
        guard bytes.count <= 5 else { return nil }
        let word = String(decoding: bytes, as: UTF8.self)
        if trueWords.contains(word) { return true }
        if falseWords.contains(word) { return false }
        return nil
    }

    static func isNull(_ bytes: [UInt8]) -> Bool {
        switch String(decoding: bytes, as: UTF8.self) {
        case "", "~", "null", "Null", "NULL": true
        default: false
        }
    }

    // MARK: int: [-+]?0b[0-1_]+ | [-+]?0o?[0-7_]+ | [-+]?(?:0|[1-9][0-9_]*) | [-+]?0x[0-9a-fA-F_]+ | [-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+

    static func isInt(_ text: ArraySlice<UInt8>) -> Bool {
        let s = dropSign(text)
        guard let first = s.first else { return false }
        if first == UInt8(ascii: "0") {
            let rest = s.dropFirst()
            if rest.isEmpty { return true }
            switch rest.first {
            case UInt8(ascii: "b"): return all(rest.dropFirst(), in: isBinaryOrUnderscore)
            case UInt8(ascii: "x"): return all(rest.dropFirst(), in: isHexOrUnderscore)
            case UInt8(ascii: "o"): return all(rest.dropFirst(), in: isOctalOrUnderscore)
            default: return all(rest, in: isOctalOrUnderscore)
            }
        }
        guard isDigit(first) else { return false }
        // [1-9][0-9_]*, then nothing or sexagesimal groups.
        let digits = s.dropFirst().prefix(while: isDigitOrUnderscore)
        let after = s[digits.endIndex...]
        return after.isEmpty || sexagesimalGroups(after)?.isEmpty == true
    }

    // MARK: float: [-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)? | \.[0-9_]+(?:[eE][-+][0-9]+)?
    //            | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]* | [-+]?\.(?:inf|Inf|INF) | \.(?:nan|NaN|NAN)

    static func isFloat(_ text: ArraySlice<UInt8>) -> Bool {
        let word = String(decoding: text, as: UTF8.self)
        switch word {
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN": return true
        default: break
        }
        if text.first == UInt8(ascii: ".") {
            // \.[0-9_]+ with an exponent whose sign is required.
            let fraction = text.dropFirst().prefix(while: isDigitOrUnderscore)
            guard !fraction.isEmpty else { return false }
            let after = text[fraction.endIndex...]
            return after.isEmpty || exponent(after, signRequired: true)
        }
        let s = dropSign(text)
        guard let first = s.first, isDigit(first) else { return false }
        let whole = s.dropFirst().prefix(while: isDigitOrUnderscore)
        var after = s[whole.endIndex...]
        if after.first == UInt8(ascii: ":") {
            // [0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
            guard let rest = sexagesimalGroups(after), rest.first == UInt8(ascii: ".") else { return false }
            return rest.dropFirst().allSatisfy(isDigitOrUnderscore)
        }
        // [0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?
        if after.first == UInt8(ascii: ".") {
            after = after.dropFirst().drop(while: isDigitOrUnderscore)
        }
        return after.isEmpty || exponent(after, signRequired: false)
    }

    // MARK: pieces

    /// Consumes one or more `:[0-5]?[0-9]` groups from the start of `text` and returns what
    /// follows, or nil when `text` does not start with a group. Tries the longest reading of
    /// each group first, then the shorter, as a backtracking regex would.
    private static func sexagesimalGroups(_ text: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
        guard text.first == UInt8(ascii: ":") else { return nil }
        let body = text.dropFirst()
        var readings: [ArraySlice<UInt8>] = []
        if body.count >= 2, let a = body.first, a >= UInt8(ascii: "0"), a <= UInt8(ascii: "5"), isDigit(body[body.startIndex + 1]) {
            readings.append(body.dropFirst(2))
        }
        if let a = body.first, isDigit(a) { readings.append(body.dropFirst()) }
        var best: ArraySlice<UInt8>?
        for rest in readings {
            // More groups, or stop here: prefer the reading that leaves the least.
            let candidate = sexagesimalGroups(rest) ?? rest
            if best == nil || candidate.count < best!.count { best = candidate }
        }
        return best
    }

    /// `[eE][-+]?[0-9]+` (sign optional) or `[eE][-+][0-9]+` (sign required), the whole of `text`.
    private static func exponent(_ text: ArraySlice<UInt8>, signRequired: Bool) -> Bool {
        guard let e = text.first, e == UInt8(ascii: "e") || e == UInt8(ascii: "E") else { return false }
        var rest = text.dropFirst()
        if let sign = rest.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            rest = rest.dropFirst()
        } else if signRequired {
            return false
        }
        return all(rest, in: isDigit)
    }

    private static func dropSign(_ text: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        if let sign = text.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { return text.dropFirst() }
        return text
    }

    /// True when `text` is not empty and every byte passes.
    private static func all(_ text: ArraySlice<UInt8>, in test: (UInt8) -> Bool) -> Bool {
        !text.isEmpty && text.allSatisfy(test)
    }

    private static func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
    private static func isDigitOrUnderscore(_ b: UInt8) -> Bool { isDigit(b) || b == UInt8(ascii: "_") }
    private static func isOctalOrUnderscore(_ b: UInt8) -> Bool { (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "7")) || b == UInt8(ascii: "_") }
    private static func isBinaryOrUnderscore(_ b: UInt8) -> Bool { b == UInt8(ascii: "0") || b == UInt8(ascii: "1") || b == UInt8(ascii: "_") }
    private static func isHexOrUnderscore(_ b: UInt8) -> Bool {
        isDigitOrUnderscore(b) || (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "f")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "F"))
    }
}

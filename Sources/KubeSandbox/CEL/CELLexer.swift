/// Tokens of the CEL subset the sandbox evaluates (see ``CELProgram``).
enum CELToken: Equatable, Sendable {
    case identifier(String)
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case string(String)
    case symbol(String)
    case end
}

/// Splits a CEL expression into tokens.
struct CELLexer {
    /// Two-character operators first, so `<=` is not read as `<`.
    static let symbols = ["&&", "||", "==", "!=", "<=", ">=", "!", "<", ">", "+", "-", "*", "/", "%", "?", ":", ".", ",", "(", ")", "[", "]", "{", "}"]

    static func tokenize(_ source: String) throws(CELError) -> [CELToken] {
        var tokens: [CELToken] = []
        let chars = Array(source.unicodeScalars)
        var i = 0
        func peek(_ offset: Int = 0) -> Unicode.Scalar? { i + offset < chars.count ? chars[i + offset] : nil }
        while i < chars.count {
            let c = chars[i]
            if c.properties.isWhitespace { i += 1; continue }
            if c.isASCIIDigit || (c == "." && peek(1)?.isASCIIDigit == true) {
                tokens.append(try number(chars, &i))
                continue
            }
            // Strings, with the raw (r'…') and triple-quoted forms.
            let raw = (c == "r" || c == "R") && (peek(1) == "'" || peek(1) == "\"")
            if c == "'" || c == "\"" || raw {
                if raw { i += 1 }
                tokens.append(.string(try string(chars, &i, raw: raw)))
                continue
            }
            if c.isIdentifierStart {
                var name = ""
                while let d = peek(), d.isIdentifierStart || d.isASCIIDigit { name.unicodeScalars.append(d); i += 1 }
                tokens.append(.identifier(name))
                continue
            }
            let two = peek(1).map { String(c) + String($0) }
            if let two, symbols.contains(two) {
                tokens.append(.symbol(two)); i += 2
            } else if symbols.contains(String(c)) {
                tokens.append(.symbol(String(c))); i += 1
            } else {
                throw CELError.syntax("unexpected character '\(c)'")
            }
        }
        tokens.append(.end)
        return tokens
    }

    static func number(_ chars: [Unicode.Scalar], _ i: inout Int) throws(CELError) -> CELToken {
        var text = ""
        if chars[i] == "0", i + 1 < chars.count, chars[i + 1] == "x" || chars[i + 1] == "X" {
            i += 2
            while i < chars.count, chars[i].properties.isASCIIHexDigit { text.unicodeScalars.append(chars[i]); i += 1 }
            if i < chars.count, chars[i] == "u" || chars[i] == "U" { i += 1; return .uint(UInt64(text, radix: 16) ?? 0) }
            guard let value = Int64(text, radix: 16) else { throw CELError.syntax("invalid hex literal 0x\(text)") }
            return .int(value)
        }
        var isDouble = false
        while i < chars.count {
            let c = chars[i]
            if c.isASCIIDigit {
                text.unicodeScalars.append(c)
            } else if c == ".", i + 1 < chars.count, chars[i + 1].isASCIIDigit {
                isDouble = true; text.unicodeScalars.append(c)
            } else if c == "e" || c == "E" {
                isDouble = true; text.unicodeScalars.append(c)
                if i + 1 < chars.count, chars[i + 1] == "+" || chars[i + 1] == "-" { i += 1; text.unicodeScalars.append(chars[i]) }
            } else {
                break
            }
            i += 1
        }
        if isDouble {
            guard let d = Double(text) else { throw CELError.syntax("invalid number \(text)") }
            return .double(d)
        }
        if i < chars.count, chars[i] == "u" || chars[i] == "U" {
            i += 1
            guard let u = UInt64(text) else { throw CELError.syntax("invalid uint \(text)u") }
            return .uint(u)
        }
        guard let n = Int64(text) else { throw CELError.syntax("integer literal \(text) out of range") }
        return .int(n)
    }

    static func string(_ chars: [Unicode.Scalar], _ i: inout Int, raw: Bool) throws(CELError) -> String {
        let quote = chars[i]
        let triple = i + 2 < chars.count && chars[i + 1] == quote && chars[i + 2] == quote
        i += triple ? 3 : 1
        var out = ""
        while i < chars.count {
            let c = chars[i]
            if triple, c == quote, i + 2 < chars.count, chars[i + 1] == quote, chars[i + 2] == quote { i += 3; return out }
            if !triple, c == quote { i += 1; return out }
            if !triple, c == "\n" { break }
            if c == "\\", !raw, i + 1 < chars.count {
                i += 1
                switch chars[i] {
                case "n": out += "\n"
                case "t": out += "\t"
                case "r": out += "\r"
                case "\\": out += "\\"
                case "'": out += "'"
                case "\"": out += "\""
                case "`": out += "`"
                case "?": out += "?"
                default: throw CELError.syntax("unsupported escape \\\(chars[i])")
                }
                i += 1
                continue
            }
            out.unicodeScalars.append(c)
            i += 1
        }
        throw CELError.syntax("unterminated string")
    }
}

extension Unicode.Scalar {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
    var isIdentifierStart: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) || self == "_" }
}

/// Why a CEL expression could not be compiled or evaluated.
enum CELError: Error, Sendable, Equatable {
    /// Not CEL, or CEL the sandbox does not implement: reported when the CRD is created.
    case syntax(String)
    case unsupported(String)
    /// An evaluation error (no such key, wrong types), which fails the rule as on a real server.
    case evaluation(String)

    var message: String {
        switch self {
        case .syntax(let m): "syntax error: \(m)"
        case .unsupported(let m): m
        case .evaluation(let m): m
        }
    }
}

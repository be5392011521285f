/// A parsed label selector in the string syntax of the REST API
/// (`app=web,tier!=db,env in (a,b),!legacy,release`).
///
/// ```swift
/// let s = try LabelSelector(parsing: "flyte.org/managed=true")
/// s.matches(["flyte.org/managed": "true"]) // true
/// ```
public struct LabelSelector: Sendable, Hashable, CustomStringConvertible {
    public enum Operator: String, Sendable, Hashable {
        case equals = "="
        case notEquals = "!="
        case `in`
        case notIn = "notin"
        case exists
        case doesNotExist = "!"
        case greaterThan = "gt"
        case lessThan = "lt"
    }

    public struct Requirement: Sendable, Hashable {
        public var key: String
        public var op: Operator
        public var values: [String]

        public init(key: String, op: Operator, values: [String] = []) {
            self.key = key
            self.op = op
            self.values = values
        }

        public func matches(_ labels: [String: String]) -> Bool {
            let value = labels[key]
            switch op {
            case .equals: return value == values.first
            case .notEquals: return value != values.first
            case .in: return value.map(values.contains) ?? false
            case .notIn: return value.map { !values.contains($0) } ?? true
            case .exists: return value != nil
            case .doesNotExist: return value == nil
            case .greaterThan, .lessThan:
                guard let value, let actual = Int64(value), let bound = values.first.flatMap({ Int64($0) }) else { return false }
                return op == .greaterThan ? actual > bound : actual < bound
            }
        }
    }

    public var requirements: [Requirement]

    /// A selector that matches everything.
    public static let everything = LabelSelector(requirements: [])

    public init(requirements: [Requirement]) { self.requirements = requirements }

    /// A selector requiring every pair of `labels`.
    public init(matching labels: [String: String]) {
        requirements = labels.sorted { $0.key < $1.key }.map { Requirement(key: $0.key, op: .equals, values: [$0.value]) }
    }

    /// Parses the REST API syntax; throws ``SelectorError`` naming the offending part.
    public init(parsing text: String) throws(SelectorError) {
        var parser = SelectorScanner(text)
        requirements = try parser.parseLabelRequirements()
    }

    public var isEverything: Bool { requirements.isEmpty }

    public func matches(_ labels: [String: String]?) -> Bool {
        let labels = labels ?? [:]
        return requirements.allSatisfy { $0.matches(labels) }
    }

    public var description: String {
        requirements.map { r in
            switch r.op {
            case .equals: return "\(r.key)=\(r.values.first ?? "")"
            case .notEquals: return "\(r.key)!=\(r.values.first ?? "")"
            case .in: return "\(r.key) in (\(r.values.joined(separator: ",")))"
            case .notIn: return "\(r.key) notin (\(r.values.joined(separator: ",")))"
            case .exists: return r.key
            case .doesNotExist: return "!\(r.key)"
            case .greaterThan: return "\(r.key)>\(r.values.first ?? "")"
            case .lessThan: return "\(r.key)<\(r.values.first ?? "")"
            }
        }.joined(separator: ",")
    }
}

/// A parsed field selector (`metadata.name=x,status.phase!=Running`).
public struct FieldSelector: Sendable, Hashable, CustomStringConvertible {
    public struct Requirement: Sendable, Hashable {
        public var field: String
        public var value: String
        /// `true` for `!=`.
        public var negated: Bool
        public init(field: String, value: String, negated: Bool = false) {
            self.field = field
            self.value = value
            self.negated = negated
        }
    }

    public var requirements: [Requirement]

    public init(requirements: [Requirement]) { self.requirements = requirements }

    /// Parses as apimachinery's `fields.ParseSelector`: terms split at unescaped commas; in each,
    /// the first `!=`, `==` or `=` from the left splits field from value; in a value `\\`, `\,`
    /// and `\=` are escapes, and a bare `,` or `=` (or another escape) is an error.
    public init(parsing text: String) throws(SelectorError) {
        requirements = []
        for term in Self.splitUnescaped(text, on: ",") where !term.isEmpty {
            guard let (field, op, rawValue) = Self.splitTerm(term) else {
                throw SelectorError(message: "invalid field selector term \"\(term)\": expected field=value, field==value or field!=value")
            }
            if field.isEmpty { throw SelectorError(message: "invalid field selector term \"\(term)\": empty field") }
            requirements.append(Requirement(field: field, value: try Self.unescapeValue(rawValue, term: term), negated: op == "!="))
        }
    }

    /// The first operator from the left, trying `!=`, `==`, `=` at each position (Go's `splitTerm`).
    static func splitTerm(_ term: String) -> (String, String, String)? {
        var index = term.startIndex
        while index < term.endIndex {
            let remaining = term[index...]
            for op in ["!=", "==", "="] where remaining.hasPrefix(op) {
                return (String(term[..<index]), op, String(remaining.dropFirst(op.count)))
            }
            index = term.index(after: index)
        }
        return nil
    }

    /// Go's `fields.UnescapeValue`.
    static func unescapeValue(_ text: String, term: String) throws(SelectorError) -> String {
        var out = ""
        var escaped = false
        for ch in text {
            if escaped {
                guard ch == "\\" || ch == "," || ch == "=" else {
                    throw SelectorError(message: "invalid field selector term \"\(term)\": invalid escape sequence \"\\\(ch)\"")
                }
                out.append(ch)
                escaped = false
            } else if ch == "\\" {
                escaped = true
            } else if ch == "," || ch == "=" {
                throw SelectorError(message: "invalid field selector term \"\(term)\": unescaped \"\(ch)\" in the value (write \\\(ch))")
            } else {
                out.append(ch)
            }
        }
        return out  // a trailing backslash is dropped, as Go drops it
    }

    /// Go's `fields.EscapeValue`.
    static func escapeValue(_ value: String) -> String {
        var out = ""
        for ch in value {
            if ch == "\\" || ch == "," || ch == "=" { out.append("\\") }
            out.append(ch)
        }
        return out
    }

    /// Whether `fields` (field path to value) satisfies every requirement; a missing field reads as "".
    public func matches(_ fields: [String: String]) -> Bool {
        requirements.allSatisfy { r in
            let actual = fields[r.field] ?? ""
            return r.negated ? actual != r.value : actual == r.value
        }
    }

    public var description: String {
        requirements.map { "\($0.field)\($0.negated ? "!=" : "=")\(Self.escapeValue($0.value))" }.joined(separator: ",")
    }

    static func splitUnescaped(_ text: String, on separator: Character) -> [String] {
        var parts: [String] = []
        var current = ""
        var escaped = false
        for ch in text {
            if escaped {
                current.append("\\")
                current.append(ch)
                escaped = false
            } else if ch == "\\" {
                escaped = true
            } else if ch == separator {
                parts.append(current)
                current = ""
            } else {
                current.append(ch)
            }
        }
        parts.append(current)
        return parts
    }
}

/// A selector string that does not parse.
public struct SelectorError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

import Foundation

struct SelectorScanner {
    let chars: [Character]
    var i = 0
    let text: String

    init(_ text: String) {
        self.text = text
        self.chars = Array(text)
    }

    mutating func skipSpaces() { while i < chars.count, chars[i] == " " { i += 1 } }

    func fail(_ why: String) -> SelectorError {
        SelectorError(message: "unable to parse requirement: \(why)")  // labels.Parse's words
    }

    mutating func word() -> String {
        skipSpaces()
        var out = ""
        while i < chars.count, !" ,=!()<>".contains(chars[i]) {
            out.append(chars[i])
            i += 1
        }
        return out
    }

    mutating func parseLabelRequirements() throws(SelectorError) -> [LabelSelector.Requirement] {
        var result: [LabelSelector.Requirement] = []
        skipSpaces()
        if i == chars.count { return [] }
        while true {
            result.append(try parseRequirement())
            skipSpaces()
            if i == chars.count { return result }
            guard chars[i] == "," else { throw fail("expected ','") }
            i += 1
        }
    }

    mutating func parseRequirement() throws(SelectorError) -> LabelSelector.Requirement {
        skipSpaces()
        if i < chars.count, chars[i] == "!" {
            i += 1
            let key = word()
            try validateKey(key)
            return .init(key: key, op: .doesNotExist)
        }
        let key = word()
        try validateKey(key)
        skipSpaces()
        if i == chars.count || chars[i] == "," { return .init(key: key, op: .exists) }
        if chars[i] == "=" {
            i += 1
            if i < chars.count, chars[i] == "=" { i += 1 }
            let value = word()
            try validateValue(value)
            return .init(key: key, op: .equals, values: [value])
        }
        if chars[i] == "!" {
            guard i + 1 < chars.count, chars[i + 1] == "=" else { throw fail("expected '!='") }
            i += 2
            let value = word()
            try validateValue(value)
            return .init(key: key, op: .notEquals, values: [value])
        }
        if chars[i] == ">" || chars[i] == "<" {
            let op: LabelSelector.Operator = chars[i] == ">" ? .greaterThan : .lessThan
            i += 1
            let value = word()
            guard Int64(value) != nil else { throw fail("for 'Gt', 'Lt' operators, the value must be an integer") }
            return .init(key: key, op: op, values: [value])
        }
        let opWord = word()
        let op: LabelSelector.Operator
        switch opWord {
        case "in": op = .in
        case "notin": op = .notIn
        default: throw fail("found '\(opWord)', expected: in, notin, =, ==, !=, gt, lt")
        }
        skipSpaces()
        guard i < chars.count, chars[i] == "(" else { throw fail("found '\(i < chars.count ? String(chars[i]) : "")', expected: '('") }
        i += 1
        var values: [String] = []
        while true {
            let v = word()
            try validateValue(v)
            values.append(v)
            skipSpaces()
            guard i < chars.count else { throw fail("found '', expected: ',' or ')'") }
            if chars[i] == ")" {
                i += 1
                break
            }
            guard chars[i] == "," else { throw fail("found '\(chars[i])', expected: ',' or ')'") }
            i += 1
        }
        return .init(key: key, op: op, values: values)
    }

    func validateKey(_ key: String) throws(SelectorError) {
        guard !key.isEmpty else { throw fail("found '', expected: identifier") }
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let name = parts.last, LabelSyntax.isQualifiedNamePart(String(name)) else {
            throw fail("invalid label key \"\(key)\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character")
        }
        if parts.count == 2, parts[0].isEmpty || parts[0].count > 253 {
            throw fail("invalid label key \"\(key)\": prefix part must be a DNS subdomain")
        }
    }

    func validateValue(_ value: String) throws(SelectorError) {
        guard value.isEmpty || LabelSyntax.isQualifiedNamePart(value) else {
            throw fail("invalid label value: \"\(value)\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character")
        }
    }
}

/// Kubernetes name rules used by selectors and the sandbox's validation.
public enum LabelSyntax {
    /// 63 characters or fewer, alphanumerics, `-`, `_`, `.`, starting and ending alphanumeric.
    public static func isQualifiedNamePart(_ s: String) -> Bool {
        guard !s.isEmpty, s.count <= 63, let first = s.unicodeScalars.first, let last = s.unicodeScalars.last else { return false }
        func alnum(_ c: Unicode.Scalar) -> Bool { c.isASCII && (CharacterSet.alphanumerics.contains(c)) }
        guard alnum(first), alnum(last) else { return false }
        return s.unicodeScalars.allSatisfy { alnum($0) || $0 == "-" || $0 == "_" || $0 == "." }
    }

    /// A DNS-1123 subdomain: lower-case alphanumerics, `-` and `.`, at most 253 characters.
    public static func isDNSSubdomain(_ s: String) -> Bool {
        guard !s.isEmpty, s.count <= 253 else { return false }
        return s.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { isDNSLabelLike(String($0), max: 253) }
    }

    /// A DNS-1123 label: lower-case alphanumerics and `-`, at most 63 characters.
    public static func isDNSLabel(_ s: String) -> Bool { isDNSLabelLike(s, max: 63) }

    static func isDNSLabelLike(_ s: String, max: Int) -> Bool {
        guard !s.isEmpty, s.count <= max else { return false }
        let scalars = Array(s.unicodeScalars)
        func lowerAlnum(_ c: Unicode.Scalar) -> Bool { ("a"..."z").contains(c) || ("0"..."9").contains(c) }
        guard let first = scalars.first, let last = scalars.last, lowerAlnum(first), lowerAlnum(last) else { return false }
        return scalars.allSatisfy { lowerAlnum($0) || $0 == "-" }
    }
}

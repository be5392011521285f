/// Renders the placeholders of container `command` and `args` as Flyte's
/// `template.Render` does: case-insensitive, whitespace allowed inside the braces, `.` or `$` as
/// the sigil (`{{.input}}`, `{{ $Input }}`, `{{.INPUT}}`).
public struct TemplateRenderer: Sendable {
    public var paths: TaskPaths
    public var perRetryUniqueKey: String
    public var namespace: String
    /// Renders `{{.Inputs.<name>}}`; nil when inputs cannot be read, which makes such a
    /// placeholder an error.
    public var input: (@Sendable (String) throws -> String)?

    public init(paths: TaskPaths, generatedName: String, namespace: String, input: (@Sendable (String) throws -> String)? = nil) {
        self.paths = paths
        self.perRetryUniqueKey = Self.uniqueKey(generatedName)
        self.namespace = namespace
        self.input = input
    }

    public struct RenderError: Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// `<name>-<n>` with a leading run outside `[A-Za-z_]` replaced by `a` and every other
    /// run outside `[A-Za-z0-9_]` by `_`.
    static func uniqueKey(_ name: String) -> String {
        // Built for every reconcile's context: ASCII names (all of them, in practice) go byte by
        // byte, where a Character is a byte and the same rules give the same key.
        if name.utf8.allSatisfy({ $0 < 0x80 }) {
            func leading(_ c: UInt8) -> Bool { c == UInt8(ascii: "_") || (c | 0x20 >= UInt8(ascii: "a") && c | 0x20 <= UInt8(ascii: "z")) }
            let key = uniqueKey(name.utf8, leading: leading, word: { leading($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) },
                                start: UInt8(ascii: "a"), separator: UInt8(ascii: "_"))
            return String(decoding: key, as: UTF8.self)
        }
        return String(uniqueKey(name, leading: { $0 == "_" || ($0.isASCII && $0.isLetter) }, word: { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) },
                                start: "a", separator: "_"))
    }

    /// The rules of ``uniqueKey(_:)`` over any elements: a leading run that is not `leading`
    /// becomes `start`, every other run that is not `word` one `separator`.
    static func uniqueKey<C: Collection>(_ items: C, leading: (C.Element) -> Bool, word: (C.Element) -> Bool, start: C.Element, separator: C.Element) -> [C.Element] {
        var rest = items[...]
        var out: [C.Element] = []
        out.reserveCapacity(items.count + 1)
        if let first = rest.first, !leading(first) {
            while let c = rest.first, !leading(c) { rest.removeFirst() }
            out.append(start)
        }
        var inRun = false
        for c in rest {
            if word(c) {
                out.append(c)
                inRun = false
            } else if !inRun {
                out.append(separator)
                inRun = true
            }
        }
        return out
    }

    public func render(_ strings: [String]) throws -> [String] {
        try strings.map(render)
    }

    public func render(_ string: String) throws -> String {
        guard string.contains("{{") else { return string }
        var out = ""
        var rest = Substring(string)
        while let open = rest.range(of: "{{") {
            out += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                out += rest[open.lowerBound...]
                return out
            }
            let inner = rest[open.upperBound..<close.lowerBound]
            let whole = rest[open.lowerBound..<close.upperBound]
            if let value = try value(for: inner) {
                out += value
            } else {
                out += whole
            }
            rest = rest[close.upperBound...]
        }
        out += rest
        return out
    }

    private func value(for inner: Substring) throws -> String? {
        let trimmed = inner.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed()
        let token = String(trimmed)
        guard let sigil = token.first, sigil == "." || sigil == "$" else { return nil }
        let name = String(token.dropFirst())
        guard !name.isEmpty, !name.contains(where: \.isWhitespace) else { return nil }
        switch name.lowercased() {
        case "input": return paths.inputPath
        case "outputprefix", "rawoutputdataprefix": return paths.outputPrefix
        case "inputprefix": return paths.inputPrefix
        case "prevcheckpointprefix": return paths.previousCheckpointPrefix ?? "\"\""
        case "checkpointoutputprefix": return paths.checkpointOutputPrefix
        case "perretryuniquekey": return perRetryUniqueKey
        case "tasktemplatepath": return "inline://taskTemplate"
        case "namespace": return namespace
        default:
            guard name.lowercased().hasPrefix("inputs.") else { return nil }
            let variable = String(name.dropFirst("inputs.".count))
            guard let input else {
                throw RenderError(message: "cannot render {{.Inputs.\(variable)}}: inputs at \(paths.inputPath) are not readable by this executor")
            }
            return try input(variable)
        }
    }
}

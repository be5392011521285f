import Foundation
import Yams

extension JSONValue {
    /// Parses one YAML document (JSON is YAML too) into a JSON value.
    public init(yaml text: String) throws {
        guard let node = try Yams.compose(yaml: text, .basic) else {
            self = .null
            return
        }
        self = try JSONValue(node: node)
    }

    /// Parses every document of a multi-document YAML stream, skipping empty ones.
    public static func documents(yaml text: String) throws -> [JSONValue] {
        try Yams.compose_all(yaml: text, .basic).compactMap { node in
            let value = try JSONValue(node: node)
            return value.isNull ? Optional<JSONValue>.none : value
        }
    }

    /// Documents are composed with Yams' `basic` resolver, which types nothing, and plain
    /// scalars typed here by ``YAMLPlainScalar`` (the rules of Yams' default resolver without
    /// its regular expressions, which would bring ICU into the process). An explicit tag
    /// (`!!str 1`) is honoured as the default resolver would.
    init(node: Node) throws {
        switch node {
        case .scalar(let scalar):
            // Plain scalars resolve by the YAML 1.1 rules kubectl uses; quoted ones are strings.
            // The tag as written (`description`; `name` is internal): empty when there was none.
            let kind: YAMLPlainScalar = switch Tag.Name(rawValue: scalar.tag.description) {
            case .implicit: scalar.style == .plain ? YAMLPlainScalar(resolving: scalar.string) : .other
            case .null: .null
            case .bool: Bool.construct(from: scalar).map(YAMLPlainScalar.bool) ?? .other
            case .int: .int
            case .float: .float
            default: .other
            }
            switch kind {
            case .null: self = .null
            case .bool(let b): self = .bool(b)
            case .int:
                if let i = Int64(scalar.string) { self = .int(i) } else { self = .string(scalar.string) }
            case .float:
                // Yams reads only plain floats; a quoted one under an explicit `!!float` is read here.
                if let d = Double.construct(from: scalar) ?? Double(scalar.string) { self = .double(d) } else { self = .string(scalar.string) }
            case .other: self = .string(scalar.string)
            }
        case .mapping(let mapping):
            var members: [String: JSONValue] = [:]
            for (key, value) in mapping {
                guard let name = key.string else { throw YamlError.representer(problem: "mapping keys must be strings") }
                members[name] = try JSONValue(node: value)
            }
            self = .object(members)
        case .sequence(let sequence):
            self = .array(try sequence.map { try JSONValue(node: $0) })
        case .alias:
            throw YamlError.representer(problem: "YAML aliases are not supported")
        }
    }

    /// The value as YAML text, keys sorted.
    public func yaml() throws -> String {
        try Yams.serialize(node: node, sortKeys: true)
    }

    var node: Node {
        switch self {
        // Tags name Yams' `basic` resolver: the default one would compile its expressions.
        case .null: return Node("null", Tag(.null, .basic))
        case .bool(let b): return Node(b ? "true" : "false", Tag(.bool, .basic))
        case .int(let i): return Node(String(i), Tag(.int, .basic))
        case .double(let d): return Node(String(d), Tag(.float, .basic))
        case .string(let s):
            // A plain scalar that YAML would read back as something else ("True", "1", "null",
            // "2026-01-01") must be quoted, or the string would change type on the way back.
            let plainReadsBack = (try? JSONValue(yaml: s)) == .string(s)
            return Node(s, Tag(.str, .basic), plainReadsBack ? .any : .doubleQuoted)
        case .array(let a): return Node(a.map(\.node), Tag(.seq, .basic))
        case .object(let o): return Node(o.sorted { $0.key < $1.key }.map { (Node($0.key, Tag(.str, .basic)), $0.value.node) }, Tag(.map, .basic))
        }
    }
}

extension JSONValue {
    /// The JSON form of any Encodable value.
    public init(encoding value: some Encodable) throws {
        self = try JSONValueEncoder().encode(value)
    }
}

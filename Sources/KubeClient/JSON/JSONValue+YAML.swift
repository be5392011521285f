import Foundation
import Yams

extension JSONValue {
    /// Parses one YAML document (JSON is YAML too) into a JSON value.
    public init(yaml text: String) throws {
        guard let node = try Yams.compose(yaml: text) else {
            self = .null
            return
        }
        self = try JSONValue(node: node)
    }

    /// Parses every document of a multi-document YAML stream, skipping empty ones.
    public static func documents(yaml text: String) throws -> [JSONValue] {
        try Yams.compose_all(yaml: text).compactMap { node in
            let value = try JSONValue(node: node)
            return value.isNull ? Optional<JSONValue>.none : value
        }
    }

    init(node: Node) throws {
        switch node {
        case .scalar(let scalar):
            // Plain scalars resolve by the YAML 1.1 rules kubectl uses; quoted ones are strings.
            let tag = scalar.style == .plain ? Resolver.default.resolveTag(of: node) : Tag.Name.str
            switch tag.rawValue {
            case Tag.Name.null.rawValue: self = .null
            case Tag.Name.bool.rawValue: self = .bool(Bool.construct(from: scalar) ?? false)
            case Tag.Name.int.rawValue:
                if let i = Int64(scalar.string) { self = .int(i) } else { self = .string(scalar.string) }
            case Tag.Name.float.rawValue: self = .double(Double.construct(from: scalar) ?? 0)
            default: self = .string(scalar.string)
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
        case .null: return Node("null", Tag(.null))
        case .bool(let b): return Node(b ? "true" : "false", Tag(.bool))
        case .int(let i): return Node(String(i), Tag(.int))
        case .double(let d): return Node(String(d), Tag(.float))
        case .string(let s):
            // A plain scalar that YAML would read back as something else ("True", "1", "null",
            // "2026-01-01") must be quoted, or the string would change type on the way back.
            let plainReadsBack = (try? JSONValue(yaml: s)) == .string(s)
            return Node(s, Tag(.str), plainReadsBack ? .any : .doubleQuoted)
        case .array(let a): return Node(a.map(\.node))
        case .object(let o): return Node(o.sorted { $0.key < $1.key }.map { (Node($0.key), $0.value.node) })
        }
    }
}

extension JSONValue {
    /// The JSON form of any Encodable value.
    public init(encoding value: some Encodable) throws {
        self = try JSONValueEncoder().encode(value)
    }
}

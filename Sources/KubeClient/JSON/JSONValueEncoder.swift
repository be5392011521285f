import Foundation

/// Encodes `Encodable` values straight into a ``JSONValue``: the one encoding path of the
/// client (a model becomes a tree, the tree becomes bytes through ``JSONValue/serialized(sortedKeys:)``),
/// without Foundation's `JSONEncoder` and the parse back that using it would need.
///
/// As Foundation's encoder does, `Data` becomes a base64 string (Kubernetes' `format: byte`)
/// and `nil` optionals are left out; unlike it, a `Date` becomes an RFC 3339 string, the form
/// every Kubernetes timestamp takes, and integers stay integers.
public struct JSONValueEncoder: Sendable {
    public init() {}

    public func encode(_ value: some Encodable) throws -> JSONValue {
        try TreeEncoder.box(value, path: [])
    }
}

/// A value under construction: containers handed out by an encoder fill it in after the fact,
/// so it needs reference semantics until ``finish()``.
final class EncodingNode {
    enum Content {
        case unset
        case value(JSONValue)
        case object([String: EncodingNode])
        case array([EncodingNode])
    }

    var content: Content = .unset

    init() {}
    init(_ value: JSONValue) { content = .value(value) }

    func finish() -> JSONValue {
        switch content {
        case .unset: .emptyObject
        case .value(let value): value
        case .object(let members): .object(members.mapValues { $0.finish() })
        case .array(let items): .array(items.map { $0.finish() })
        }
    }

    /// This node as an object, making it one if it is not yet anything.
    func members() -> [String: EncodingNode] {
        if case .object(let m) = content { return m }
        content = .object([:])
        return [:]
    }

    func set(_ key: String, _ node: EncodingNode) {
        var m = members()
        content = .unset  // let the dictionary mutate in place
        m[key] = node
        content = .object(m)
    }

    func append(_ node: EncodingNode) {
        var items: [EncodingNode] = []
        if case .array(let existing) = content { items = existing }
        content = .unset
        items.append(node)
        content = .array(items)
    }

    var count: Int {
        if case .array(let items) = content { return items.count }
        return 0
    }
}

struct TreeEncoder: Encoder {
    let node: EncodingNode
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    /// `value` as a tree; the leaves JSON has its own form for are written directly.
    static func box(_ value: some Encodable, path: [any CodingKey]) throws -> JSONValue {
        switch value {
        case let v as JSONValue: return v
        case let v as String: return .string(v)
        case let v as Bool: return .bool(v)
        case let v as Int: return .int(Int64(v))
        case let v as Int64: return .int(v)
        case let v as Int32: return .int(Int64(v))
        case let v as Double: return try number(v, path: path)
        case let v as Data: return .string(v.base64EncodedString())
        case let v as Date: return .string(KubeTime.format(v))
        case let v as URL: return .string(v.absoluteString)
        default:
            let node = EncodingNode()
            try value.encode(to: TreeEncoder(node: node, codingPath: path))
            return node.finish()
        }
    }

    static func number(_ v: Double, path: [any CodingKey]) throws -> JSONValue {
        guard v.isFinite else {
            throw EncodingError.invalidValue(v, .init(codingPath: path, debugDescription: "\(v) is not a JSON number"))
        }
        return .double(v)
    }

    static func integer<T: BinaryInteger>(_ v: T, path: [any CodingKey]) throws -> JSONValue {
        guard let exact = Int64(exactly: v) else {
            throw EncodingError.invalidValue(v, .init(codingPath: path, debugDescription: "\(v) does not fit a 64-bit integer"))
        }
        return .int(exact)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        _ = node.members()
        return KeyedEncodingContainer(KeyedTreeContainer<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .array = node.content {} else { node.content = .array([]) }
        return UnkeyedTreeContainer(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleTreeContainer(node: node, codingPath: codingPath)
    }
}

struct KeyedTreeContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: EncodingNode
    let codingPath: [any CodingKey]

    private func put(_ value: JSONValue, _ key: Key) { node.set(key.stringValue, EncodingNode(value)) }

    mutating func encodeNil(forKey key: Key) throws { put(.null, key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { put(.bool(value), key) }
    mutating func encode(_ value: String, forKey key: Key) throws { put(.string(value), key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { put(try TreeEncoder.number(value, path: codingPath + [key]), key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { put(try TreeEncoder.number(Double(value), path: codingPath + [key]), key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { put(.int(Int64(value)), key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { put(.int(Int64(value)), key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { put(.int(Int64(value)), key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { put(.int(Int64(value)), key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { put(.int(value), key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { put(try TreeEncoder.integer(value, path: codingPath + [key]), key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { put(.int(Int64(value)), key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { put(.int(Int64(value)), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { put(.int(Int64(value)), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { put(try TreeEncoder.integer(value, path: codingPath + [key]), key) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { put(try TreeEncoder.box(value, path: codingPath + [key]), key) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let child = EncodingNode()
        node.set(key.stringValue, child)
        return TreeEncoder(node: child, codingPath: codingPath + [key]).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let child = EncodingNode()
        node.set(key.stringValue, child)
        return TreeEncoder(node: child, codingPath: codingPath + [key]).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        let child = EncodingNode()
        node.set("super", child)
        return TreeEncoder(node: child, codingPath: codingPath)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        let child = EncodingNode()
        node.set(key.stringValue, child)
        return TreeEncoder(node: child, codingPath: codingPath + [key])
    }
}

struct UnkeyedTreeContainer: UnkeyedEncodingContainer {
    let node: EncodingNode
    let codingPath: [any CodingKey]
    var count: Int { node.count }

    private var nextPath: [any CodingKey] { codingPath + [IndexKey(count)] }
    private func put(_ value: JSONValue) { node.append(EncodingNode(value)) }

    mutating func encodeNil() throws { put(.null) }
    mutating func encode(_ value: Bool) throws { put(.bool(value)) }
    mutating func encode(_ value: String) throws { put(.string(value)) }
    mutating func encode(_ value: Double) throws { put(try TreeEncoder.number(value, path: nextPath)) }
    mutating func encode(_ value: Float) throws { put(try TreeEncoder.number(Double(value), path: nextPath)) }
    mutating func encode(_ value: Int) throws { put(.int(Int64(value))) }
    mutating func encode(_ value: Int8) throws { put(.int(Int64(value))) }
    mutating func encode(_ value: Int16) throws { put(.int(Int64(value))) }
    mutating func encode(_ value: Int32) throws { put(.int(Int64(value))) }
    mutating func encode(_ value: Int64) throws { put(.int(value)) }
    mutating func encode(_ value: UInt) throws { put(try TreeEncoder.integer(value, path: nextPath)) }
    mutating func encode(_ value: UInt8) throws { put(.int(Int64(value))) }
    mutating func encode(_ value: UInt16) throws { put(.int(Int64(value))) }
    mutating func encode(_ value: UInt32) throws { put(.int(Int64(value))) }
    mutating func encode(_ value: UInt64) throws { put(try TreeEncoder.integer(value, path: nextPath)) }
    mutating func encode<T: Encodable>(_ value: T) throws { put(try TreeEncoder.box(value, path: nextPath)) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let path = nextPath
        let child = EncodingNode()
        node.append(child)
        return TreeEncoder(node: child, codingPath: path).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let path = nextPath
        let child = EncodingNode()
        node.append(child)
        return TreeEncoder(node: child, codingPath: path).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        let path = nextPath
        let child = EncodingNode()
        node.append(child)
        return TreeEncoder(node: child, codingPath: path)
    }
}

struct SingleTreeContainer: SingleValueEncodingContainer {
    let node: EncodingNode
    let codingPath: [any CodingKey]

    private func put(_ value: JSONValue) { node.content = .value(value) }

    mutating func encodeNil() throws { put(.null) }
    mutating func encode(_ value: Bool) throws { put(.bool(value)) }
    mutating func encode(_ value: String) throws { put(.string(value)) }
    mutating func encode(_ value: Double) throws { put(try TreeEncoder.number(value, path: codingPath)) }
    mutating func encode(_ value: Float) throws { put(try TreeEncoder.number(Double(value), path: codingPath)) }
    mutating func encode(_ value: Int) throws { put(.int(Int64(value))) }
    mutating func encode(_ value: Int8) throws { put(.int(Int64(value))) }
    mutating func encode(_ value: Int16) throws { put(.int(Int64(value))) }
    mutating func encode(_ value: Int32) throws { put(.int(Int64(value))) }
    mutating func encode(_ value: Int64) throws { put(.int(value)) }
    mutating func encode(_ value: UInt) throws { put(try TreeEncoder.integer(value, path: codingPath)) }
    mutating func encode(_ value: UInt8) throws { put(.int(Int64(value))) }
    mutating func encode(_ value: UInt16) throws { put(.int(Int64(value))) }
    mutating func encode(_ value: UInt32) throws { put(.int(Int64(value))) }
    mutating func encode(_ value: UInt64) throws { put(try TreeEncoder.integer(value, path: codingPath)) }
    mutating func encode<T: Encodable>(_ value: T) throws { put(try TreeEncoder.box(value, path: codingPath)) }
}

import Foundation

/// Decodes `Decodable` types directly from JSON bytes. A type that reads itself
/// (``JSONReadable``, as ``Pod`` and ``ObjectMeta`` do) is read in one forward pass by a
/// ``JSONReader``; any other goes through a Codable decoder that indexes an object's members by
/// scanning and materializes only those the type asks for. With ``discardUnknownFields``,
/// ``discardManagedFields`` and ``prunedFields`` this is the lean path for caches; without them
/// models keep every field, as with ``JSONValueDecoder``.
public struct JSONBytesDecoder: Sendable {
    /// Tell models to drop members they do not declare instead of keeping them. Defaults to false.
    public var discardUnknownFields = false
    /// Tell ``ObjectMeta`` to drop `managedFields`, which caches never read. Defaults to false.
    public var discardManagedFields = false
    /// Share repeated strings through this table (see ``JSONReader/sharedStrings``): for
    /// objects a cache keeps. Defaults to none.
    public var sharedStrings: SharedStrings?
    /// Members of each Kubernetes object to skip without building them, for models that read
    /// themselves (``JSONReadable``). Defaults to none.
    public var prunedFields: JSONPrunedFields?

    public init(discardUnknownFields: Bool = false, discardManagedFields: Bool = false, sharedStrings: SharedStrings? = nil, prunedFields: JSONPrunedFields? = nil) {
        self.discardUnknownFields = discardUnknownFields
        self.discardManagedFields = discardManagedFields
        self.sharedStrings = sharedStrings
        self.prunedFields = prunedFields
    }

    public func decode<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>) throws -> T {
        if T.self is any JSONReadable.Type {
            // Pruned paths start at an object's root; a list prunes each of its items.
            return try withReader(bytes) { reader in try reader.decode(T.self, asRoot: true) }
        }
        let options = ByteDecoderOptions(discardUnknownFields: discardUnknownFields, discardManagedFields: discardManagedFields, sharedStrings: sharedStrings)
        if let result = try bytes.withContiguousStorageIfAvailable({ buffer in try Self.decode(type, buffer, options) }) {
            return result
        }
        return try Array(bytes).withUnsafeBufferPointer { try Self.decode(type, $0, options) }
    }

    /// Runs `body` with a reader over `bytes` set up with these options.
    public func withReader<R>(_ bytes: some Collection<UInt8>, _ body: (inout JSONReader) throws -> R) throws -> R {
        try JSONReader.withReader(
            bytes, discardUnknownFields: discardUnknownFields, discardManagedFields: discardManagedFields,
            sharedStrings: sharedStrings, prunedFields: prunedFields, body)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ buffer: UnsafeBufferPointer<UInt8>, _ options: ByteDecoderOptions) throws -> T {
        let scanner = ByteScanner(bytes: buffer)
        let start = scanner.skipWhitespace(0)
        let end = try scanner.skipValue(start)
        guard scanner.skipWhitespace(end) == buffer.count else { throw JSONParseError(offset: end, reason: "unexpected data after the document") }
        return try ByteDecoder(scanner: scanner, start: start, end: end, options: options, path: nil).decode(type)
    }
}

extension CodingUserInfoKey {
    /// Set to `true` by a decoder that wants models to drop members they do not declare.
    public static let discardUnknownFields = key("executor.discardUnknownFields")
    /// Set to `true` by a decoder that wants ``ObjectMeta`` to drop `managedFields`.
    public static let discardManagedFields = key("executor.discardManagedFields")

    private static func key(_ name: String) -> CodingUserInfoKey {
        guard let key = CodingUserInfoKey(rawValue: name) else { preconditionFailure("invalid user info key \(name)") }
        return key
    }
}

struct ByteDecoderOptions {
    var userInfo: [CodingUserInfoKey: Any] {
        [.discardUnknownFields: discardUnknownFields, .discardManagedFields: discardManagedFields]
    }

    var discardUnknownFields: Bool
    var discardManagedFields: Bool
    var sharedStrings: SharedStrings?
}

/// Skips JSON values without building them.
struct ByteScanner {
    let bytes: UnsafeBufferPointer<UInt8>

    func skipWhitespace(_ i: Int) -> Int {
        var i = i
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
        return i
    }

    func fail(_ i: Int, _ reason: String) -> JSONParseError { JSONParseError(offset: i, reason: reason) }

    /// The index just past the string starting at `i` (which holds `"`).
    func skipString(_ i: Int) throws(JSONParseError) -> Int {
        try JSONReader(bytes).skipString(i)
    }

    /// The index just past the value starting at `i`.
    func skipValue(_ i: Int) throws(JSONParseError) -> Int {
        var reader = JSONReader(bytes)
        reader.offset = i
        try reader.skipValue()
        return reader.offset
    }

    /// A member of an object: where its key (without quotes) and value are.
    struct Member {
        var keyStart: Int
        var keyEnd: Int
        var keyEscaped: Bool
        var valueStart: Int
        var valueEnd: Int
    }

    func members(_ start: Int, _ end: Int) throws(JSONParseError) -> [Member] {
        var out: [Member] = []
        var i = skipWhitespace(start + 1)
        if i < end, bytes[i] == UInt8(ascii: "}") { return out }
        while i < end {
            guard bytes[i] == UInt8(ascii: "\"") else { throw fail(i, "expected a member name") }
            let keyStart = i + 1
            let afterKey = try skipString(i)
            var escaped = false
            for k in keyStart..<(afterKey - 1) where bytes[k] == UInt8(ascii: "\\") {
                escaped = true
                break
            }
            i = skipWhitespace(afterKey)
            guard i < end, bytes[i] == UInt8(ascii: ":") else { throw fail(i, "expected ':'") }
            let valueStart = skipWhitespace(i + 1)
            let valueEnd = try skipValue(valueStart)
            out.append(Member(keyStart: keyStart, keyEnd: afterKey - 1, keyEscaped: escaped, valueStart: valueStart, valueEnd: valueEnd))
            i = skipWhitespace(valueEnd)
            if i < end, bytes[i] == UInt8(ascii: ",") {
                i = skipWhitespace(i + 1)
            } else if i < end, bytes[i] == UInt8(ascii: "}") {
                return out
            } else {
                throw fail(i, "expected ',' or '}'")
            }
        }
        throw fail(i, "unterminated object")
    }

    func elements(_ start: Int, _ end: Int) throws(JSONParseError) -> [(Int, Int)] {
        var out: [(Int, Int)] = []
        var i = skipWhitespace(start + 1)
        if i < end, bytes[i] == UInt8(ascii: "]") { return out }
        while i < end {
            let valueEnd = try skipValue(i)
            out.append((i, valueEnd))
            i = skipWhitespace(valueEnd)
            if i < end, bytes[i] == UInt8(ascii: ",") {
                i = skipWhitespace(i + 1)
            } else if i < end, bytes[i] == UInt8(ascii: "]") {
                return out
            } else {
                throw fail(i, "expected ',' or ']'")
            }
        }
        throw fail(i, "unterminated array")
    }

    /// The key of a member as a String.
    func key(_ m: Member) throws(JSONParseError) -> String {
        if !m.keyEscaped {
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[m.keyStart..<m.keyEnd]), as: UTF8.self)
        }
        guard case .string(let s) = try value(m.keyStart - 1, m.keyEnd + 1) else { throw fail(m.keyStart, "invalid key") }
        return s
    }

    /// Whether a member's key equals `name`, comparing bytes.
    func keyEquals(_ m: Member, _ name: String) -> Bool {
        if m.keyEscaped { return (try? key(m)) == name }
        var name = name
        return name.withUTF8 { utf8 in
            guard utf8.count == m.keyEnd - m.keyStart else { return false }
            guard let a = utf8.baseAddress, let b = bytes.baseAddress else { return utf8.isEmpty }
            return memcmp(a, b + m.keyStart, utf8.count) == 0
        }
    }

    /// Parses the value in `start..<end` into a ``JSONValue``.
    func value(_ start: Int, _ end: Int) throws(JSONParseError) -> JSONValue {
        var parser = JSONByteParser(UnsafeBufferPointer(rebasing: bytes[start..<end]), maxDepth: 512)
        return try parser.parseDocument()
    }
}

struct ByteDecoder: Decoder, IntegerDecodingContainer {
    let scanner: ByteScanner
    let start: Int
    let end: Int
    let options: ByteDecoderOptions
    let path: PathNode?

    var codingPath: [any CodingKey] { PathNode.array(path) }
    var userInfo: [CodingUserInfoKey: Any] { options.userInfo }
    var first: UInt8 { scanner.bytes[start] }

    func mismatch(_ type: Any.Type) -> DecodingError {
        DecodingError.typeMismatch(type, .init(codingPath: codingPath, debugDescription: "expected \(type) at byte \(start)"))
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard first == UInt8(ascii: "{") else { throw mismatch([String: JSONValue].self) }
        return KeyedDecodingContainer(ByteKeyedContainer<Key>(decoder: self, members: try scanner.members(start, end)))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard first == UInt8(ascii: "[") else { throw mismatch([JSONValue].self) }
        return ByteUnkeyedContainer(decoder: self, elements: try scanner.elements(start, end))
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    func child(_ start: Int, _ end: Int, _ key: String) -> ByteDecoder {
        ByteDecoder(scanner: scanner, start: start, end: end, options: options, path: PathNode(parent: path, key: AnyCodingKey(stringValue: key)))
    }

    func decodeNil() -> Bool { first == UInt8(ascii: "n") }

    func decode(_ type: Bool.Type) throws -> Bool {
        switch first {
        case UInt8(ascii: "t"): return true
        case UInt8(ascii: "f"): return false
        default: throw mismatch(type)
        }
    }

    func decode(_ type: String.Type) throws -> String {
        guard first == UInt8(ascii: "\"") else { throw mismatch(type) }
        if let fast = plainString() { return fast }
        guard case .string(let s) = try scanner.value(start, end) else { throw mismatch(type) }
        return s
    }

    /// A string without escapes, straight from the bytes.
    func plainString() -> String? {
        let inner = scanner.bytes[(start + 1)..<(end - 1)]
        if inner.contains(UInt8(ascii: "\\")) { return nil }
        return String(decoding: UnsafeBufferPointer(rebasing: inner), as: UTF8.self)
    }

    func number() throws -> JSONValue {
        let v = try scanner.value(start, end)
        switch v {
        case .int, .double: return v
        default: throw mismatch(Double.self)
        }
    }

    func decode(_ type: Double.Type) throws -> Double {
        guard let d = try number().doubleValue else { throw mismatch(type) }
        return d
    }

    func integer<I: FixedWidthInteger>(_ type: I.Type) throws -> I {
        // Fast path: a plain decimal integer.
        var value: Int64 = 0
        var i = start
        let negative = first == UInt8(ascii: "-")
        if negative { i += 1 }
        var plain = i < end
        while i < end {
            let b = scanner.bytes[i]
            guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9"), value < Int64.max / 10 - 10 else { plain = false; break }
            value = value * 10 + Int64(b - UInt8(ascii: "0"))
            i += 1
        }
        if plain, let exact = I(exactly: negative ? -value : value) { return exact }
        guard let n = try number().intValue, let exact = I(exactly: n) else { throw mismatch(type) }
        return exact
    }


    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if type == JSONValue.self, let v = try scanner.value(start, end) as? T { return v }
        if type == String.self, let v = try decode(String.self) as? T { return v }
        if type == Data.self || type == Date.self, let v = try CodingLeaves.decode(type, from: decode(String.self), path: codingPath) { return v }
        return try T(from: self)
    }
}

struct ByteKeyedContainer<Key: CodingKey>: ForwardingKeyedContainer {
    let decoder: ByteDecoder
    let members: [ByteScanner.Member]

    var codingPath: [any CodingKey] { decoder.codingPath }
    var allKeys: [Key] { members.compactMap { (try? decoder.scanner.key($0)).flatMap(Key.init(stringValue:)) } }

    func find(_ key: Key) -> ByteScanner.Member? {
        let name = key.stringValue
        // The last occurrence wins, as in Go and in the tree parser.
        return members.last { decoder.scanner.keyEquals($0, name) }
    }

    func contains(_ key: Key) -> Bool { find(key) != nil }

    func child(_ key: Key) throws -> ByteDecoder {
        guard let m = find(key) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "no member \"\(key.stringValue)\""))
        }
        return decoder.child(m.valueStart, m.valueEnd, key.stringValue)
    }


    /// One lookup; `null` counts as absent, as in JSONDecoder.
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let m = find(key) else { return nil }
        let d = decoder.child(m.valueStart, m.valueEnd, key.stringValue)
        return d.decodeNil() ? nil : try d.decode(type)
    }

    func superDecoder() throws -> any Decoder { decoder }
}

struct ByteUnkeyedContainer: ForwardingUnkeyedContainer {
    let decoder: ByteDecoder
    let elements: [(Int, Int)]
    var currentIndex = 0

    init(decoder: ByteDecoder, elements: [(Int, Int)]) {
        self.decoder = decoder
        self.elements = elements
    }

    var codingPath: [any CodingKey] { decoder.codingPath }
    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    mutating func next() throws -> ByteDecoder {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(JSONValue.self, .init(codingPath: codingPath, debugDescription: "unkeyed container is at its end"))
        }
        defer { currentIndex += 1 }
        let (s, e) = elements[currentIndex]
        return decoder.child(s, e, String(currentIndex))
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, decoder.scanner.bytes[elements[currentIndex].0] == UInt8(ascii: "n") else { return false }
        currentIndex += 1
        return true
    }

}

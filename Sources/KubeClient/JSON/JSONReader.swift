import Foundation

/// A type that reads itself from JSON bytes with a ``JSONReader``, without Codable.
///
/// Codable reaches every member through existential containers and generic metadata, which on
/// the watch and list paths cost several times more than reading the bytes. A model that
/// conforms here decodes in one forward pass with statically dispatched calls. The Kubernetes
/// models on the hot path (``Pod`` and ``ObjectMeta`` with everything they hold) conform. A type
/// that is also `Decodable` gets an `init(from:)` that runs the same reader (the extension on
/// `Decodable` below; the compiler then synthesizes none), so its fields are listed once and
/// every `Decoder` still works.
///
/// ```swift
/// struct Port: JSONReadable {
///     var name: String?
///     var port: Int64 = 0
///     init(json: inout JSONReader) throws {
///         try json.readObject { key, value in
///             switch key {
///             case "name": name = try value.read()
///             case "port": port = try value.read()
///             default: break  // an unread member is skipped
///             }
///         }
///     }
/// }
/// ```
public protocol JSONReadable {
    /// Reads one value, consuming exactly that value from `json`.
    init(json: inout JSONReader) throws
}

extension Decodable where Self: JSONReadable {
    /// Decodes through ``JSONReader/decode(_:from:)``, so a readable model lists its fields once.
    public init(from decoder: any Decoder) throws { self = try JSONReader.decode(Self.self, from: decoder) }
}

/// A forward-only reader over one JSON document's UTF-8 bytes: the fast path under
/// ``JSONBytesDecoder`` and ``WatchEventDecoder``.
///
/// Each `read` consumes one value. Members a model does not read are skipped by scanning,
/// without building anything. The reader borrows the bytes it was given: use it only inside
/// the call that handed it to you.
public struct JSONReader {
    let bytes: UnsafeBufferPointer<UInt8>
    /// The offset of the next byte to read.
    public internal(set) var offset: Int
    /// Models should drop members they do not declare instead of keeping them.
    public var discardUnknownFields: Bool
    /// ``ObjectMeta`` should skip `managedFields`, which caches never read.
    public var discardManagedFields: Bool
    /// Strings and member names are shared through this table: for objects a cache keeps,
    /// which repeat timestamps, messages, keys and templates.
    public var sharedStrings: SharedStrings?
    /// Members skipped unread in each whole object; see ``readRootObject(_:)``.
    let prunedFields: JSONPrunedFields?
    /// Where the member being read is in ``prunedFields``, or `JSONPrunedFields.unpruned`.
    var pruneNode = JSONPrunedFields.unpruned
    var depth = 0
    static let maxDepth = 512

    init(
        _ bytes: UnsafeBufferPointer<UInt8>, discardUnknownFields: Bool = false, discardManagedFields: Bool = false,
        sharedStrings: SharedStrings? = nil, prunedFields: JSONPrunedFields? = nil
    ) {
        self.bytes = bytes
        self.offset = 0
        self.discardUnknownFields = discardUnknownFields
        self.discardManagedFields = discardManagedFields
        self.sharedStrings = sharedStrings
        self.prunedFields = prunedFields
    }

    /// Reads one whole document from `bytes` with `body`, rejecting anything after it.
    public static func withReader<R>(
        _ bytes: some Collection<UInt8>, discardUnknownFields: Bool = false, discardManagedFields: Bool = false,
        sharedStrings: SharedStrings? = nil, prunedFields: JSONPrunedFields? = nil, _ body: (inout JSONReader) throws -> R
    ) throws -> R {
        func run(_ buffer: UnsafeBufferPointer<UInt8>) throws -> R {
            var reader = JSONReader(
                buffer, discardUnknownFields: discardUnknownFields, discardManagedFields: discardManagedFields,
                sharedStrings: sharedStrings, prunedFields: prunedFields)
            let result = try body(&reader)
            try reader.expectEnd()
            return result
        }
        if let result = try bytes.withContiguousStorageIfAvailable(run) { return result }
        return try Array(bytes).withUnsafeBufferPointer(run)
    }

    /// Fails unless only whitespace is left.
    mutating func expectEnd() throws(JSONParseError) {
        skipWhitespace()
        if offset != bytes.count { throw fail("unexpected data after the document") }
    }

    /// An error at the reader's offset, for a model that finds a value it cannot accept; the
    /// reader adds the member path as the error passes up through ``readObject(_:)``.
    public func fail(_ reason: String) -> JSONParseError { JSONParseError(offset: offset, reason: reason) }

    @inline(__always) mutating func skipWhitespace() {
        while offset < bytes.count {
            switch bytes[offset] {
            case 0x20, 0x0A, 0x0D, 0x09: offset += 1
            default: return
            }
        }
    }

    /// The first byte of the next value, after whitespace.
    @inline(__always) mutating func peek() throws(JSONParseError) -> UInt8 {
        skipWhitespace()
        guard offset < bytes.count else { throw fail("unexpected end of input") }
        return bytes[offset]
    }

    func mismatch(_ expected: String, _ found: UInt8) -> JSONParseError {
        let what: String
        switch found {
        case UInt8(ascii: "{"): what = "an object"
        case UInt8(ascii: "["): what = "an array"
        case UInt8(ascii: "\""): what = "a string"
        case UInt8(ascii: "t"), UInt8(ascii: "f"): what = "a boolean"
        case UInt8(ascii: "n"): what = "null"
        default: what = "a number"
        }
        return fail("expected \(expected), found \(what)")
    }

    // MARK: Scalars

    /// Consumes a `null` and returns true, or leaves any other value unread and returns false.
    public mutating func readNull() throws(JSONParseError) -> Bool {
        guard try peek() == UInt8(ascii: "n") else { return false }
        try expectLiteral("null")
        return true
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        offset = try JSONByteParser.endOfLiteral(literal, in: bytes, at: offset)
    }

    public mutating func readBool() throws(JSONParseError) -> Bool {
        switch try peek() {
        case UInt8(ascii: "t"): try expectLiteral("true"); return true
        case UInt8(ascii: "f"): try expectLiteral("false"); return false
        case let other: throw mismatch("a boolean", other)
        }
    }

    public mutating func readString() throws(JSONParseError) -> String {
        let first = try peek()
        guard first == UInt8(ascii: "\"") else { throw mismatch("a string", first) }
        let start = offset + 1
        let i = Self.nextQuoteOrBackslash(bytes, from: start, stopAtControl: true)
        if i < bytes.count, bytes[i] == UInt8(ascii: "\"") {
            offset = i + 1
            let text = UnsafeBufferPointer(rebasing: bytes[start..<i])
            return sharedStrings?.string(text) ?? String(decoding: text, as: UTF8.self)
        }
        // Escapes or an error: the tree parser has the full rules.
        var parser = JSONByteParser(bytes, maxDepth: Self.maxDepth)
        parser.index = offset
        let s = try parser.parseString()
        offset = parser.index
        return s
    }

    /// An integer; a number with a fraction or exponent counts when its value is whole, as on
    /// the API server.
    public mutating func readInt64() throws(JSONParseError) -> Int64 {
        let first = try peek()
        guard first == UInt8(ascii: "-") || (first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9")) else {
            throw mismatch("an integer", first)
        }
        let start = offset
        let negative = first == UInt8(ascii: "-")
        var i = negative ? offset + 1 : offset
        var value: Int64 = 0
        let digitsStart = i
        while i < bytes.count, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9"), i - digitsStart < 18 {
            value = value * 10 + Int64(bytes[i] - UInt8(ascii: "0"))
            i += 1
        }
        let plainEnd = i == bytes.count || Self.endsNumber(bytes[i])
        if i > digitsStart, plainEnd {
            offset = i
            return negative ? -value : value
        }
        // Long, fractional or exponent forms.
        var parser = JSONByteParser(bytes, maxDepth: Self.maxDepth)
        parser.index = start
        let number = try parser.parseNumber()
        guard let integer = number.intValue else {
            offset = start
            throw fail("expected an integer, found \(number)")
        }
        offset = parser.index
        return integer
    }

    static func endsNumber(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x0A, 0x0D, 0x09: return true
        default: return false
        }
    }

    public mutating func readDouble() throws(JSONParseError) -> Double {
        let first = try peek()
        guard first == UInt8(ascii: "-") || (first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9")) else {
            throw mismatch("a number", first)
        }
        var parser = JSONByteParser(bytes, maxDepth: Self.maxDepth)
        parser.index = offset
        let number = try parser.parseNumber()
        offset = parser.index
        return number.doubleValue ?? 0
    }

    /// The next value as a tree.
    public mutating func readValue() throws(JSONParseError) -> JSONValue {
        skipWhitespace()
        var parser = JSONByteParser(bytes, maxDepth: Self.maxDepth - depth)
        parser.index = offset
        let value = try parser.parseValue()
        offset = parser.index
        return value
    }

    /// Skips the next value by scanning: strings and brackets are matched, nothing is built.
    public mutating func skipValue() throws(JSONParseError) {
        let first = try peek()
        switch first {
        case UInt8(ascii: "\""):
            offset = try skipString(offset)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            offset = try scanContainer(at: offset).end
        case UInt8(ascii: "t"): try expectLiteral("true")
        case UInt8(ascii: "f"): try expectLiteral("false")
        case UInt8(ascii: "n"): try expectLiteral("null")
        default:
            var i = offset
            while i < bytes.count, !Self.endsNumber(bytes[i]) { i += 1 }
            if i == offset { throw fail("unexpected character") }
            offset = i
        }
    }

    /// Skips the next value and returns where it was, for reading it later with ``subReader(_:)``.
    mutating func skipValueRange() throws(JSONParseError) -> (start: Int, end: Int) {
        skipWhitespace()
        let start = offset
        try skipValue()
        return (start, offset)
    }

    /// A reader over `range` of the same bytes, with the same options.
    func subReader(_ range: Range<Int>) -> JSONReader {
        JSONReader(
            UnsafeBufferPointer(rebasing: bytes[range]), discardUnknownFields: discardUnknownFields,
            discardManagedFields: discardManagedFields, sharedStrings: sharedStrings, prunedFields: prunedFields)
    }

    /// The offset just past the string that starts at `i` (which holds `"`).
    func skipString(_ i: Int) throws(JSONParseError) -> Int {
        var j = i + 1
        while true {
            j = Self.nextQuoteOrBackslash(bytes, from: j, stopAtControl: false)
            guard j < bytes.count else { break }
            if bytes[j] == UInt8(ascii: "\"") { return j + 1 }
            j += 2  // an escape: the next byte cannot end the string
        }
        throw JSONParseError(offset: i, reason: "unterminated string")
    }

    /// The offset of the first `"` or `\\` (or, with `stopAtControl`, control character) at
    /// or after `i`, or `bytes.count`. Looks at eight bytes per step: string contents are most
    /// of a Kubernetes object, and this loop is what skipping and reading them cost.
    @inline(__always)
    static func nextQuoteOrBackslash(_ bytes: UnsafeBufferPointer<UInt8>, from i: Int, stopAtControl: Bool) -> Int {
        var i = i
        let count = bytes.count
        if let base = bytes.baseAddress {
            let ones: UInt64 = 0x0101_0101_0101_0101
            let highs: UInt64 = 0x8080_8080_8080_8080
            while i + 8 <= count {
                let word = UInt64(littleEndian: UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self))
                let quote = word ^ (ones &* 0x22)
                let backslash = word ^ (ones &* 0x5C)
                // A byte is zero in `quote` or `backslash`, or below 0x20 in `word`: the classic
                // "has zero byte" test; the lowest flagged byte is always a true match.
                var found = ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash)
                if stopAtControl { found |= (word &- ones &* 0x20) & ~word }
                found &= highs
                if found != 0 { return i + found.trailingZeroBitCount >> 3 }
                i += 8
            }
        }
        while i < count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") || (stopAtControl && b < 0x20) { return i }
            i += 1
        }
        return count
    }

    // MARK: Containers

    /// Calls `body` with each member of the next object, in document order, and the reader
    /// positioned on the member's value. A value `body` leaves unread is skipped.
    public mutating func readObject(_ body: (JSONKey, inout JSONReader) throws -> Void) throws {
        let first = try peek()
        guard first == UInt8(ascii: "{") else { throw mismatch("an object", first) }
        try enter()
        offset += 1
        if try peek() == UInt8(ascii: "}") {
            offset += 1
            depth -= 1
            return
        }
        let parentNode = pruneNode
        while true {
            guard try peek() == UInt8(ascii: "\"") else { throw fail("expected a member name") }
            let keyStart = offset + 1
            var escaped = false
            var i = Self.nextQuoteOrBackslash(bytes, from: keyStart, stopAtControl: false)
            while i < bytes.count, bytes[i] == UInt8(ascii: "\\") {
                escaped = true
                i = Self.nextQuoteOrBackslash(bytes, from: i + 2, stopAtControl: false)
            }
            guard i < bytes.count else { throw fail("unterminated member name") }
            let key = JSONKey(bytes: UnsafeBufferPointer(rebasing: bytes[keyStart..<i]), escaped: escaped)
            offset = i + 1
            guard try peek() == UInt8(ascii: ":") else { throw fail("expected ':'") }
            offset += 1
            skipWhitespace()
            let valueStart = offset
            if parentNode != JSONPrunedFields.unpruned, let prunedFields {
                pruneNode = prunedFields.child(of: parentNode, named: key)
            }
            if pruneNode != JSONPrunedFields.skip {
                do {
                    try body(key, &self)
                } catch var error as JSONParseError {
                    error.path.insert(key.string, at: 0)
                    throw error
                }
            }
            pruneNode = parentNode
            if offset == valueStart { try skipValue() }
            switch try peek() {
            case UInt8(ascii: ","): offset += 1
            case UInt8(ascii: "}"):
                offset += 1
                depth -= 1
                return
            default: throw fail("expected ',' or '}'")
            }
        }
    }

    /// Calls `body` once per element of the next array, with the reader on the element.
    public mutating func readArray(_ body: (inout JSONReader) throws -> Void) throws {
        let first = try peek()
        guard first == UInt8(ascii: "[") else { throw mismatch("an array", first) }
        try enter()
        offset += 1
        if try peek() == UInt8(ascii: "]") {
            offset += 1
            depth -= 1
            return
        }
        var index = 0
        while true {
            let elementStart = offset
            do {
                try body(&self)
            } catch var error as JSONParseError {
                error.path.insert(String(index), at: 0)
                throw error
            }
            if offset == elementStart { try skipValue() }
            index += 1
            switch try peek() {
            case UInt8(ascii: ","): offset += 1
            case UInt8(ascii: "]"):
                offset += 1
                depth -= 1
                return
            default: throw fail("expected ',' or ']'")
            }
        }
    }

    /// How many members or elements the object or array at the reader holds, found by a scan
    /// that builds nothing; the reader does not move. A dictionary is then allocated once at
    /// its final size: growing it rehashes every key at each doubling, and leaves up to half
    /// its capacity unused in a cache.
    func countMembers() -> Int {
        var i = offset
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
        guard i < bytes.count, bytes[i] == UInt8(ascii: "{") || bytes[i] == UInt8(ascii: "[") else { return 0 }
        return (try? scanContainer(at: i).members) ?? 0
    }

    /// Where the object or array starting at `i` ends, and how many members or elements it
    /// holds: strings and brackets are matched, nothing is built. Skipping and counting share it.
    func scanContainer(at i: Int) throws(JSONParseError) -> (end: Int, members: Int) {
        var nesting = 0
        var commas = 0
        var empty = true
        var j = i
        while j < bytes.count {
            switch bytes[j] {
            case UInt8(ascii: "\""):
                empty = false
                j = try skipString(j)
                continue
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                if nesting > 0 { empty = false }
                nesting += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                nesting -= 1
                if nesting == 0 { return (j + 1, empty ? 0 : commas + 1) }
            case UInt8(ascii: ","):
                if nesting == 1 { commas += 1 }
            case 0x20, 0x0A, 0x0D, 0x09:
                break
            default:
                empty = false
            }
            j += 1
        }
        throw JSONParseError(offset: i, reason: "unterminated object or array")
    }

    mutating func enter() throws(JSONParseError) {
        depth += 1
        if depth > Self.maxDepth { throw fail("nesting deeper than \(Self.maxDepth)") }
    }

    // MARK: Typed values

    /// Reads a whole Kubernetes object (the object of a watch event, an item of a list): the
    /// decoder's pruned fields apply from its root.
    public mutating func readRootObject<T: JSONReadable>(_ type: T.Type = T.self) throws -> T {
        let saved = pruneNode
        pruneNode = prunedFields == nil ? JSONPrunedFields.unpruned : 0
        defer { pruneNode = saved }
        return try T(json: &self)
    }

    /// Reads the next value as `T`.
    public mutating func read<T: JSONReadable>(_ type: T.Type = T.self) throws -> T {
        try T(json: &self)
    }

    /// Reads the next value as `T`, its strings shared through `table` in place of
    /// ``sharedStrings`` when this reader shares strings at all (it decodes for a cache): for
    /// long values that repeat whole, past ``sharedStrings``' length limit.
    public mutating func read<T: JSONReadable>(_ type: T.Type = T.self, sharingThrough table: SharedStrings) throws -> T {
        guard let own = sharedStrings else { return try T(json: &self) }
        sharedStrings = table
        defer { sharedStrings = own }
        return try T(json: &self)
    }

    /// Reads the next value through `Decodable`, for types that do not read themselves.
    public mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try decode(type, asRoot: false)
    }

    /// Reads the next value as `T`: through ``JSONReadable`` when `T` reads itself, through
    /// `Decodable` otherwise. With `asRoot`, a Kubernetes object is read from its root, so
    /// pruned fields apply: the object of a watch event, a whole response.
    mutating func decode<T: Decodable>(_ type: T.Type, asRoot: Bool) throws -> T {
        if asRoot, let object = T.self as? any (KubernetesObject & JSONReadable).Type {
            return try read(opened: object, as: T.self, asRoot: true)
        }
        if let readable = T.self as? any JSONReadable.Type {
            return try read(opened: readable, as: T.self, asRoot: false)
        }
        skipWhitespace()
        let start = offset
        try skipValue()
        let options = ByteDecoderOptions(discardUnknownFields: discardUnknownFields, discardManagedFields: discardManagedFields, sharedStrings: sharedStrings)
        let scanner = ByteScanner(bytes: bytes)
        return try ByteDecoder(scanner: scanner, start: start, end: offset, options: options, path: nil).decode(type)
    }

    /// Reads `R`, which is `T` at run time, without boxing it in an existential on the way:
    /// a box would copy the whole value and retain everything it holds.
    private mutating func read<R: JSONReadable, T>(opened type: R.Type, as: T.Type, asRoot: Bool) throws -> T {
        let value = asRoot ? try readRootObject(R.self) : try R(json: &self)
        guard let typed = value as? T else { throw fail("cannot read \(T.self)") }
        return typed
    }

    /// Keeps the member `key`'s value in `fields`, unless ``discardUnknownFields`` is set; the
    /// `default:` case of a model that keeps what it does not declare.
    public mutating func keepUnknown(_ key: JSONKey, in fields: inout [String: JSONValue]) throws {
        if discardUnknownFields {
            try skipValue()
        } else {
            fields[key.string] = try readValue()
        }
    }

    /// The value of a required member, or an error naming it.
    public func required<T>(_ value: T?, _ name: String) throws(JSONParseError) -> T {
        guard let value else { throw fail("missing required member \"\(name)\"") }
        return value
    }

    /// Reads the value a `Decoder` holds as `T`: straight from the bytes under
    /// ``JSONBytesDecoder``, through a ``JSONValue`` under any other decoder: the `init(from:)`
    /// of every readable model.
    public static func decode<T: JSONReadable>(_ type: T.Type, from decoder: any Decoder) throws -> T {
        if let bytesDecoder = decoder as? ByteDecoder {
            var reader = JSONReader(
                UnsafeBufferPointer(rebasing: bytesDecoder.scanner.bytes[bytesDecoder.start..<bytesDecoder.end]),
                discardUnknownFields: bytesDecoder.options.discardUnknownFields,
                discardManagedFields: bytesDecoder.options.discardManagedFields,
                sharedStrings: bytesDecoder.options.sharedStrings)
            return try T(json: &reader)
        }
        let value = try JSONValue(from: decoder)
        return try withReader(
            value.serialized(),
            discardUnknownFields: decoder.userInfo[.discardUnknownFields] as? Bool == true,
            discardManagedFields: decoder.userInfo[.discardManagedFields] as? Bool == true
        ) { reader in try T(json: &reader) }
    }
}

/// A member name as it appears in the bytes; match it against literals in a `switch`.
public struct JSONKey: CustomStringConvertible {
    let bytes: UnsafeBufferPointer<UInt8>
    let escaped: Bool

    /// The name as a string, escapes resolved.
    public var string: String {
        if !escaped { return String(decoding: bytes, as: UTF8.self) }
        var quoted: [UInt8] = [UInt8(ascii: "\"")]
        quoted.append(contentsOf: bytes)
        quoted.append(UInt8(ascii: "\""))
        return (try? JSONValue.parse(quoted))?.stringValue ?? String(decoding: bytes, as: UTF8.self)
    }

    public var description: String { string }

    @inline(__always)
    public static func == (key: JSONKey, name: StaticString) -> Bool {
        if key.escaped { return key.escapedEquals(UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount)) }
        let count = name.utf8CodeUnitCount
        guard key.bytes.count == count else { return false }
        // Member names are short: a byte loop beats calling memcmp, and a `switch` over many
        // names runs this once per case whose length matches.
        let literal = name.utf8Start
        for i in 0..<count where key.bytes[i] != literal[i] { return false }
        return true
    }

    @inline(never)
    func escapedEquals(_ name: some Collection<UInt8>) -> Bool {
        string.utf8.elementsEqual(name)
    }

    /// Whether the name is `name`'s UTF-8 bytes.
    @inline(__always)
    func equals(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        if escaped { return escapedEquals(name) }
        guard bytes.count == name.count else { return false }
        for i in 0..<name.count where bytes[i] != name[i] { return false }
        return true
    }

    @inline(__always)
    public static func ~= (name: StaticString, key: JSONKey) -> Bool { key == name }
}

// MARK: - Conformances of the standard types

extension String: JSONReadable {
    public init(json: inout JSONReader) throws { self = try json.readString() }
}

extension Bool: JSONReadable {
    public init(json: inout JSONReader) throws { self = try json.readBool() }
}

extension Int64: JSONReadable {
    public init(json: inout JSONReader) throws { self = try json.readInt64() }
}

extension Int: JSONReadable {
    public init(json: inout JSONReader) throws { self = Int(try json.readInt64()) }
}

extension Int32: JSONReadable {
    public init(json: inout JSONReader) throws {
        let wide = try json.readInt64()
        guard let narrow = Int32(exactly: wide) else { throw json.fail("\(wide) does not fit in a 32-bit integer") }
        self = narrow
    }
}

extension Double: JSONReadable {
    public init(json: inout JSONReader) throws { self = try json.readDouble() }
}

extension JSONValue: JSONReadable {
    public init(json: inout JSONReader) throws { self = try json.readValue() }
}

extension Optional: JSONReadable where Wrapped: JSONReadable {
    /// `null` reads as `nil`, as `decodeIfPresent` does.
    public init(json: inout JSONReader) throws {
        self = try json.readNull() ? nil : try Wrapped(json: &json)
    }
}

extension Array: JSONReadable where Element: JSONReadable {
    public init(json: inout JSONReader) throws {
        // No count first: growing an array copies without rehashing, and counting would scan
        // every element twice (most arrays in an object hold one large element).
        var items: [Element] = []
        try json.readArray { element in items.append(try Element(json: &element)) }
        self = items
    }
}

extension Dictionary: JSONReadable where Key == String, Value: JSONReadable {
    public init(json: inout JSONReader) throws {
        var members = [String: Value](minimumCapacity: json.countMembers())
        try json.readObject { key, value in
            let name = key.escaped ? key.string : value.sharedStrings?.string(key.bytes) ?? key.string
            members[name] = try Value(json: &value)
        }
        self = members
    }
}

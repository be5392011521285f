import Foundation

/// Encodes `Encodable` values straight to compact JSON bytes, as ``JSONValueEncoder`` followed
/// by ``JSONValue/serialized(sortedKeys:)`` would, without building the tree in between: the
/// client's typed bodies (create, update, ``Patch/merge(encoding:)``) go through here, and the
/// tree (a node per value, a dictionary per object) cost about as much again as the bytes.
///
/// The bytes are written as the value's `encode(to:)` hands values over, which works for the
/// order synthesized `Codable` conformances use: each container filled before the next value of
/// its parent, and a second keyed container on one encoder while its object is open (how the
/// models write their unknown members). A conformance that goes back to a container it left,
/// writes a member name twice or one single value twice is encoded again through the tree, so
/// the result never depends on the order. Members come out in the order they were encoded.
///
/// Leaves follow ``JSONValueEncoder``: `Data` as base64, `Date` as RFC 3339, `URL` as its
/// string, integers as integers, non-finite numbers refused.
public struct JSONBytesEncoder: Sendable {
    public init() {}

    public func encode(_ value: some Encodable) throws -> [UInt8] {
        try Self.encode(value, stamping: nil)
    }

    /// - Parameter stamping: `apiVersion` and `kind` for the top-level object where it has
    ///   none or an empty one (``KubernetesClient``'s bodies).
    static func encode(_ value: some Encodable, stamping: (apiVersion: String, kind: String)?) throws -> [UInt8] {
        let writer = StreamWriter(stamping: stamping)
        try writer.write(value, path: [])
        writer.closeAll()
        if !writer.outOfOrder { return writer.out }
        var tree = try JSONValueEncoder().encode(value)
        if let stamping, case .object = tree {
            if tree["apiVersion"]?.stringValue?.isEmpty ?? true { tree["apiVersion"] = .string(stamping.apiVersion) }
            if tree["kind"]?.stringValue?.isEmpty ?? true { tree["kind"] = .string(stamping.kind) }
        }
        return tree.serialized()
    }
}

/// The output and the containers still open, innermost last.
final class StreamWriter {
    struct Frame {
        var isObject: Bool
        /// Members or items written so far.
        var count = 0
        /// Which container this is: a container whose frame is gone (or replaced) is closed.
        var serial: Int
        /// The top-level object's `apiVersion` and `kind` written yet (stamping only).
        var stamped: (apiVersion: Bool, kind: Bool) = (false, false)
        /// The encoder position this container was opened for.
        var slot: Int
        /// An object's key type, for a second keyed container asked of the same encoder
        /// (``reopen(slot:)``); nil once that has happened.
        var keyType: (any CodingKey.Type)?
    }

    var out: [UInt8] = []
    var frames: [Frame] = []
    /// The position a value is awaited at: set when an encoder is handed out for a value,
    /// cleared when that value starts. Nil when the next write opens no value.
    var awaited: Int?
    private var serials = 0
    /// Set when a conformance used its containers out of order; the caller then encodes again
    /// through the tree, and everything written is ignored.
    var outOfOrder = false
    let stamping: (apiVersion: String, kind: String)?

    init(stamping: (apiVersion: String, kind: String)?) {
        self.stamping = stamping
        out.reserveCapacity(1024)
    }

    func nextSerial() -> Int {
        serials += 1
        return serials
    }

    // MARK: Values

    /// Writes `value` at the current position (after a `"key":`, a `,` or at the start).
    func write<T: Encodable>(_ value: T, path: @autoclosure () -> [any CodingKey]) throws {
        switch value {
        case let v as String: JSONValue.writeString(v, to: &out)
        case let v as Bool: writeBool(v)
        case let v as Int: writeInteger(Int64(v))
        case let v as Int64: writeInteger(v)
        case let v as Int32: writeInteger(Int64(v))
        case let v as Double: try writeDouble(v, path: path())
        case let v as JSONValue: v.write(to: &out)
        case let v as Data: JSONValue.writeString(v.base64EncodedString(), to: &out)
        case let v as Date: JSONValue.writeString(KubeTime.format(v), to: &out)
        case let v as URL: JSONValue.writeString(v.absoluteString, to: &out)
        default:
            let depth = frames.count
            let slot = nextSerial()
            awaited = slot
            try value.encode(to: StreamEncoder(writer: self, codingPath: path(), slot: slot))
            // An encoder asked for nothing: the tree makes that an empty object.
            if awaited == slot {
                awaited = nil
                out.append(contentsOf: "{}".utf8)
            }
            close(downTo: depth)
        }
    }

    func writeBool(_ value: Bool) { out.append(contentsOf: (value ? "true" : "false").utf8) }

    func writeNull() { out.append(contentsOf: "null".utf8) }

    func writeInteger(_ value: Int64) {
        // Up to 15 digits a String keeps inline: no allocation.
        out.append(contentsOf: String(value).utf8)
    }

    func writeDouble(_ value: Double, path: [any CodingKey]) throws {
        // The tree's rule for numbers, then its serializer's form for them.
        try TreeEncoder.number(value, path: path).write(to: &out)
    }

    func writeUnsigned<T: BinaryInteger>(_ value: T, path: [any CodingKey]) throws {
        try TreeEncoder.integer(value, path: path).write(to: &out)
    }

    // MARK: Containers

    /// Opens a container at the awaited position `slot`; nil (and out of order) otherwise.
    func open(isObject: Bool, slot: Int, keyType: (any CodingKey.Type)? = nil) -> Int? {
        guard !outOfOrder, awaited == slot else {
            outOfOrder = true
            return nil
        }
        awaited = nil
        out.append(isObject ? UInt8(ascii: "{") : UInt8(ascii: "["))
        let serial = nextSerial()
        frames.append(Frame(isObject: isObject, serial: serial, slot: slot, keyType: keyType))
        return serial
    }

    /// A second keyed container asked of the encoder at `slot` whose object is still open (the
    /// models' unknown members are written so): the same object goes on, its inner containers
    /// closed. Returns its serial, depth and the first container's key type, whose names the
    /// second must not write again (the tree would keep the later value; JSON must not repeat a
    /// member). Nil, and out of order, for anything else.
    func reopen(slot: Int) -> (serial: Int, depth: Int, firstKeys: any CodingKey.Type)? {
        guard !outOfOrder, let depth = frames.lastIndex(where: { $0.slot == slot }), frames[depth].isObject, let keys = frames[depth].keyType else {
            outOfOrder = true
            return nil
        }
        close(downTo: depth + 1)
        frames[depth].keyType = nil
        return (frames[depth].serial, depth, keys)
    }

    /// Makes the container `serial` at `depth` the innermost again (closing the ones inside
    /// it) and starts its next member or item: false if it was closed already.
    func resume(_ serial: Int, depth: Int) -> Bool {
        guard !outOfOrder, depth >= 0, depth < frames.count, frames[depth].serial == serial else {
            outOfOrder = true
            return false
        }
        fillAwaited()
        close(downTo: depth + 1)
        if frames[depth].count > 0 { out.append(UInt8(ascii: ",")) }
        frames[depth].count += 1
        return true
    }

    /// A position handed out (a super encoder) and never written: the tree's empty object.
    func fillAwaited() {
        if awaited != nil {
            awaited = nil
            out.append(contentsOf: "{}".utf8)
        }
    }

    func close(downTo depth: Int) {
        fillAwaited()
        while frames.count > depth {
            let frame = frames.removeLast()
            if frame.isObject {
                if frames.isEmpty, let stamping {
                    if !frame.stamped.apiVersion { appendMember("apiVersion", stamping.apiVersion, after: frame.count) }
                    if !frame.stamped.kind { appendMember("kind", stamping.kind, after: frame.count + (frame.stamped.apiVersion ? 0 : 1)) }
                }
                out.append(UInt8(ascii: "}"))
            } else {
                out.append(UInt8(ascii: "]"))
            }
        }
    }

    private func appendMember(_ key: String, _ value: String, after count: Int) {
        if count > 0 { out.append(UInt8(ascii: ",")) }
        JSONValue.writeString(key, to: &out)
        out.append(UInt8(ascii: ":"))
        JSONValue.writeString(value, to: &out)
    }

    func closeAll() { close(downTo: 0) }

    /// For a member of the top-level object: the stamp to write instead of `value` when the
    /// member is `apiVersion` or `kind` and `value` is not a non-empty string.
    func stamp(for key: String, depth: Int, value: Any?) -> String? {
        guard depth == 0, let stamping else { return nil }
        let replacement: String
        switch key {
        case "apiVersion":
            frames[0].stamped.apiVersion = true
            replacement = stamping.apiVersion
        case "kind":
            frames[0].stamped.kind = true
            replacement = stamping.kind
        default:
            return nil
        }
        if let string = value as? String, !string.isEmpty { return nil }
        return replacement
    }
}

/// The encoder of one value position.
struct StreamEncoder: Encoder {
    let writer: StreamWriter
    let codingPath: [any CodingKey]
    let slot: Int
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if writer.awaited != slot, !writer.outOfOrder, let (serial, depth, firstKeys) = writer.reopen(slot: slot) {
            return KeyedEncodingContainer(StreamKeyedContainer<Key>(writer: writer, codingPath: codingPath, serial: serial, depth: depth, taken: firstKeys))
        }
        let serial = writer.open(isObject: true, slot: slot, keyType: type) ?? -1
        return KeyedEncodingContainer(StreamKeyedContainer<Key>(writer: writer, codingPath: codingPath, serial: serial, depth: writer.frames.count - 1))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let serial = writer.open(isObject: false, slot: slot) ?? -1
        return StreamUnkeyedContainer(writer: writer, codingPath: codingPath, serial: serial, depth: writer.frames.count - 1)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        StreamSingleValueContainer(writer: writer, codingPath: codingPath, slot: slot)
    }
}

struct StreamKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let writer: StreamWriter
    let codingPath: [any CodingKey]
    let serial: Int
    let depth: Int
    /// For a second container on one object: the first one's keys, which may be written already.
    var taken: (any CodingKey.Type)? = nil

    /// Starts the member `key`; false when the container is no longer the one being written.
    private func begin(_ key: Key, value: Any? = nil) -> Bool { begin(named: key.stringValue, value: value) }

    private func begin(named name: String, value: Any? = nil) -> Bool {
        if let taken, taken.init(stringValue: name) != nil {
            writer.outOfOrder = true
            return false
        }
        guard writer.resume(serial, depth: depth) else { return false }
        JSONValue.writeString(name, to: &writer.out)
        writer.out.append(UInt8(ascii: ":"))
        if let stamp = writer.stamp(for: name, depth: depth, value: value) {
            JSONValue.writeString(stamp, to: &writer.out)
            return false
        }
        return true
    }

    mutating func encodeNil(forKey key: Key) throws { if begin(key) { writer.writeNull() } }
    mutating func encode(_ value: Bool, forKey key: Key) throws { if begin(key) { writer.writeBool(value) } }
    mutating func encode(_ value: String, forKey key: Key) throws { if begin(key, value: value) { JSONValue.writeString(value, to: &writer.out) } }
    mutating func encode(_ value: Double, forKey key: Key) throws { if begin(key) { try writer.writeDouble(value, path: codingPath + [key]) } }
    mutating func encode(_ value: Float, forKey key: Key) throws { if begin(key) { try writer.writeDouble(Double(value), path: codingPath + [key]) } }
    mutating func encode(_ value: Int, forKey key: Key) throws { if begin(key) { writer.writeInteger(Int64(value)) } }
    mutating func encode(_ value: Int8, forKey key: Key) throws { if begin(key) { writer.writeInteger(Int64(value)) } }
    mutating func encode(_ value: Int16, forKey key: Key) throws { if begin(key) { writer.writeInteger(Int64(value)) } }
    mutating func encode(_ value: Int32, forKey key: Key) throws { if begin(key) { writer.writeInteger(Int64(value)) } }
    mutating func encode(_ value: Int64, forKey key: Key) throws { if begin(key) { writer.writeInteger(value) } }
    mutating func encode(_ value: UInt, forKey key: Key) throws { if begin(key) { try writer.writeUnsigned(value, path: codingPath + [key]) } }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { if begin(key) { writer.writeInteger(Int64(value)) } }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { if begin(key) { writer.writeInteger(Int64(value)) } }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { if begin(key) { writer.writeInteger(Int64(value)) } }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { if begin(key) { try writer.writeUnsigned(value, path: codingPath + [key]) } }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        if begin(key, value: value) { try writer.write(value, path: codingPath + [key]) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        superEncoder(forKey: key).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        superEncoder(forKey: key).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        // As the tree encoder: a member named `super`, whatever the key type allows.
        let slot = writer.nextSerial()
        if begin(named: "super") { writer.awaited = slot }
        return StreamEncoder(writer: writer, codingPath: codingPath, slot: slot)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        // Out of order: the encoder's slot is never awaited, so everything it is asked is too.
        let slot = writer.nextSerial()
        if begin(key) { writer.awaited = slot }
        return StreamEncoder(writer: writer, codingPath: codingPath + [key], slot: slot)
    }
}

struct StreamUnkeyedContainer: UnkeyedEncodingContainer {
    let writer: StreamWriter
    let codingPath: [any CodingKey]
    let serial: Int
    let depth: Int
    private(set) var count = 0

    init(writer: StreamWriter, codingPath: [any CodingKey], serial: Int, depth: Int) {
        self.writer = writer
        self.codingPath = codingPath
        self.serial = serial
        self.depth = depth
    }

    private var nextPath: [any CodingKey] { codingPath + [IndexKey(count)] }

    private mutating func begin() -> Bool {
        guard writer.resume(serial, depth: depth) else { return false }
        count += 1
        return true
    }

    mutating func encodeNil() throws { if begin() { writer.writeNull() } }
    mutating func encode(_ value: Bool) throws { if begin() { writer.writeBool(value) } }
    mutating func encode(_ value: String) throws { if begin() { JSONValue.writeString(value, to: &writer.out) } }
    mutating func encode(_ value: Double) throws { let path = nextPath; if begin() { try writer.writeDouble(value, path: path) } }
    mutating func encode(_ value: Float) throws { let path = nextPath; if begin() { try writer.writeDouble(Double(value), path: path) } }
    mutating func encode(_ value: Int) throws { if begin() { writer.writeInteger(Int64(value)) } }
    mutating func encode(_ value: Int8) throws { if begin() { writer.writeInteger(Int64(value)) } }
    mutating func encode(_ value: Int16) throws { if begin() { writer.writeInteger(Int64(value)) } }
    mutating func encode(_ value: Int32) throws { if begin() { writer.writeInteger(Int64(value)) } }
    mutating func encode(_ value: Int64) throws { if begin() { writer.writeInteger(value) } }
    mutating func encode(_ value: UInt) throws { let path = nextPath; if begin() { try writer.writeUnsigned(value, path: path) } }
    mutating func encode(_ value: UInt8) throws { if begin() { writer.writeInteger(Int64(value)) } }
    mutating func encode(_ value: UInt16) throws { if begin() { writer.writeInteger(Int64(value)) } }
    mutating func encode(_ value: UInt32) throws { if begin() { writer.writeInteger(Int64(value)) } }
    mutating func encode(_ value: UInt64) throws { let path = nextPath; if begin() { try writer.writeUnsigned(value, path: path) } }
    mutating func encode<T: Encodable>(_ value: T) throws {
        let index = count
        if begin() { try writer.write(value, path: codingPath + [IndexKey(index)]) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        superEncoder().container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        superEncoder().unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        let path = nextPath
        let slot = writer.nextSerial()
        if begin() { writer.awaited = slot }
        return StreamEncoder(writer: writer, codingPath: path, slot: slot)
    }
}

struct StreamSingleValueContainer: SingleValueEncodingContainer {
    let writer: StreamWriter
    let codingPath: [any CodingKey]
    let slot: Int

    /// Takes the awaited position; false when it was taken already (a second value).
    private func begin() -> Bool {
        guard !writer.outOfOrder, writer.awaited == slot else {
            writer.outOfOrder = true
            return false
        }
        writer.awaited = nil
        return true
    }

    mutating func encodeNil() throws { if begin() { writer.writeNull() } }
    mutating func encode(_ value: Bool) throws { if begin() { writer.writeBool(value) } }
    mutating func encode(_ value: String) throws { if begin() { JSONValue.writeString(value, to: &writer.out) } }
    mutating func encode(_ value: Double) throws { if begin() { try writer.writeDouble(value, path: codingPath) } }
    mutating func encode(_ value: Float) throws { if begin() { try writer.writeDouble(Double(value), path: codingPath) } }
    mutating func encode(_ value: Int) throws { if begin() { writer.writeInteger(Int64(value)) } }
    mutating func encode(_ value: Int8) throws { if begin() { writer.writeInteger(Int64(value)) } }
    mutating func encode(_ value: Int16) throws { if begin() { writer.writeInteger(Int64(value)) } }
    mutating func encode(_ value: Int32) throws { if begin() { writer.writeInteger(Int64(value)) } }
    mutating func encode(_ value: Int64) throws { if begin() { writer.writeInteger(value) } }
    mutating func encode(_ value: UInt) throws { if begin() { try writer.writeUnsigned(value, path: codingPath) } }
    mutating func encode(_ value: UInt8) throws { if begin() { writer.writeInteger(Int64(value)) } }
    mutating func encode(_ value: UInt16) throws { if begin() { writer.writeInteger(Int64(value)) } }
    mutating func encode(_ value: UInt32) throws { if begin() { writer.writeInteger(Int64(value)) } }
    mutating func encode(_ value: UInt64) throws { if begin() { try writer.writeUnsigned(value, path: codingPath) } }
    mutating func encode<T: Encodable>(_ value: T) throws {
        if begin() { try writer.write(value, path: codingPath) }
    }
}

/// A coding key for any member name: used to read and write the members a typed model does
/// not declare, so that an object written back keeps every field it was read with.
public struct AnyCodingKey: CodingKey, Hashable, Sendable, ExpressibleByStringLiteral {
    public var stringValue: String
    public var intValue: Int? { nil }
    public init(stringValue: String) { self.stringValue = stringValue }
    public init?(intValue: Int) { return nil }
    public init(stringLiteral value: String) { self.stringValue = value }
}

extension Decoder {
    /// The members of the current object whose names are not among `known`.
    ///
    /// Typed models call this at the end of `init(from:)` and keep the result, then hand it
    /// back to ``Swift/Encoder/encodeUnknownFields(_:)``, so fields added by newer API
    /// versions or other controllers survive a read-modify-write.
    public func unknownFields<Keys: CodingKey & CaseIterable>(besides known: Keys.Type) throws -> [String: JSONValue] {
        if userInfo[.discardUnknownFields] as? Bool == true { return [:] }
        let container = try self.container(keyedBy: AnyCodingKey.self)
        let knownNames = Set(Keys.allCases.map(\.stringValue))
        var unknown: [String: JSONValue] = [:]
        for key in container.allKeys where !knownNames.contains(key.stringValue) {
            unknown[key.stringValue] = try container.decode(JSONValue.self, forKey: key)
        }
        return unknown
    }
}

extension Encoder {
    /// Writes members captured by ``Swift/Decoder/unknownFields(besides:)``.
    public func encodeUnknownFields(_ fields: [String: JSONValue]) throws {
        guard !fields.isEmpty else { return }
        var container = self.container(keyedBy: AnyCodingKey.self)
        for (name, value) in fields {
            try container.encode(value, forKey: AnyCodingKey(stringValue: name))
        }
    }
}

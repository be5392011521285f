/// A coding key for any member name: used to read and write the members a typed model does
/// not declare, so that an object written back keeps every field it was read with.
public struct AnyCodingKey: CodingKey, Hashable, Sendable, ExpressibleByStringLiteral {
    public var stringValue: String
    public var intValue: Int? { nil }
    public init(stringValue: String) { self.stringValue = stringValue }
    public init?(intValue: Int) { return nil }
    public init(stringLiteral value: String) { self.stringValue = value }
}

extension Encoder {
    /// Writes the members a model kept with ``JSONReader/keepUnknown(_:in:)``.
    public func encodeUnknownFields(_ fields: [String: JSONValue]) throws {
        guard !fields.isEmpty else { return }
        var container = self.container(keyedBy: AnyCodingKey.self)
        for (name, value) in fields {
            try container.encode(value, forKey: AnyCodingKey(stringValue: name))
        }
    }
}

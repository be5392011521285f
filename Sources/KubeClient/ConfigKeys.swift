/// A key that a configuration file's section does not know, and where it is. A setting that is
/// spelled wrong, or that another program's file has and this one does not, is refused rather
/// than ignored: ignored, it would look applied.
public struct UnknownConfigKey: Error, CustomStringConvertible, Sendable {
    /// Where the key is, such as `plugins` or `notifications.webhooks[0]`; empty at the top.
    public var location: String
    public var key: String

    public init(location: String, key: String) {
        self.location = location
        self.key = key
    }

    public var description: String {
        location.isEmpty ? "unknown key \"\(key)\"" : "\(location): unknown key \"\(key)\""
    }

    /// Fails on the first of `keys` (in sorted order, so the message is stable) that is not
    /// `known`, at `codingPath`, or at `fallback` when that path is empty.
    public static func reject(_ keys: some Sequence<String>, known: Set<String>, codingPath: [any CodingKey], fallback: String = "") throws {
        if let unknown = keys.sorted().first(where: { !known.contains($0) }) {
            let location = location(of: codingPath)
            throw UnknownConfigKey(location: location.isEmpty ? fallback : location, key: unknown)
        }
    }

    /// `plugins`, `storage.s3`, `notifications.webhooks[0]`: a coding path as the file writes it.
    public static func location(of path: [any CodingKey]) -> String {
        path.reduce("") { text, key in
            if let index = key.intValue ?? Int(key.stringValue) { return "\(text)[\(index)]" }
            return text.isEmpty ? key.stringValue : "\(text).\(key.stringValue)"
        }
    }
}

extension Decoder {
    /// Fails with ``UnknownConfigKey`` when the mapping being decoded has a member that `Keys`
    /// does not name (the first in sorted order, so the message is stable).
    public func rejectUnknownKeys<Keys: CodingKey & CaseIterable>(_ keys: Keys.Type) throws {
        let members = try container(keyedBy: AnyConfigKey.self)
        try UnknownConfigKey.reject(members.allKeys.map(\.stringValue), known: Set(Keys.allCases.map(\.stringValue)), codingPath: codingPath)
    }

    /// As ``rejectUnknownKeys(_:)``, for a mapping that also takes the names of `more` (other
    /// spellings read apart, which the type does not write back).
    public func rejectUnknownKeys<Keys: CodingKey & CaseIterable, More: CodingKey & CaseIterable>(_ keys: Keys.Type, _ more: More.Type) throws {
        let members = try container(keyedBy: AnyConfigKey.self)
        let known = Set(Keys.allCases.map(\.stringValue)).union(More.allCases.map(\.stringValue))
        try UnknownConfigKey.reject(members.allKeys.map(\.stringValue), known: known, codingPath: codingPath)
    }
}

/// Any member name, so that every key of a mapping is listed.
private struct AnyConfigKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// `scheme://bucket/key`, split. A URI without `://` is a local path.
public struct BlobURI: Sendable, Hashable {
    public var scheme: String
    public var bucket: String
    public var key: String

    public init?(_ text: String) {
        guard let separator = text.range(of: "://") else { return nil }
        scheme = text[..<separator.lowerBound].lowercased()
        let rest = text[separator.upperBound...]
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        bucket = String(rest[..<slash])
        key = String(rest[slash...].drop { $0 == "/" })
    }
}

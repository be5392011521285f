import Foundation

/// A response as ``KubernetesClient/raw(method:path:query:body:contentType:accept:)`` returns it.
public struct RawResponse: Sendable {
    public var status: Int
    /// Every header, in order, names as sent.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first value of header `name`, compared case-insensitively.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    public var contentType: String { header("Content-Type") ?? "" }

    /// The texts of the `Warning` headers (`299 - "text"`), as kubectl prints them.
    public var warnings: [String] {
        headers.filter { $0.name.lowercased() == "warning" }.map { header in
            var text = Substring(header.value)
            if text.hasPrefix("299 - ") { text = text.dropFirst(6) }
            if text.hasPrefix("\""), text.hasSuffix("\""), text.count >= 2 { text = text.dropFirst().dropLast() }
            return text.replacingOccurrences(of: "\\\"", with: "\"")
        }
    }
}

import Foundation

/// The leaves whose JSON form is a string of their own: `Data` as base64 (Kubernetes' `format:
/// byte`, and Foundation's default) and `Date` as RFC 3339 (every Kubernetes timestamp). The
/// encoder and both decoders share these rules so a value round-trips.
enum CodingLeaves {
    static func decode<T>(_ type: T.Type, from text: String, path: [any CodingKey]) throws -> T? {
        if type == Data.self {
            guard let data = Data(base64Encoded: text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: path, debugDescription: "not base64: \(text.prefix(40))"))
            }
            return data as? T
        }
        if type == Date.self {
            guard let date = KubeTime.parse(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: path, debugDescription: "not an RFC 3339 time: \(text.prefix(40))"))
            }
            return date as? T
        }
        return nil
    }
}

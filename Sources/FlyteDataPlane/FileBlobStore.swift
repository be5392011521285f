import Foundation

/// `file://` URIs and plain paths, for local runs and tests.
public struct FileBlobStore: BlobStore {
    public init() {}

    public func read(_ uri: String, maxBytes: Int) async throws -> [UInt8]? {
        let path = Self.path(of: uri)
        guard let handle = FileHandle(forReadingAtPath: path) else {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
                throw BlobStoreError.refused("cannot open \(path)")
            }
            return nil
        }
        defer { try? handle.close() }
        let data = try handle.read(upToCount: maxBytes + 1) ?? Data()
        if data.count > maxBytes { throw BlobStoreError.tooLarge(uri, limit: maxBytes) }
        return Array(data)
    }

    static func path(of uri: String) -> String {
        guard uri.hasPrefix("file://") else { return uri }
        let rest = uri.dropFirst("file://".count)
        return (rest.removingPercentEncoding ?? String(rest))
    }
}

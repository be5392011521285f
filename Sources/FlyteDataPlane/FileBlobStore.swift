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

    /// Writes a sibling file and renames it over the target, so a reader never sees half an
    /// object; creates the directories on the way.
    public func write(_ uri: String, bytes: [UInt8]) async throws {
        let path = Self.path(of: uri)
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UInt64.random(in: 0...UInt64.max))")
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(bytes).write(to: temporary)
            if rename(temporary.path, path) != 0 { throw BlobStoreError.refused("cannot rename \(temporary.path) to \(path): errno \(errno)") }
        } catch let error as BlobStoreError {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw BlobStoreError.refused("cannot write \(path): \(error.localizedDescription)")
        }
    }

    public func exists(_ uri: String) async throws -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: Self.path(of: uri), isDirectory: &isDirectory) && !isDirectory.boolValue
    }

    static func path(of uri: String) -> String {
        guard uri.hasPrefix("file://") else { return uri }
        let rest = uri.dropFirst("file://".count)
        return (rest.removingPercentEncoding ?? String(rest))
    }
}

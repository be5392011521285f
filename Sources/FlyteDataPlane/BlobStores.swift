import Foundation

/// The store for each URI scheme the config enables: local paths always, `s3://` with
/// `storage.type: s3`.
public struct BlobStores: BlobStore {
    let local = FileBlobStore()
    let s3: S3BlobStore?

    public init(s3: S3BlobStore?) {
        self.s3 = s3
    }

    /// The stores `config` describes, or nil for `type: none`.
    public static func make(config: StorageConfig, environment: [String: String] = ProcessInfo.processInfo.environment, http: @autoclosure () throws -> any HTTPFetching) throws -> BlobStores? {
        switch config.type {
        case .none: return nil
        case .local: return BlobStores(s3: nil)
        case .s3: return BlobStores(s3: try S3BlobStore.make(config: config.s3, environment: environment, http: http()))
        }
    }

    public func read(_ uri: String, maxBytes: Int) async throws -> [UInt8]? {
        try await store(for: uri).read(uri, maxBytes: maxBytes)
    }

    public func write(_ uri: String, bytes: [UInt8]) async throws {
        try await store(for: uri).write(uri, bytes: bytes)
    }

    public func exists(_ uri: String) async throws -> Bool {
        try await store(for: uri).exists(uri)
    }

    func store(for uri: String) throws -> any BlobStore {
        guard let parsed = BlobURI(uri) else { return local }
        switch parsed.scheme {
        case "file": return local
        case "s3":
            guard let s3 else { throw BlobStoreError.unsupported("\(uri): no S3 store is configured (storage.type: s3)") }
            return s3
        default:
            throw BlobStoreError.unsupported("\(uri): no store for the scheme \(parsed.scheme):// (supported: s3, file)")
        }
    }
}

/// Reads objects by URI: what the executor needs of Flyte's blob storage (error documents,
/// and whatever else a plugin reads). Writes are the tasks' business.
public protocol BlobStore: Sendable {
    /// The object's bytes, or nil when there is no such object. Throws
    /// ``BlobStoreError`` when the store cannot say.
    func read(_ uri: String, maxBytes: Int) async throws -> [UInt8]?
}

/// Reads and writes objects by URI: what the executor needs of Flyte's blob storage (error
/// documents, a cached task's outputs, and whatever else a plugin reads). Everything else
/// there is the tasks' business.
public protocol BlobStore: Sendable {
    /// The object's bytes, or nil when there is no such object. Throws
    /// ``BlobStoreError`` when the store cannot say.
    func read(_ uri: String, maxBytes: Int) async throws -> [UInt8]?

    /// Writes the object whole, replacing any object at `uri`. Throws ``BlobStoreError``
    /// when it was not written.
    func write(_ uri: String, bytes: [UInt8]) async throws

    /// Whether there is an object at `uri`, without reading it.
    func exists(_ uri: String) async throws -> Bool
}

import FlyteDataPlane
import FlyteIDL
import TaskPlugins

extension BlobStore {
    /// The attempt's inputs, `<inputPrefix>/inputs.pb`, or nil when there is no such object.
    /// Throws when the store cannot say, or the object is not a LiteralMap.
    func inputs(of context: TaskExecutionContext, maxBytes: Int) async throws -> Flyteidl2_Core_LiteralMap? {
        guard let bytes = try await read(context.paths.inputPath, maxBytes: maxBytes) else { return nil }
        return try Flyteidl2_Core_LiteralMap(serializedBytes: bytes)
    }
}

import FlyteDataPlane
import FlyteIDL
import Foundation
import SwiftProtobuf
import TaskPlugins

/// Flyte's check on success (§5.7): a task that wrote `<attempt prefix>/error.pb` failed,
/// whatever its exit code. Recoverable documents make the attempt retryable, others fail
/// it for good; the document's code, message and origin become `errorState`.
public struct ErrorDocumentCheck: Sendable {
    let store: any BlobStore
    let maxBytes: Int

    public init(store: any BlobStore, maxBytes: Int = 10 * 1024 * 1024) {
        self.store = store
        self.maxBytes = maxBytes
    }

    /// The phase `success` becomes for `context`'s attempt: `success` itself when there is
    /// no error document. Throws when the store cannot say (a system error for the caller,
    /// retried and counted; never taken for a success).
    public func judge(_ success: PhaseInfo, context: TaskExecutionContext) async throws -> PhaseInfo {
        guard let document = try await read(context) else { return success }
        return document.phase.carrying(success)
    }

    /// The attempt's error document, or nil when it has none (or no output location).
    public func read(_ context: TaskExecutionContext) async throws -> TaskErrorDocument? {
        guard let base = context.taskAction.spec.runOutputBase, !base.isEmpty else { return nil }
        let uri = context.paths.errorPath
        guard let bytes = try await store.read(uri, maxBytes: maxBytes) else { return nil }
        let document: Flyteidl2_Core_ErrorDocument
        do {
            document = try Flyteidl2_Core_ErrorDocument(serializedBytes: bytes)
        } catch {
            throw ErrorDocumentUnreadable(uri: uri, reason: "\(error)")
        }
        return Self.document(document.error)
    }

    /// Flyte's reading of a container error (code and message `Unknown` when empty).
    static func document(_ error: Flyteidl2_Core_ContainerError) -> TaskErrorDocument {
        let kind: ErrorKind = switch error.origin {
        case .user: .user
        case .system: .system
        default: .unknown
        }
        return TaskErrorDocument(recoverable: error.kind == .recoverable, error: ExecutionError(code: error.code.isEmpty ? "Unknown" : error.code, message: error.message.isEmpty ? "Unknown" : error.message, kind: kind))
    }
}

/// An `error.pb` that is not an ErrorDocument.
public struct ErrorDocumentUnreadable: Error, CustomStringConvertible {
    public var uri: String
    public var reason: String
    public var description: String { "\(uri) is not a flyteidl2.core.ErrorDocument: \(reason)" }
}

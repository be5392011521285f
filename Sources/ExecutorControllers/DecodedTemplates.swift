import FlyteIDL
import Foundation
import KubeRuntime
import SwiftProtobuf

/// The decoded `spec.taskTemplate` of each TaskAction in flight, so that a round woken by a
/// child's event does not base64-decode and parse the same protobuf again (together about 3%
/// of the executor's CPU under load). An entry is used only while the TaskAction's template
/// string is the one it was decoded from, and is dropped when the TaskAction ends or goes:
/// the cache holds at most one template per TaskAction that is not terminal.
final class DecodedTemplates: Sendable {
    private let entries = LockedBox<[String: (source: String, template: Flyteidl2_Core_TaskTemplate)]>([:])

    /// The template of the TaskAction under `key`, decoded from `source` (base64 of the
    /// serialized message) unless the cache already holds it.
    func template(key: String, source: String?) throws -> Flyteidl2_Core_TaskTemplate {
        let source = source ?? ""
        if let entry = entries.withLock({ $0[key] }), entry.source == source { return entry.template }
        let template = try Flyteidl2_Core_TaskTemplate(serializedBytes: Data(base64Encoded: source) ?? Data())
        entries.withLock { $0[key] = (source, template) }
        return template
    }

    func forget(_ key: String) {
        entries.withLock { _ = $0.removeValue(forKey: key) }
    }

    var count: Int { entries.withLock { $0.count } }
}

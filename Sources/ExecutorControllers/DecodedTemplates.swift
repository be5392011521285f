import FlyteIDL
import Foundation
import KubeRuntime
import SwiftProtobuf

/// The decoded `spec.taskTemplate` of each TaskAction in flight, so that a round woken by a
/// child's event does not base64-decode and parse the same protobuf again (together about 3%
/// of the executor's CPU under load). An entry is used only while the TaskAction's template
/// string is the one it was decoded from, and is dropped when the TaskAction ends or goes.
///
/// TaskActions with the same template string share one decoded message: the actions of a
/// fan-out (a map task, a sweep) run one task, and a decoded template takes 2 KB (a `busybox`
/// container) to 4.5 KB (a Python task's), which 5,000 actions in flight held 5,000 times.
/// So the cache holds at most one template per distinct template in flight.
final class DecodedTemplates: Sendable {
    private struct Shared {
        var template: Flyteidl2_Core_TaskTemplate
        /// TaskActions whose entry holds this source.
        var users: Int
    }

    private struct State {
        /// Per TaskAction key: the source its template came from, and the template (a copy of
        /// the shared one's value, so it costs no storage of its own), for a lookup that does
        /// not hash the source.
        var byKey: [ObjectKey: (source: String, template: Flyteidl2_Core_TaskTemplate)] = [:]
        var bySource: [String: Shared] = [:]

        mutating func release(_ key: ObjectKey) {
            guard let old = byKey.removeValueReleasingCapacity(forKey: key) else { return }
            bySource[old.source]?.users -= 1
            if bySource[old.source]?.users == 0 { bySource.removeValueReleasingCapacity(forKey: old.source) }
        }

        /// Makes `key` a user of `source`'s template, decoded as `decoded` unless another
        /// TaskAction's already is; returns the template it now holds.
        mutating func attach(_ key: ObjectKey, source: String, decoded: Flyteidl2_Core_TaskTemplate) -> Flyteidl2_Core_TaskTemplate {
            release(key)
            let template = bySource[source]?.template ?? decoded
            bySource[source, default: Shared(template: template, users: 0)].users += 1
            byKey[key] = (source, template)
            return template
        }
    }

    private let state = LockedBox(State())

    /// The template of the TaskAction under `key`, decoded from `source` (base64 of the
    /// serialized message) unless the cache already holds it for this or another TaskAction.
    func template(key: ObjectKey, source: String?) throws -> Flyteidl2_Core_TaskTemplate {
        let source = source ?? ""
        let cached = state.withLock { s -> Flyteidl2_Core_TaskTemplate? in
            if let entry = s.byKey[key], entry.source == source { return entry.template }
            guard let shared = s.bySource[source] else { return nil }
            return s.attach(key, source: source, decoded: shared.template)
        }
        if let cached { return cached }
        // Decoded outside the lock; a TaskAction that decoded the same source meanwhile wins.
        let decoded = try Flyteidl2_Core_TaskTemplate(serializedBytes: Data(base64Encoded: source) ?? Data())
        return state.withLock { $0.attach(key, source: source, decoded: decoded) }
    }

    func forget(_ key: ObjectKey) {
        state.withLock { $0.release(key) }
    }

    /// TaskActions with an entry.
    var count: Int { state.withLock { $0.byKey.count } }

    /// Decoded templates held: one per distinct source.
    var distinct: Int { state.withLock { $0.bySource.count } }
}

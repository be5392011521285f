import Foundation
import KubeClient

/// The condition an operator's status is in now, as Flyte's plugins read it
/// (`ExtractCurrentCondition`): of the conditions whose status is `True`, the one that turned
/// true last. Operators write whole seconds, so a job that moves within a second has several
/// at one time: the later in the list wins (operators append), where Flyte's sort keeps the
/// first and can report a finished job as just created.
enum CurrentCondition {
    static func of(_ conditions: [JSONValue]) -> JSONValue? {
        conditions.enumerated()
            .filter { $0.element["status"]?.stringValue == "True" }
            .max { a, b in
                let at = KubeTime.parse(a.element["lastTransitionTime"]?.stringValue ?? "") ?? .distantPast
                let bt = KubeTime.parse(b.element["lastTransitionTime"]?.stringValue ?? "") ?? .distantPast
                return (at, a.offset) < (bt, b.offset)
            }?.element
    }
}

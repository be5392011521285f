import ExecutorAPI
import Foundation
import KubeClient

/// What a plugin declares about itself.
public struct PluginProperties: Sendable, Hashable {
    /// Generated names longer than this are replaced by a hash (Ray: 47). At least 8.
    public var generatedNameMaxLength: Int?
    /// Leave the controller owner reference off the child.
    public var disableInjectOwnerReferences = false

    public init(generatedNameMaxLength: Int? = nil, disableInjectOwnerReferences: Bool = false) {
        self.generatedNameMaxLength = generatedNameMaxLength.map { max(8, $0) }
        self.disableInjectOwnerReferences = disableInjectOwnerReferences
    }
}

/// A Pod that the child's operator creates and whose state decides the child's phase before
/// the child's own status does: Spark's driver, Ray's head. The plugin puts
/// ``TaskActionLabels/childName`` (the child's name) on it through the child's pod template;
/// the executor watches such Pods with a label-scoped informer, so a change wakes the
/// TaskAction at once, and hands the cached Pod to ``KubernetesTaskPlugin/phase(of:relatedPod:context:)``.
public struct RelatedPod<Child: KubernetesObject>: Sendable {
    /// The Pod's name for this child, once its status says.
    public var name: @Sendable (Child) -> String?
    /// Find the Pod by its ``TaskActionLabels/childName`` label alone, for operators that name
    /// their Pods unpredictably (a Job's Pod is `<job>-<random>`); the newest such Pod counts,
    /// unless ``choose`` picks among them.
    public var byLabel: Bool
    /// Picks the Pod among those labelled with the child's name (each as the cache keeps it:
    /// name, creation, status); nil takes the newest.
    public var choose: (@Sendable (Child, [Pod]) -> Pod?)?

    public init(name: @escaping @Sendable (Child) -> String?) {
        self.name = name
        self.byLabel = false
    }

    /// The Pod carrying the child's name in ``TaskActionLabels/childName``, whatever its name.
    public static var labelled: RelatedPod { RelatedPod(name: { _ in nil }, byLabel: true) }

    /// One of the Pods carrying the child's name, as `choose` picks it: for children whose
    /// template makes many Pods (a JobSet's ranks), one of which decides.
    public static func labelled(choosing choose: @escaping @Sendable (Child, [Pod]) -> Pod?) -> RelatedPod {
        var related = RelatedPod(name: { _ in nil }, byLabel: true)
        related.choose = choose
        return related
    }

    init(name: @escaping @Sendable (Child) -> String?, byLabel: Bool) {
        self.name = name
        self.byLabel = byLabel
    }
}

/// How to stop a child when its TaskAction is aborted or an attempt is abandoned.
public enum AbortBehavior: Sendable {
    /// Delete the child (the default).
    case delete
    /// Apply this JSON merge patch to the child instead, leaving it in place.
    case patch(JSONValue)
}

/// A plugin whose work is one Kubernetes object (a Pod, a SparkApplication, a RayJob…).
///
/// The executor names the child `<taskaction>-<attempt-1>`, fills in namespace, labels,
/// annotations and the controller owner reference, creates it (AlreadyExists counts as
/// created), watches it through an informer scoped to `flyte.org/managed=true`, and asks
/// ``phase(of:context:)`` whenever it changes. Register a plugin with ``PluginRegistry/register(_:)``.
public protocol KubernetesTaskPlugin: Sendable {
    /// The child's type; its ``KubernetesObject/resourceType`` is what the plugin's informer watches.
    associatedtype Child: KubernetesObject

    /// Unique plugin id, e.g. `pod`.
    var id: String { get }
    /// Task types this plugin runs, e.g. `container`, `python`.
    var taskTypes: [String] { get }
    var properties: PluginProperties { get }

    /// The child for this attempt, without name, namespace or owner: the executor sets those.
    /// Throw an ``ExecutionError`` for a bad task specification.
    func build(_ context: TaskExecutionContext) throws -> Child

    /// The phase the child is in.
    func phase(of child: Child, context: TaskExecutionContext) -> PhaseInfo

    /// Reads what the plugin needs from the cluster, once its child kind is served and before
    /// its first task (the Spark plugin reads its CRD to learn whether pod templates are
    /// supported). Defaults to nothing.
    func prepare(client: KubernetesClient) async

    /// A Pod the child's phase depends on; nil (the default) when there is none.
    var relatedPod: RelatedPod<Child>? { get }

    /// The phase the child is in, given its related Pod (nil until it exists or is cached).
    /// Defaults to ``phase(of:context:)``.
    func phase(of child: Child, relatedPod: Pod?, context: TaskExecutionContext) -> PhaseInfo

    /// True once the child can no longer change on its own.
    func isTerminal(_ child: Child) -> Bool

    /// Whether the child's change from `old` to `new` (two versions from its watch) can change
    /// what its TaskAction's round would make of it; when false, no round is run for it.
    /// Defaults to true, and for an `Equatable` child to "unless the two are equal but for their
    /// resourceVersion". Answer false only when ``phase(of:relatedPod:context:)`` is sure to say
    /// the same for both: a round costs a TaskAction's decode, a plugin call and a status
    /// comparison, and a Pod is written four or five times on its way to Succeeded (bound,
    /// ContainerCreating, Running, ready, done), not all of which change its phase. Time-based
    /// changes need no event: a phase that waits for a deadline asks for a round then
    /// (`recheckAfter`).
    func changeNeedsRound(from old: Child, to new: Child) -> Bool

    /// When the child finished, if it did.
    func completionTime(_ child: Child) -> Date?

    /// How to stop the child; defaults to deleting it.
    func abortBehavior(for child: Child, context: TaskExecutionContext) -> AbortBehavior

    /// Shrinks a child before the informer caches it; nil caches it whole (managedFields
    /// are always dropped).
    var cacheTransform: (@Sendable (inout Child) -> Void)? { get }

    /// Shrinks further the cached child of a TaskAction that has finished. A finished
    /// TaskAction stays cached with its child until the GC deletes it (an hour after the end,
    /// by default), and from then on the executor reads of the child only its metadata and
    /// what ``abortBehavior(for:context:)`` reads when the TaskAction is deleted. Applied to the
    /// cached copy once its TaskAction's terminal status is written (or found in the cache);
    /// the child's next event brings it back as ``cacheTransform`` leaves it, and is shrunk
    /// again. Keep the metadata; nil keeps the child as ``cacheTransform`` left it.
    var finishedCacheTransform: (@Sendable (inout Child) -> Void)? { get }

    /// How the informer decodes children; nil keeps unknown members and drops managedFields.
    /// A plugin that trims its cache can skip what it drops while decoding (see
    /// ``JSONBytesDecoder/prunedFields``), which makes a cache sync and every watch event cheaper.
    var cacheDecoder: JSONBytesDecoder? { get }

    /// The RBAC rules the executor needs for this plugin; `executor manifests` writes them into
    /// `config/rbac/role.yaml`. Defaults to ``PolicyRule/children(of:comment:)`` for
    /// ``Child``: add rules for anything else the plugin reads (a CRD, a ConfigMap).
    var rbacRules: [PolicyRule] { get }
}

extension KubernetesTaskPlugin {
    public func abortBehavior(for child: Child, context: TaskExecutionContext) -> AbortBehavior { .delete }
    public func changeNeedsRound(from old: Child, to new: Child) -> Bool { true }
    public var cacheTransform: (@Sendable (inout Child) -> Void)? { nil }
    public var finishedCacheTransform: (@Sendable (inout Child) -> Void)? { nil }
    public var cacheDecoder: JSONBytesDecoder? { nil }
    public var rbacRules: [PolicyRule] { [.children(of: Child.resourceType)] }
    public var relatedPod: RelatedPod<Child>? { nil }
    public func prepare(client: KubernetesClient) async {}
    public func phase(of child: Child, relatedPod: Pod?, context: TaskExecutionContext) -> PhaseInfo { phase(of: child, context: context) }
}

extension KubernetesTaskPlugin where Child: Equatable {
    /// For a child that can be compared: a round unless the two versions are equal but for
    /// their resourceVersion. The informer compares them as it caches them, after
    /// ``cacheTransform``, which keeps what the phase reads (the kit's `cacheTransform` rule):
    /// a status change the transform drops (a Spark application's executor states, a Ray
    /// cluster's worker counts) wakes no round, and equal children are judged alike.
    public func changeNeedsRound(from old: Child, to new: Child) -> Bool {
        var old = old, new = new
        old.metadata.resourceVersion = nil
        new.metadata.resourceVersion = nil
        return old != new
    }
}

import FlyteIDL
import KubeClient

/// What a plugin author hands the conformance kit about their plugin.
public struct ConformanceFixtures<Child: KubernetesObject>: Sendable {
    /// A task template of the plugin's task type, to build children from.
    public var template: Flyteidl2_Core_TaskTemplate
    /// The task type the TaskActions carry.
    public var taskType: String
    /// Children in every state the plugin knows, by a name for messages. The kit adds a child
    /// with an empty status itself.
    public var states: [String: Child]
    /// Status writes (JSON merge patches of the child, applied to `/status` when the kind has
    /// that subresource) that take a freshly created child to its end, in order, as its
    /// operator would; the end-to-end rule applies them.
    public var sequence: [JSONValue]
    /// The last phase the TaskAction's `phaseHistory` must reach after ``sequence``, such as
    /// `Completed` or `PermanentFailure`.
    public var expectedFinalPhase: String
    /// CRDs the sandbox needs before the child can be created (none for built-in kinds).
    public var crds: [JSONValue]

    public init(template: Flyteidl2_Core_TaskTemplate, taskType: String, states: [String: Child], sequence: [JSONValue], expectedFinalPhase: String = "Completed", crds: [JSONValue] = []) {
        self.template = template
        self.taskType = taskType
        self.states = states
        self.sequence = sequence
        self.expectedFinalPhase = expectedFinalPhase
        self.crds = crds
    }
}

/// A rule of the plugin contract (docs/plugins.md).
public enum ConformanceRule: String, Sendable, CaseIterable {
    /// `build` returns equal children for the same context.
    case deterministicBuild
    /// `build` leaves name, namespace and owner references to the executor.
    case noIdentityInBuild
    /// The generated name fits `generatedNameMaxLength`, which, when set, is at most 63.
    case nameLength
    /// After the executor fills in its metadata the child carries every executor label and
    /// annotation, and the owner reference unless the plugin opted out.
    case executorMetadata
    /// `phase(of:)` answers for every state and an empty status, with an error on failures.
    case totalPhase
    /// Success only for a terminal child.
    case noEarlySuccess
    /// A terminal child reports a completion time and a terminal or failed phase.
    case terminalAgreement
    /// The cache transform keeps what `phase(of:)`, `isTerminal`, `completionTime` and the related Pod's name read.
    case cacheTransform
    /// The finished cache transform keeps the child's metadata (after the cache transform)
    /// and leaves a terminal child terminal.
    case finishedView
    /// A change `changeNeedsRound` calls needless, between any two states (and an empty
    /// status), leaves `phase(of:)` (but for its log context) and `isTerminal` saying what they said.
    case needlessChange
    /// The abort (delete or patch) is accepted by the API server.
    case abortAccepted
    /// Against KubeSandbox, the executor creates the child and follows the fixture sequence to the expected phase.
    case endToEnd
}

/// A broken rule, and what broke it.
public struct Violation: Sendable, CustomStringConvertible, Equatable {
    public var rule: ConformanceRule
    public var detail: String

    public init(_ rule: ConformanceRule, _ detail: String) {
        self.rule = rule
        self.detail = detail
    }

    public var description: String { "[\(rule.rawValue)] \(detail)" }
}

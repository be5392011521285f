import Logging

/// The object a reconcile is about: `namespace/name`.
public struct ReconcileRequest: Hashable, Sendable, CustomStringConvertible {
    public var namespace: String?
    public var name: String

    public init(namespace: String?, name: String) {
        self.namespace = namespace
        self.name = name
    }

    public var description: String { storeKey(namespace: namespace, name: name) }
}

/// What a reconcile asks for next.
public enum ReconcileResult: Equatable, Sendable {
    /// Finished: the key's backoff is forgotten, and a delayed run an earlier round asked for
    /// (``requeueAfter(_:)``, a retry) is dropped.
    case done
    /// Run again after the key's rate-limited backoff.
    case requeue
    /// Run again after this long, without rate limiting; the backoff is forgotten.
    case requeueAfter(Duration)
}

/// Thrown by a reconciler for a failure that retrying cannot fix. It is counted in
/// `controller_runtime_terminal_reconcile_errors_total` and the key is not retried.
public struct TerminalError: Error, CustomStringConvertible {
    public var underlying: any Error
    public init(_ underlying: any Error) { self.underlying = underlying }
    public var description: String { "terminal: \(underlying)" }
}

/// What a reconcile gets besides the request.
public struct ReconcileContext: Sendable {
    /// Carries `controller`, `object` and `reconcileID` metadata.
    public var logger: Logger
    public var id: ReconcileID
    /// ``id`` as a string.
    public var reconcileID: String { id.description }

    public init(logger: Logger, id: ReconcileID) {
        self.logger = logger
        self.id = id
    }

    public init(logger: Logger, reconcileID: String) {
        self.init(logger: logger, id: ReconcileID(reconcileID))
    }
}

/// Moves the world one step towards what the object asks for. Reconcilers are level-based:
/// they read the current state and never depend on which event woke them.
public protocol Reconciler: Sendable {
    func reconcile(_ request: ReconcileRequest, context: ReconcileContext) async throws -> ReconcileResult

    /// Whether a watch event mapped to `request` should queue a round. Return false only when
    /// the reconciler's caches alone show that a round would find nothing to do (an object
    /// whose work is over), so the event costs no queue hand-off, worker wake-up or round.
    /// Asked on the informer's event path, so it must be quick and must not block. Retries,
    /// `requeueAfter` timers and ``Controller/enqueue(_:after:)`` are not asked. The default
    /// queues every request.
    func needsRound(_ request: ReconcileRequest) -> Bool
}

extension Reconciler {
    public func needsRound(_ request: ReconcileRequest) -> Bool { true }
}

/// A reconciler from a closure.
public struct ReconcileFunction: Reconciler {
    let body: @Sendable (ReconcileRequest, ReconcileContext) async throws -> ReconcileResult
    public init(_ body: @escaping @Sendable (ReconcileRequest, ReconcileContext) async throws -> ReconcileResult) {
        self.body = body
    }
    public func reconcile(_ request: ReconcileRequest, context: ReconcileContext) async throws -> ReconcileResult {
        try await body(request, context)
    }
}

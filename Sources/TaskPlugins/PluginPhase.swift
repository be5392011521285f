import FlyteIDL
import Foundation

/// The phase a plugin reports, Flyte's `pluginmachinery/core` phase (order matters: 0..10).
public enum PluginPhase: Int, Sendable, Comparable, CaseIterable {
    case undefined = 0
    case notReady
    case waitingForResources
    case queued
    case initializing
    case running
    case success
    case retryableFailure
    case permanentFailure
    case waitingForCache
    case aborted

    /// The name stored in `status.pluginPhase`, e.g. `PhaseQueued`.
    public var name: String {
        switch self {
        case .undefined: "PhaseUndefined"
        case .notReady: "PhaseNotReady"
        case .waitingForResources: "PhaseWaitingForResources"
        case .queued: "PhaseQueued"
        case .initializing: "PhaseInitializing"
        case .running: "PhaseRunning"
        case .success: "PhaseSuccess"
        case .retryableFailure: "PhaseRetryableFailure"
        case .permanentFailure: "PhasePermanentFailure"
        case .waitingForCache: "PhaseWaitingForCache"
        case .aborted: "PhaseAborted"
        }
    }

    public init?(name: String) {
        guard let phase = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = phase
    }

    public var isTerminal: Bool { self == .success || self == .permanentFailure || self == .aborted }
    public var isFailure: Bool { self == .retryableFailure || self == .permanentFailure }

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// Who is to blame for an error.
public enum ErrorKind: String, Sendable, Hashable {
    case unknown = ""
    case user = "USER"
    case system = "SYSTEM"
}

/// A plugin's error: code, message and kind, as stored in `status.errorState`.
public struct ExecutionError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: String
    public var message: String
    public var kind: ErrorKind

    public init(code: String, message: String, kind: ErrorKind) {
        self.code = code
        self.message = message
        self.kind = kind
    }

    public var description: String { "[\(code)] \(message)" }
}

/// A link a plugin offers for a phase, shown by Flyte's UI beside the task's logs.
public struct LogLink: Sendable, Hashable {
    public var name: String
    public var uri: String
    /// The rest of Flyte's `TaskLog`, for links made from log link templates.
    public var messageFormat: Flyteidl2_Core_TaskLog.MessageFormat = .unknown
    public var showWhilePending = false
    public var hideOnceFinished = false
    public var linkType: Flyteidl2_Core_TaskLog.LinkType = .external
    public var ready = false
    public var iconUri = ""

    public init(name: String, uri: String) {
        self.name = name
        self.uri = uri
    }

    /// A link as Flyte sends it (a connector's `log_links`).
    public init(_ log: Flyteidl2_Core_TaskLog) {
        self.init(name: log.name, uri: log.uri)
        messageFormat = log.messageFormat
        showWhilePending = log.showWhilePending
        hideOnceFinished = log.hideOnceFinished
        linkType = log.linkType
        ready = log.ready
        iconUri = log.iconUri
    }

    /// The link as Flyte's `TaskLog`, for an ActionEvent's `log_info`.
    public var taskLog: Flyteidl2_Core_TaskLog {
        var log = Flyteidl2_Core_TaskLog()
        log.name = name
        log.uri = uri
        log.messageFormat = messageFormat
        log.showWhilePending = showWhilePending
        log.hideOnceFinished = hideOnceFinished
        log.linkType = linkType
        log.ready = ready
        log.iconUri = iconUri
        return log
    }
}

/// What a plugin says about its child: phase, version within the phase, reason, error, and
/// when to look again if nothing else changes.
public struct PhaseInfo: Sendable, Hashable {
    public var phase: PluginPhase
    public var version: UInt32
    public var reason: String
    public var error: ExecutionError?
    /// Delete the child at once on failure (a Pod stuck in ImagePullBackOff, for instance).
    public var cleanupOnFailure: Bool
    /// A deadline (grace period, pending timeout) after which the phase may change without
    /// any event; the reconciler requeues after it.
    public var recheckAfter: Duration?
    /// When the child reached this phase, if it says: the executor sets it to the plugin's
    /// ``KubernetesTaskPlugin/completionTime(_:)`` for a terminal child, so the recorded
    /// transition and the GC label tell when the work ended, not when the executor noticed.
    public var occurredAt: Date?
    /// Links for people (a Spark UI, a dashboard), sent in the ActionEvent's `log_info`.
    public var links: [LogLink] = []
    /// Where the attempt's logs are (its Pods and their containers, with start and end times),
    /// sent in the ActionEvent's `log_context`: Flyte's UI streams a task's logs by it.
    public var logContext: Flyteidl2_Core_LogContext?
    /// What the attempt's error document does to this failure (a success is always checked).
    public var errorDocumentRule: ErrorDocumentRule = .none

    public init(phase: PluginPhase, version: UInt32 = 0, reason: String = "", error: ExecutionError? = nil, cleanupOnFailure: Bool = false, recheckAfter: Duration? = nil) {
        self.phase = phase
        self.version = version
        self.reason = reason
        self.error = error
        self.cleanupOnFailure = cleanupOnFailure
        self.recheckAfter = recheckAfter
    }

    public static let undefined = PhaseInfo(phase: .undefined)
    public static func queued(_ reason: String) -> PhaseInfo { PhaseInfo(phase: .queued, reason: reason) }
    public static func initializing(_ reason: String) -> PhaseInfo { PhaseInfo(phase: .initializing, reason: reason) }
    public static func running(_ reason: String = "", version: UInt32 = 0) -> PhaseInfo { PhaseInfo(phase: .running, version: version, reason: reason) }
    public static func success(_ reason: String = "") -> PhaseInfo { PhaseInfo(phase: .success, reason: reason) }

    /// Permanent, USER.
    public static func failure(_ code: String, _ message: String, cleanup: Bool = false) -> PhaseInfo {
        PhaseInfo(phase: .permanentFailure, reason: message, error: ExecutionError(code: code, message: message, kind: .user), cleanupOnFailure: cleanup)
    }
    /// Permanent, SYSTEM.
    public static func systemFailure(_ code: String, _ message: String, cleanup: Bool = false) -> PhaseInfo {
        PhaseInfo(phase: .permanentFailure, reason: message, error: ExecutionError(code: code, message: message, kind: .system), cleanupOnFailure: cleanup)
    }
    /// Retryable, USER.
    public static func retryableFailure(_ code: String, _ message: String, cleanup: Bool = false) -> PhaseInfo {
        PhaseInfo(phase: .retryableFailure, reason: message, error: ExecutionError(code: code, message: message, kind: .user), cleanupOnFailure: cleanup)
    }
    /// Retryable, SYSTEM: counts against `maxSystemFailures`, not the user's retries.
    public static func systemRetryableFailure(_ code: String, _ message: String, cleanup: Bool = false) -> PhaseInfo {
        PhaseInfo(phase: .retryableFailure, reason: message, error: ExecutionError(code: code, message: message, kind: .system), cleanupOnFailure: cleanup)
    }
}

/// What a task's error document (`<attempt prefix>/error.pb`) does to a failure a plugin
/// reports. Ray's rule (spec §8.2) is the reason this exists; a success is always checked.
public enum ErrorDocumentRule: Sendable, Hashable {
    /// The document is not read.
    case none
    /// A recoverable document makes the failure retryable, with the document's error.
    case recoverableRetries
    /// As ``recoverableRetries``; and with no document the failure is a system error with
    /// this code, retried with the child cleaned up (KubeRay's deployment grace period).
    case recoverableRetriesElseSystemError(code: String)
}

/// An error document as the executor reads it: recoverable or not, and the error.
public struct TaskErrorDocument: Sendable, Hashable {
    public var recoverable: Bool
    public var error: ExecutionError

    public init(recoverable: Bool, error: ExecutionError) {
        self.recoverable = recoverable
        self.error = error
    }

    /// The failure the document stands for on its own (a success that wrote it).
    public var phase: PhaseInfo {
        PhaseInfo(phase: recoverable ? .retryableFailure : .permanentFailure, reason: error.message, error: error)
    }
}

extension PhaseInfo {
    /// This failure once the attempt's error document was looked for (`nil`: there is none,
    /// or no store is configured), by ``errorDocumentRule``.
    public func applying(errorDocument document: TaskErrorDocument?) -> PhaseInfo {
        guard isFailureWithRule else { return self }
        var result = self
        if let document {
            if document.recoverable {
                result = document.phase.carrying(self)
                result.cleanupOnFailure = cleanupOnFailure
            }
        } else if case .recoverableRetriesElseSystemError(let code) = errorDocumentRule {
            result = PhaseInfo.systemRetryableFailure(code, error?.message ?? reason, cleanup: true).carrying(self)
        }
        result.errorDocumentRule = .none
        return result
    }

    /// This phase with the time and links of `observed`, the plugin's report it replaces.
    public func carrying(_ observed: PhaseInfo) -> PhaseInfo {
        var result = self
        result.occurredAt = observed.occurredAt
        result.links = observed.links
        return result
    }

    private var isFailureWithRule: Bool { phase.isFailure && errorDocumentRule != .none }
}

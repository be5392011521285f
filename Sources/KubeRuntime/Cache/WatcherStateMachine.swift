import KubeClient

/// Why a list or watch call stopped, as the watcher needs to know it.
public enum WatchFailure: Equatable, Sendable {
    /// 410 Gone: the watch's version was compacted away, or a list `continue` token expired.
    case gone
    /// The server has not caught up with the version asked for ("Too large resource version").
    case resourceVersionTooLarge
    /// 403: RBAC does not let this client list or watch the resource. Retried with backoff
    /// like a transient failure (a rule may be added), but reported loudly.
    case forbidden(String)
    /// 404 on a list: the server does not serve the resource (its CRD is not installed).
    case notFound(String)
    /// Anything else: the connection dropped, the server restarted, 429, 5xx.
    case transient(String)

    /// Sorts an error thrown by a list or watch call.
    public static func classify(_ error: any Error) -> WatchFailure {
        if let api = error as? KubeAPIError {
            if api.isGone { return .gone }
            if api.code == 403 { return .forbidden(api.status.message ?? "forbidden") }
            if api.isNotFound { return .notFound(api.status.message ?? "not found") }
            let causes = api.status.details?.causes ?? []
            if causes.contains(where: { $0.reason == "ResourceVersionTooLarge" }) || (api.status.message ?? "").contains("Too large resource version") {
                return .resourceVersionTooLarge
            }
            return .transient("\(api.status.code ?? 0) \(api.status.reason ?? ""): \(api.status.message ?? "")")
        }
        return .transient(String(describing: error))
    }
}

/// The list-then-watch loop of an informer as a pure state machine: it decides what to call
/// next, and the IO around it reports what happened. It never touches the network or a clock,
/// so every path (paging, resume, relist, backoff) is tested without either.
///
/// The rules follow client-go's reflector: list in pages, watch from the list's version, resume
/// from the newest version seen (events and bookmarks) when a watch ends, relist on 410 Gone,
/// on an expired continue token and on a version the server has not reached, and back off
/// exponentially on every other failure.
public struct WatcherStateMachine: Sendable {
    public enum Action: Equatable, Sendable {
        /// List one page. `continueToken` is nil for the first page of a list.
        case list(continueToken: String?)
        /// Watch from this version.
        case watch(resourceVersion: String)
        /// Wait this long, then ask again.
        case wait(Duration)
    }

    enum Phase: Equatable {
        case needList
        case listing(continueToken: String)
        case needWatch
        case watching
    }

    private(set) var phase: Phase = .needList
    /// The newest version observed from a complete list, a watch event or a bookmark.
    public private(set) var resourceVersion: String?
    /// True once the first complete list has been delivered.
    public private(set) var hasSynced = false
    private var backoff: Backoff
    private var pendingWait: Duration?
    private var watchStartedAt: Instant?
    private var eventsInWatch = 0
    /// A watch that ends normally sooner than this with no events counts as a failure, so a
    /// server that closes watches at once is not hammered.
    public var minimumHealthyWatch: Duration = .seconds(1)

    public init(backoff: Backoff = Backoff()) {
        self.backoff = backoff
    }

    /// What to do now.
    public mutating func nextAction() -> Action {
        if let wait = pendingWait {
            pendingWait = nil
            return .wait(wait)
        }
        switch phase {
        case .needList: return .list(continueToken: nil)
        case .listing(let token): return .list(continueToken: token)
        case .needWatch, .watching: return .watch(resourceVersion: resourceVersion ?? "")
        }
    }

    /// One page arrived. Returns true when it was the last, and the list is complete at
    /// `resourceVersion`.
    public mutating func listPageReceived(continueToken: String?, resourceVersion listVersion: String) -> Bool {
        if let token = continueToken, !token.isEmpty {
            phase = .listing(continueToken: token)
            return false
        }
        resourceVersion = listVersion
        hasSynced = true
        phase = .needWatch
        return true
    }

    /// A list call failed. An expired continue token restarts the list from its first page at
    /// once; other failures back off first.
    public mutating func listFailed(_ failure: WatchFailure, now: Instant) {
        if case .listing = phase, failure == .gone {
            phase = .needList
            return
        }
        phase = .needList
        pendingWait = backoff.next(now: now)
    }

    /// The watch call returned headers and the stream is open.
    public mutating func watchStarted(now: Instant) {
        phase = .watching
        watchStartedAt = now
        eventsInWatch = 0
    }

    /// An event or bookmark at `version` was received.
    public mutating func eventReceived(resourceVersion version: String) {
        eventsInWatch += 1
        if !version.isEmpty { resourceVersion = version }
    }

    /// The server closed the watch normally (its timeout elapsed). Resume from the newest
    /// version; a watch that closed at once with nothing in it backs off first.
    public mutating func watchEnded(now: Instant) {
        phase = .needWatch
        if eventsInWatch == 0, let started = watchStartedAt, now - started < minimumHealthyWatch {
            pendingWait = backoff.next(now: now)
        }
        watchStartedAt = nil
    }

    /// The watch failed to open or broke. 410 and a too-large version relist; everything
    /// else resumes the watch after a backoff.
    public mutating func watchFailed(_ failure: WatchFailure, now: Instant) {
        watchStartedAt = nil
        switch failure {
        case .gone:
            // The version is gone for good: only a fresh list can say what exists now.
            phase = .needList
            resourceVersion = nil
        case .resourceVersionTooLarge:
            phase = .needList
            resourceVersion = nil
            pendingWait = backoff.next(now: now)
        case .transient, .forbidden, .notFound:
            phase = .needWatch
            pendingWait = backoff.next(now: now)
        }
    }
}

import KubeClient
import KubeRuntime
import KubeRuntimeTesting
import Testing

@Suite("Watcher state machine")
struct WatcherStateMachineTests {
    /// Backoff with no jitter, so delays are exact.
    static func machine() -> WatcherStateMachine {
        WatcherStateMachine(backoff: Backoff(jitter: 0))
    }

    let t0 = ContinuousClock.now

    @Test("lists then watches from the list's resource version")
    func listThenWatch() {
        var m = Self.machine()
        #expect(m.nextAction() == .list(continueToken: nil))
        let complete = m.listPageReceived(continueToken: nil, resourceVersion: "42")
        #expect(complete)
        #expect(m.hasSynced)
        #expect(m.nextAction() == .watch(resourceVersion: "42"))
    }

    @Test("follows continue tokens page by page")
    func paging() {
        var m = Self.machine()
        _ = m.nextAction()
        let first = m.listPageReceived(continueToken: "p2", resourceVersion: "10")
        #expect(!first)
        #expect(!m.hasSynced)
        #expect(m.nextAction() == .list(continueToken: "p2"))
        let second = m.listPageReceived(continueToken: "p3", resourceVersion: "10")
        #expect(!second)
        #expect(m.nextAction() == .list(continueToken: "p3"))
        let third = m.listPageReceived(continueToken: "", resourceVersion: "10")
        #expect(third)
        #expect(m.nextAction() == .watch(resourceVersion: "10"))
    }

    @Test("resumes from the last event or bookmark version after a normal close")
    func resume() {
        var m = Self.machine()
        _ = m.listPageReceived(continueToken: nil, resourceVersion: "5")
        m.watchStarted(now: t0)
        m.eventReceived(resourceVersion: "7")
        m.eventReceived(resourceVersion: "9")  // a bookmark
        m.watchEnded(now: t0.advanced(by: .seconds(300)))
        #expect(m.nextAction() == .watch(resourceVersion: "9"))
        #expect(m.resourceVersion == "9")
    }

    @Test("relists on 410 Gone during a watch without waiting")
    func goneRelists() {
        var m = Self.machine()
        _ = m.listPageReceived(continueToken: nil, resourceVersion: "5")
        m.watchStarted(now: t0)
        m.watchFailed(.gone, now: t0)
        #expect(m.nextAction() == .list(continueToken: nil))
        #expect(m.resourceVersion == nil)
    }

    @Test("restarts the list from the first page when a continue token expires")
    func expiredContinue() {
        var m = Self.machine()
        _ = m.listPageReceived(continueToken: "p2", resourceVersion: "5")
        m.listFailed(.gone, now: t0)
        #expect(m.nextAction() == .list(continueToken: nil))
    }

    @Test("relists after a backoff on a too large resource version")
    func tooLarge() {
        var m = Self.machine()
        _ = m.listPageReceived(continueToken: nil, resourceVersion: "5")
        m.watchFailed(.resourceVersionTooLarge, now: t0)
        #expect(m.nextAction() == .wait(.milliseconds(800)))
        #expect(m.nextAction() == .list(continueToken: nil))
    }

    @Test("resumes the watch after a backoff on a transient failure")
    func transientResumes() {
        var m = Self.machine()
        _ = m.listPageReceived(continueToken: nil, resourceVersion: "5")
        m.watchStarted(now: t0)
        m.eventReceived(resourceVersion: "6")
        m.watchFailed(.transient("connection reset"), now: t0)
        #expect(m.nextAction() == .wait(.milliseconds(800)))
        #expect(m.nextAction() == .watch(resourceVersion: "6"))
    }

    @Test("a failed list backs off and lists again from the start")
    func listFailure() {
        var m = Self.machine()
        m.listFailed(.transient("503"), now: t0)
        #expect(m.nextAction() == .wait(.milliseconds(800)))
        #expect(m.nextAction() == .list(continueToken: nil))
    }

    @Test("a watch that closes at once with nothing in it backs off")
    func shortWatch() {
        var m = Self.machine()
        _ = m.listPageReceived(continueToken: nil, resourceVersion: "5")
        m.watchStarted(now: t0)
        m.watchEnded(now: t0.advanced(by: .milliseconds(10)))
        #expect(m.nextAction() == .wait(.milliseconds(800)))
        #expect(m.nextAction() == .watch(resourceVersion: "5"))
    }

    @Test("backs off 0.8 s doubling to 30 s and resets after 2 minutes without failure")
    func backoffSchedule() {
        var b = Backoff(jitter: 0)
        var now = t0
        var delays: [Duration] = []
        for _ in 0..<8 {
            delays.append(b.next(now: now))
            now = now.advanced(by: .seconds(1))
        }
        #expect(delays == [.milliseconds(800), .milliseconds(1600), .milliseconds(3200), .milliseconds(6400), .milliseconds(12800), .milliseconds(25600), .seconds(30), .seconds(30)])
        #expect(b.next(now: now.advanced(by: .seconds(121))) == .milliseconds(800))
    }

    @Test("jitter stretches a delay by up to its own length")
    func jitter() {
        var b = Backoff(random: { 0.5 })
        #expect(b.next(now: t0) == .milliseconds(1200))
    }

    @Test("sorts errors into gone, too large and transient")
    func classify() {
        func api(_ code: Int, _ reason: String, _ message: String = "", causes: [StatusCause]? = nil) -> KubeAPIError {
            KubeAPIError(code: code, status: Status(message: message, reason: reason, details: causes.map { StatusDetails(causes: $0) }, code: code))
        }
        #expect(WatchFailure.classify(api(410, "Expired", "too old resource version")) == .gone)
        #expect(WatchFailure.classify(api(504, "Timeout", "Too large resource version: 100, current: 50")) == .resourceVersionTooLarge)
        #expect(WatchFailure.classify(api(504, "Timeout", "x", causes: [StatusCause(reason: "ResourceVersionTooLarge")])) == .resourceVersionTooLarge)
        if case .transient = WatchFailure.classify(api(500, "InternalError")) {} else { Issue.record("500 is transient") }
    }
}

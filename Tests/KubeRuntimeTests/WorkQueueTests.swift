import KubeClient
import KubeRuntime
import KubeRuntimeTesting
import Testing

@Suite("Work queue")
struct WorkQueueTests {
    @Test("a key added twice while queued is handed out once")
    func deduplicates() async {
        let queue = WorkQueue<String>(clock: ManualClock())
        queue.add("a")
        queue.add("a")
        queue.add("b")
        #expect(queue.depth == 2)
        #expect(await queue.get() == "a")
        #expect(await queue.get() == "b")
        #expect(queue.depth == 0)
    }

    @Test("a key re-added during processing runs exactly once more after done")
    func readdDuringProcessing() async {
        let queue = WorkQueue<String>(clock: ManualClock())
        queue.add("a")
        let key = await queue.get()
        #expect(key == "a")
        queue.add("a")
        queue.add("a")
        // Not handed out while a worker holds it.
        #expect(queue.depth == 0)
        queue.done("a")
        #expect(queue.depth == 1)
        #expect(await queue.get() == "a")
        queue.done("a")
        #expect(queue.depth == 0)
    }

    @Test("never hands one key to two workers")
    func oneWorkerPerKey() async {
        let queue = WorkQueue<String>(clock: ManualClock())
        queue.add("a")
        _ = await queue.get()
        queue.add("a")
        queue.add("b")
        // A second worker gets b, not a, although a was re-added.
        #expect(await queue.get() == "b")
        #expect(queue.depth == 0)
    }

    @Test("a waiting worker is woken by an add")
    func wakesWaiter() async {
        let queue = WorkQueue<String>(clock: ManualClock())
        async let got = queue.get()
        await settle { false }
        queue.add("x")
        #expect(await got == "x")
    }

    @Test("add after a delay waits for the clock, and the earlier deadline wins")
    func addAfter() async {
        let clock = ManualClock()
        let queue = WorkQueue<String>(clock: clock)
        queue.add("a", after: .seconds(10))
        queue.add("a", after: .seconds(2))
        queue.add("a", after: .seconds(5))
        #expect(queue.depth == 0)
        #expect(queue.delayedCount == 1)
        await settle { clock.sleeperCount > 0 }
        clock.advance(by: .seconds(1))
        await settle { queue.depth > 0 }
        #expect(queue.depth == 0)
        clock.advance(by: .seconds(1))
        await settle { queue.depth > 0 }
        #expect(queue.depth == 1)
        #expect(await queue.get() == "a")
        queue.done("a")
        // The superseded 5 s and 10 s deadlines do not add it again.
        clock.advance(by: .seconds(20))
        await settle { queue.depth > 0 }
        #expect(queue.depth == 0)
    }

    @Test("cancelDelayed drops a key's delayed add; the armed timer fires once for nothing and stops, or serves a later key")
    func cancelDelayed() async {
        let clock = ManualClock()
        let queue = WorkQueue<String>(clock: clock)
        queue.add("a", after: .seconds(5))
        queue.add("b", after: .seconds(10))
        await settle { clock.sleeperCount > 0 }
        queue.cancelDelayed("a")
        queue.cancelDelayed("never-added")
        #expect(queue.delayedCount == 1)
        clock.advance(by: .seconds(5))
        await settle { queue.depth > 0 }
        #expect(queue.depth == 0)
        clock.advance(by: .seconds(5))
        await settle { queue.depth > 0 }
        #expect(queue.depth == 1)
        #expect(await queue.get() == "b")
        queue.done("b")
        // Delayed again, then cancelled: the timer stays armed (no new timer task for the next
        // key), fires at its deadline, adds nothing, and no timer is left sleeping.
        let armedAt = clock.now
        queue.add("b", after: .seconds(3))
        await settle { clock.sleeperCount > 0 }
        #expect(clock.sleeperCount == 1)
        queue.cancelDelayed("b")
        #expect(queue.delayedCount == 0)
        // A later key's deadline rides on the armed timer: no timer for its own deadline.
        queue.add("c", after: .seconds(4))
        await settle { clock.nextDeadline == armedAt.advanced(by: .seconds(4)) }
        #expect(clock.sleeperCount == 1)
        #expect(clock.nextDeadline == armedAt.advanced(by: .seconds(3)), "the timer armed for b still sleeps")
        queue.cancelDelayed("c")
        clock.advance(by: .seconds(3))
        await settle { clock.sleeperCount == 0 }
        #expect(clock.sleeperCount == 0, "the timer fired, found only cancelled entries, and did not arm again")
        clock.advance(by: .seconds(60))
        await settle { queue.depth > 0 }
        #expect(queue.depth == 0)
        // And a live key behind a cancelled one is still added at its own deadline.
        queue.add("d", after: .seconds(2))
        queue.add("e", after: .seconds(5))
        await settle { clock.sleeperCount > 0 }
        queue.cancelDelayed("d")
        clock.advance(by: .seconds(2))
        await settle { queue.depth > 0 }
        #expect(queue.depth == 0)
        clock.advance(by: .seconds(3))
        await settle { queue.depth > 0 }
        #expect(await queue.get() == "e")
        queue.done("e")
    }

    @Test("rate-limited adds back off per key from 5 ms doubling to 1000 s")
    func perKeyBackoff() {
        var limiter = RetryRateLimiter<String>(bucket: TokenBucket(ratePerSecond: 1e9, burst: 1_000_000))
        let now = ContinuousClock.now
        let delays = (0..<4).map { _ in limiter.when("a", now: now) }
        #expect(delays == [.milliseconds(5), .milliseconds(10), .milliseconds(20), .milliseconds(40)])
        #expect(limiter.when("b", now: now) == .milliseconds(5))
        for _ in 0..<40 { _ = limiter.when("a", now: now) }
        #expect(limiter.when("a", now: now) == .seconds(1000))
        #expect(limiter.retries("a") == 45)
    }

    @Test("forget resets a key's backoff")
    func forgetResets() {
        var limiter = RetryRateLimiter<String>()
        let now = ContinuousClock.now
        _ = limiter.when("a", now: now)
        _ = limiter.when("a", now: now)
        limiter.forget("a")
        #expect(limiter.retries("a") == 0)
        #expect(limiter.when("a", now: now) == .milliseconds(5))
    }

    @Test("the overall bucket delays retries beyond a burst of 100 at 10 per second")
    func bucket() {
        var bucket = TokenBucket(ratePerSecond: 10, burst: 100)
        let now = ContinuousClock.now
        for _ in 0..<100 { #expect(bucket.reserve(now: now) == .zero) }
        #expect(bucket.reserve(now: now) == .milliseconds(100))
        #expect(bucket.reserve(now: now) == .milliseconds(200))
        // A second later ten tokens came back, all already owed to the two reservations above
        // and eight more.
        let later = now.advanced(by: .seconds(1))
        #expect(bucket.reserve(now: later) == .zero)
    }

    @Test("take uses a token when one is there and otherwise says how long until one is, taking none")
    func bucketTake() {
        var bucket = TokenBucket(ratePerSecond: 10, burst: 2)
        let now = ContinuousClock.now
        #expect(bucket.take(now: now) == .zero)
        #expect(bucket.take(now: now) == .zero)
        #expect(bucket.take(now: now) == .milliseconds(100))
        // Refused takes owe nothing: the same wait again, and a token once it has passed.
        #expect(bucket.take(now: now) == .milliseconds(100))
        #expect(bucket.take(now: now.advanced(by: .milliseconds(100))) == .zero)
        #expect(bucket.take(now: now.advanced(by: .milliseconds(150))) == .milliseconds(50))
    }

    @Test("addRateLimited uses the larger of the key's backoff and the bucket")
    func rateLimitedAdd() async {
        let clock = ManualClock()
        let queue = WorkQueue<String>(rateLimiter: RetryRateLimiter(bucket: TokenBucket(ratePerSecond: 10, burst: 1)), clock: clock)
        queue.addRateLimited("a")  // bucket has its one token: 5 ms
        queue.addRateLimited("b")  // bucket is empty: 100 ms
        #expect(queue.retries(of: "a") == 1)
        await settle { clock.sleeperCount > 0 }
        clock.advance(by: .milliseconds(5))
        await settle { queue.depth == 1 }
        #expect(queue.depth == 1)
        clock.advance(by: .milliseconds(95))
        await settle { queue.depth == 2 }
        #expect(queue.depth == 2)
    }

    @Test("low-priority keys wait behind normal ones but are never starved")
    func priorities() async {
        let queue = WorkQueue<String>(normalBurst: 2, clock: ManualClock())
        queue.add("low1", priority: .low)
        queue.add("low2", priority: .low)
        for i in 0..<6 { queue.add("n\(i)") }
        var order: [String] = []
        for _ in 0..<8 {
            guard let key = await queue.get() else { break }
            order.append(key)
            queue.done(key)
        }
        #expect(order == ["n0", "n1", "low1", "n2", "n3", "low2", "n4", "n5"])
    }

    @Test("a low key added again at normal priority is promoted and runs once")
    func promotion() async {
        let queue = WorkQueue<String>(clock: ManualClock())
        for i in 0..<3 { queue.add("old\(i)", priority: .low) }
        queue.add("old2")
        #expect(queue.depth == 3)
        #expect(await queue.get() == "old2")
        queue.done("old2")
        #expect(await queue.get() == "old0")
        queue.done("old0")
        #expect(await queue.get() == "old1")
        queue.done("old1")
        // The stale low entry of old2 is skipped.
        #expect(queue.depth == 0)
        queue.shutdown()
        #expect(await queue.get() == nil)
    }

    @Test("shutdown wakes waiting workers with nil and ignores later adds")
    func shutdown() async {
        let queue = WorkQueue<String>(clock: ManualClock())
        async let first = queue.get()
        async let second = queue.get()
        await settle { false }
        queue.shutdown()
        #expect(await first == nil)
        #expect(await second == nil)
        queue.add("late")
        #expect(queue.depth == 0)
    }

    @Test("a cancelled get returns nil")
    func cancelledGet() async {
        let queue = WorkQueue<String>(clock: ManualClock())
        let task = Task { await queue.get() }
        await settle { false }
        task.cancel()
        #expect(await task.value == nil)
        queue.add("a")
        #expect(await queue.get() == "a")
    }

    @Test("unfinished work is measured while a worker holds a key")
    func unfinishedWork() async {
        let clock = ManualClock()
        let queue = WorkQueue<String>(clock: clock)
        queue.add("a")
        queue.add("b")
        _ = await queue.get()
        clock.advance(by: .seconds(3))
        _ = await queue.get()
        clock.advance(by: .seconds(1))
        let (total, longest) = queue.unfinishedWork()
        #expect(total == .seconds(5))
        #expect(longest == .seconds(4))
    }
}

import KubeRuntime

/// Work-queue throughput: adds of distinct keys, then gets (each followed by `done`), and the
/// two at once with several workers.
enum WorkQueueBench {
    struct Result {
        var addsPerSecond: Double
        var getsPerSecond: Double
        var concurrentPerSecond: Double
    }

    static func run(keys: Int, workers: Int) async -> Result {
        let queue = WorkQueue<Int>()
        let clock = ContinuousClock()
        let addTime = clock.measure {
            for key in 0..<keys { queue.add(key) }
        }
        var got = 0
        let start = clock.now
        while got < keys, let key = await queue.get() {
            queue.done(key)
            got += 1
        }
        let getTime = clock.now - start

        // Producers and workers together: each key added twice (the second is deduplicated
        // or re-queued), workers take and finish until all are done.
        let shared = WorkQueue<Int>()
        let concurrentStart = clock.now
        let processed = await withTaskGroup(of: Int.self) { group in
            for w in 0..<workers {
                group.addTask {
                    var count = 0
                    while let key = await shared.get() {
                        shared.done(key)
                        count += 1
                    }
                    _ = w
                    return count
                }
            }
            for key in 0..<keys {
                shared.add(key)
                shared.add(key)
            }
            while shared.depth > 0 || shared.processingCount > 0 { await Task.yield() }
            shared.shutdown()
            var total = 0
            for await count in group { total += count }
            return total
        }
        let concurrentTime = clock.now - concurrentStart
        return Result(addsPerSecond: Double(keys) / addTime.seconds, getsPerSecond: Double(keys) / getTime.seconds, concurrentPerSecond: Double(processed) / concurrentTime.seconds)
    }
}

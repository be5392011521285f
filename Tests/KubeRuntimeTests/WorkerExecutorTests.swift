import Foundation
import KubeClient
import KubeRuntime
import KubeRuntimeTesting
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// Where a controller's workers run when given executors to prefer.
@Suite("Controller workers on event loops")
struct WorkerExecutorTests {
    /// Opens once `count` callers are waiting in ``arrive()``.
    final class Gate: Sendable {
        private let state: Mutex<(waiting: [CheckedContinuation<Void, Never>], arrived: Int)> = Mutex(([], 0))
        let count: Int
        init(count: Int) { self.count = count }

        func arrive() async {
            await withCheckedContinuation { continuation in
                let open: [CheckedContinuation<Void, Never>] = state.withLock { state in
                    state.arrived += 1
                    state.waiting.append(continuation)
                    guard state.arrived >= count else { return [] }
                    defer { state.waiting.removeAll() }
                    return state.waiting
                }
                // Resumed from whichever thread arrived last: each worker must still come back
                // to its own loop.
                for waiter in open { waiter.resume() }
            }
        }
    }

    /// The loop the calling code runs on, by its index in `loops`; nil when on none of them.
    static func loopIndex(_ loops: [any EventLoop]) -> Int? {
        loops.firstIndex { $0.inEventLoop }
    }

    @Test("workers given one executor per loop each run on their loop, before and after a suspension resumed from another thread, and together use every loop")
    func workersSpreadOverLoops() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let loops = Array(group.makeIterator())
        let executors: [any TaskExecutor] = loops.map { EventLoopTaskExecutor($0) }
        let gate = Gate(count: 4)
        let seen = LockedBox<[String: (before: Int?, after: Int?)]>([:])
        let controller = Controller(name: "spread", reconciler: ReconcileFunction { request, _ in
            let before = Self.loopIndex(loops)
            // All four are in flight at once, so each is on a worker of its own.
            await gate.arrive()
            let after = Self.loopIndex(loops)
            seen.withLock { $0[request.name] = (before, after) }
            return .done
        }, options: ControllerOptions(maxConcurrentReconciles: 4, workerExecutors: executors))
        let run = Task { await controller.run() }
        for name in ["a", "b", "c", "d"] { controller.enqueue(ReconcileRequest(namespace: "default", name: name)) }
        try await eventually("all four reconciled") { seen.value.count == 4 }
        run.cancel()
        await run.value

        let rounds = seen.value
        for (name, round) in rounds {
            #expect(round.before != nil, "\(name) ran off the loops")
            #expect(round.before == round.after, "\(name) came back on another thread: \(round)")
        }
        // Four workers on two executors: two on each loop.
        #expect(Set(rounds.values.compactMap(\.before)) == [0, 1])
        try await group.shutdownGracefully()
    }
}

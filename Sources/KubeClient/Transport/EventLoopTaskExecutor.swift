import NIOCore

/// Runs the jobs of the tasks that prefer it on one event loop.
///
/// A task started with this as its executor preference (`addTask(executorPreference:)`,
/// `withTaskExecutorPreference`) runs its nonisolated code on `loop`, and is resumed there
/// after every suspension, whichever thread resumed it. What it sends through a client on that
/// loop's group is read on `loop` too: NIO's `EventLoopGroup.any()`, which AsyncHTTPClient
/// asks for a request's loop, answers the loop it is called on.
public final class EventLoopTaskExecutor: TaskExecutor {
    public let loop: any EventLoop

    public init(_ loop: any EventLoop) {
        self.loop = loop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

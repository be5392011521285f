import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

extension Manager {
    /// Runs until SIGTERM or SIGINT, then shuts down gracefully (see ``run()``). A second
    /// signal during the shutdown exits the process at once with status 130, for an operator
    /// who does not want to wait.
    public func runUntilSignalled() async throws {
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [.init(service: self)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        let logger = self.logger
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            tasks.addTask {
                var seen = 0
                for await signal in await UnixSignalsSequence(trapping: .sigterm, .sigint) {
                    seen += 1
                    if seen >= 2 {
                        logger.warning("second signal during shutdown; exiting now", metadata: ["signal": "\(signal)"])
                        exit(130)
                    }
                }
            }
            // The group ends when the manager has stopped; the signal watcher goes with it.
            try await tasks.next()
            tasks.cancelAll()
        }
    }
}

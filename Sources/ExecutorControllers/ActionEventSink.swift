import FlyteIDL
import Logging
import SwiftProtobuf

/// Where ActionEvents go before each status write (Flyte: `EventsProxyService.Record`).
/// A throw makes the reconciler retry the round without writing the status, so delivery is
/// at least once.
public protocol ActionEventSink: Sendable {
    func record(_ event: Flyteidl2_Workflow_ActionEvent) async throws
}

/// The default sink: logs each event as one line of proto JSON at debug level. ActionEvents
/// are per-transition records for Flyte, not operator logs; building the JSON is skipped
/// unless debug logging is on.
public struct LoggingActionEventSink: ActionEventSink {
    let logger: Logger

    public init(logger: Logger = Logger(label: "action-events")) {
        self.logger = logger
    }

    public func record(_ event: Flyteidl2_Workflow_ActionEvent) async throws {
        guard logger.logLevel <= .debug else { return }
        let json = (try? event.jsonString()) ?? "\(event)"
        logger.debug("action event", metadata: ["event": "\(json)"])
    }
}

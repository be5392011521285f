import FlyteIDL
import Logging
import SwiftProtobuf

/// Where ActionEvents go before each status write (Flyte: `EventsProxyService.Record`).
/// A throw makes the reconciler retry the round without writing the status, so delivery is
/// at least once.
public protocol ActionEventSink: Sendable {
    func record(_ event: Flyteidl2_Workflow_ActionEvent) async throws
}

/// The default sink: logs each event as one line of proto JSON.
public struct LoggingActionEventSink: ActionEventSink {
    let logger: Logger

    public init(logger: Logger = Logger(label: "action-events")) {
        self.logger = logger
    }

    public func record(_ event: Flyteidl2_Workflow_ActionEvent) async throws {
        let json = (try? event.jsonString()) ?? "\(event)"
        logger.info("action event", metadata: ["event": "\(json)"])
    }
}

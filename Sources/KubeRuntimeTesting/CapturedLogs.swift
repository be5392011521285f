import Logging
import Synchronization

/// Log records kept for a test to read: pass ``logger(_:)`` where the code under test takes a
/// `Logger`, then assert on ``records``.
public final class CapturedLogs: Sendable {
    /// One log call.
    public struct Record: Sendable {
        public var level: Logger.Level
        public var message: String
        /// The logger's metadata merged with the call's.
        public var metadata: Logger.Metadata
    }

    private let kept = Mutex<[Record]>([])

    public init() {}

    /// Every record so far, oldest first.
    public var records: [Record] { kept.withLock { $0 } }

    /// A logger at trace level whose records land here.
    public func logger(_ label: String = "test") -> Logger {
        Logger(label: label) { _ in Handler(logs: self) }
    }

    private struct Handler: LogHandler {
        let logs: CapturedLogs
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let record = Record(level: event.level, message: event.message.description, metadata: metadata.merging(event.metadata ?? [:]) { $1 })
            logs.kept.withLock { $0.append(record) }
        }
    }
}

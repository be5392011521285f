import Foundation
import Logging
import KubeClient

/// How logs are written: one JSON object per line for collectors, or text for people.
public enum LogFormat: String, Sendable, CaseIterable {
    case json
    case text
}

/// Writes each record as one JSON line on stderr: `ts`, `level`, `logger`, `msg`, then the
/// metadata, with the keys controller-runtime's zap logger uses.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    public var metadataProvider: Logger.MetadataProvider?
    let label: String

    public init(label: String, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var object: [String: JSONValue] = [
            "ts": .string(KubeTime.formatMicro(Date())),
            "level": .string(event.level.rawValue),
            "logger": .string(label),
            "msg": .string(event.message.description),
        ]
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        for (key, value) in merged where object[key] == nil {
            object[key] = Self.json(value)
        }
        if event.level >= .error { object["caller"] = .string("\(event.file.split(separator: "/").last ?? ""):\(event.line)") }
        var line = JSONValue.object(object).serialized()
        line.append(UInt8(ascii: "\n"))
        line.withUnsafeBufferPointer { buffer in
            // One write(2) per line, so lines from concurrent tasks never interleave.
            _ = write(STDERR_FILENO, buffer.baseAddress, buffer.count)
        }
    }

    static func json(_ value: Logger.MetadataValue) -> JSONValue {
        switch value {
        case .string(let s): return .string(s)
        case .stringConvertible(let c): return .string(c.description)
        case .array(let a): return .array(a.map(json))
        case .dictionary(let d): return .object(d.mapValues(json))
        }
    }
}

extension LogFormat {
    /// Installs this format as the process's logging backend at `level`.
    public func bootstrap(level: Logger.Level = .info) {
        switch self {
        case .json:
            LoggingSystem.bootstrap { label in
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        case .text:
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        }
    }
}

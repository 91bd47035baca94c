import Foundation
import JSONValue
import Logging

/// Writes each log record as one JSON line on standard error: `ts`, `level`, `msg`, then the metadata (`canary`, …),
/// so `jq .msg` works as with Flagger.
public struct JSONLogHandler: LogHandler {
    let label: String
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]

    /// A handler for the logger labelled `label` (written as `logger`).
    public init(label: String) { self.label = label }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var record: [String: JSONValue] = [
            "ts": .string(Date().formatted(.iso8601)),
            "level": .string(event.level.rawValue),
            "msg": .string("\(event.message)"),
            "logger": .string(label),
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
            record[key] = .string("\(value)")
        }
        var line = JSONValue.object(record).serializedBytes()
        line.append(0x0A)
        FileHandle.standardError.write(Data(line))
    }
}

extension Logger {
    /// A JSON logger at `level` for the executable's components.
    public static func json(_ label: String, level: Logger.Level) -> Logger {
        var logger = Logger(label: label) { JSONLogHandler(label: $0) }
        logger.logLevel = level
        return logger
    }
}

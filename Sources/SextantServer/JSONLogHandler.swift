import Foundation
import Logging

/// A `LogHandler` writing one JSON object per line to stderr: `ts`, `level`, `label`, `msg`,
/// and the metadata keys (dotted, e.g. `http.status`).
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String

    /// Creates a handler for `label`.
    public init(label: String) { self.label = label }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [String: String] = [:]
        for (key, value) in metadata { fields[key] = "\(value)" }
        for (key, value) in event.metadata ?? [:] { fields[key] = "\(value)" }
        var line = "{\"ts\":\"\(Date().formatted(.iso8601))\",\"level\":\"\(event.level)\",\"label\":\(TensorCodec.jsonString(label)),\"msg\":\(TensorCodec.jsonString("\(event.message)"))"
        for key in fields.keys.sorted() { line += ",\(TensorCodec.jsonString(key)):\(TensorCodec.jsonString(fields[key]!))" }
        line += "}\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
}

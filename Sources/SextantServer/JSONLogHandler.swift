import Foundation
import KubeCore
import Logging

/// A `LogHandler` writing one JSON object per line to stderr: `ts` (UTC, milliseconds),
/// `level`, `label`, `msg`, and the metadata keys (dotted, e.g. `http.status`), sorted.
/// Lines go through `BufferedLogWriter`, so a request log line costs no system call.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String
    let writer: BufferedLogWriter

    /// Creates a handler for `label` writing to `writer` (stderr by default).
    public init(label: String, writer: BufferedLogWriter = .standardError) {
        self.label = label
        self.writer = writer
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = metadata
        if let extra = event.metadata {
            // Request log lines carry all their metadata on the event: no merge needed.
            if fields.isEmpty { fields = extra } else { fields.merge(extra) { $1 } }
        }
        var line: [UInt8] = []
        line.reserveCapacity(160 + fields.count * 32)
        line.append(contentsOf: #"{"ts":""#.utf8)
        Self.appendTimestamp(to: &line)
        line.append(contentsOf: #"","level":""#.utf8)
        line.append(contentsOf: event.level.rawValue.utf8)
        line.append(contentsOf: #"","label":"#.utf8)
        JSONValue.writeString(label, into: &line)
        line.append(contentsOf: #","msg":"#.utf8)
        JSONValue.writeString(event.message.description, into: &line)
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
            line.append(UInt8(ascii: ","))
            JSONValue.writeString(key, into: &line)
            line.append(UInt8(ascii: ":"))
            if case .string(let string) = value {
                JSONValue.writeString(string, into: &line)
            } else {
                JSONValue.writeString(value.description, into: &line)
            }
        }
        line.append(contentsOf: "}\n".utf8)
        writer.write(line)
    }

    /// Writes a request log line directly: the same line `log` writes for the message
    /// `"request"` with this metadata, without building the metadata dictionary (the request
    /// path's busiest log call). Only for a handler without metadata of its own.
    func logRequest(method: String, route: String, status: Int, duration: Duration, requestID: String?) {
        guard logLevel <= .info else { return }
        var line: [UInt8] = []
        line.reserveCapacity(224)
        line.append(contentsOf: #"{"ts":""#.utf8)
        Self.appendTimestamp(to: &line)
        line.append(contentsOf: #"","level":"info","label":"#.utf8)
        JSONValue.writeString(label, into: &line)
        line.append(contentsOf: #","msg":"request","http.duration_ms":""#.utf8)
        line.append(contentsOf: millisecondsText(duration).utf8)
        line.append(contentsOf: #"","http.method":"#.utf8)
        JSONValue.writeString(method, into: &line)
        line.append(contentsOf: #","http.route":"#.utf8)
        JSONValue.writeString(route, into: &line)
        line.append(contentsOf: #","http.status":""#.utf8)
        line.append(contentsOf: String(status).utf8)
        line.append(UInt8(ascii: "\""))
        if let requestID {
            line.append(contentsOf: #","request.id":"#.utf8)
            JSONValue.writeString(requestID, into: &line)
        }
        line.append(contentsOf: "}\n".utf8)
        writer.write(line)
    }

    /// Appends the current UTC time as `2026-11-24T01:02:03.456Z`.
    static func appendTimestamp(to line: inout [UInt8]) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func digits(_ value: Int, _ count: Int) {
            var divisor = 1
            for _ in 1..<count { divisor *= 10 }
            while divisor > 0 {
                line.append(UInt8(ascii: "0") + UInt8((value / divisor) % 10))
                divisor /= 10
            }
        }
        digits(Int(parts.tm_year) + 1900, 4)
        line.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mon) + 1, 2)
        line.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mday), 2)
        line.append(UInt8(ascii: "T"))
        digits(Int(parts.tm_hour), 2)
        line.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_min), 2)
        line.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_sec), 2)
        line.append(UInt8(ascii: "."))
        digits(Int(now.tv_nsec) / 1_000_000, 3)
        line.append(UInt8(ascii: "Z"))
    }
}

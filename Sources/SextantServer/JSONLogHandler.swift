import Foundation
import KubeCore
import Logging
import Synchronization

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
        appendMillisecondsText(duration, to: &line)
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
        // Lines come many per second: the text up to the seconds is made once per second.
        let upToSeconds = lastSecond.withLock { last in
            if last.second != now.tv_sec { last = (now.tv_sec, secondText(now.tv_sec)) }
            return last.text
        }
        line.append(contentsOf: upToSeconds)
        appendDigits(Int(now.tv_nsec) / 1_000_000, count: 3, to: &line)
        line.append(UInt8(ascii: "Z"))
    }

    private static let lastSecond = Mutex<(second: Int, text: [UInt8])>((-1, []))

    /// `2026-11-24T01:02:03.` for a time in seconds since the epoch.
    private static func secondText(_ second: Int) -> [UInt8] {
        var seconds = second
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var text: [UInt8] = []
        appendDigits(Int(parts.tm_year) + 1900, count: 4, to: &text)
        text.append(UInt8(ascii: "-"))
        appendDigits(Int(parts.tm_mon) + 1, count: 2, to: &text)
        text.append(UInt8(ascii: "-"))
        appendDigits(Int(parts.tm_mday), count: 2, to: &text)
        text.append(UInt8(ascii: "T"))
        appendDigits(Int(parts.tm_hour), count: 2, to: &text)
        text.append(UInt8(ascii: ":"))
        appendDigits(Int(parts.tm_min), count: 2, to: &text)
        text.append(UInt8(ascii: ":"))
        appendDigits(Int(parts.tm_sec), count: 2, to: &text)
        text.append(UInt8(ascii: "."))
        return text
    }
}

/// Appends `value` (not negative) in decimal, zero-padded to at least `count` digits.
func appendDigits(_ value: Int, count: Int, to line: inout [UInt8]) {
    var divisor = 1
    var width = 1
    while width < count || value / divisor >= 10 {
        divisor *= 10
        width += 1
    }
    while divisor > 0 {
        line.append(UInt8(ascii: "0") + UInt8((value / divisor) % 10))
        divisor /= 10
    }
}

/// Appends a duration in milliseconds with three decimals (`12.345`), as `millisecondsText`.
func appendMillisecondsText(_ duration: Duration, to line: inout [UInt8]) {
    let microseconds = max(0, duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000)
    appendDigits(Int(microseconds / 1000), count: 1, to: &line)
    line.append(UInt8(ascii: "."))
    appendDigits(Int(microseconds % 1000), count: 3, to: &line)
}

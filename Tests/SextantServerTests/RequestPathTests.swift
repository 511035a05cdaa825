import Foundation
import Logging
import Testing

@testable import SextantServer

@Suite("Per-request helpers")
struct RequestPathTests {
    /// A new file in a temp directory (the caller closes `descriptor`) and a buffered writer on it.
    private func logFile(_ name: String) throws -> (path: String, descriptor: Int32, writer: BufferedLogWriter) {
        let path = try makeTempDirectory().appendingPathComponent(name).path
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        #expect(descriptor >= 0)
        return (path, descriptor, BufferedLogWriter(fileDescriptor: descriptor))
    }

    @Test("paths map to bounded endpoint templates")
    func templates() {
        let cases: [(String, String)] = [
            ("/", "/"), ("/ready", "/ready"), ("/metrics", "/metrics"), ("/v2", "/v2"), ("/nope", "unmatched"),
            ("/v2/health/live", "/v2/health/live"), ("/v2/health/ready", "/v2/health/ready"), ("/v2/health/x", "/v2/health/other"),
            ("/v2/models/iris", "/v2/models/{name}"), ("/v2/models/iris/infer", "/v2/models/{name}/infer"),
            ("/v2/models/iris/versions/3", "/v2/models/{name}/versions/{version}"),
            ("/v2/models/iris/versions/3/infer", "/v2/models/{name}/versions/{version}/infer"),
            ("/v2/models/iris/feedback", "/v2/models/{name}/feedback"), ("/v2/models/iris/stats", "/v2/models/{name}/stats"),
            ("/v2/models/iris/ready", "/v2/models/{name}/ready"), ("/v2/models/iris/other", "unmatched"),
            ("/v2/models/iris/versions/3/infer/more", "unmatched"),
            ("/v1/models/iris", "/v1/models/{name}"), ("/v1/models/iris:predict", "/v1/models/{name}:predict"),
            ("/v1/models/iris/x", "unmatched"), ("//v2//models/iris/infer", "/v2/models/{name}/infer"),
        ]
        for (path, template) in cases { #expect(endpointTemplate(path) == template, "\(path)") }
    }

    @Test("the prediction memory forgets the oldest ids first and keeps a repeated id once")
    func predictionMemory() {
        var memory = PredictionMemory(capacity: 3)
        for id in ["a", "b", "c"] { memory.remember(id, .values([1])) }
        memory.remember("b", .values([2]))  // replaces, does not take a second place
        #expect(memory.lookup("b") == .values([2]))
        memory.remember("d", .labels(["x"]))
        #expect(memory.lookup("a") == nil)
        #expect(memory.lookup("b") == .values([2]))
        #expect(memory.lookup("d") == .labels(["x"]))
        for index in 0..<10 { memory.remember("n\(index)", .values([Double(index)])) }
        #expect(["b", "c", "d", "n6"].allSatisfy { memory.lookup($0) == nil })
        #expect(memory.lookup("n7") == .values([7]) && memory.lookup("n9") == .values([9]))
    }

    @Test("generated ids are remembered by sequence, in their own ring, and read back from the id")
    func generatedIDsInMemory() {
        let generator = RequestIDGenerator()
        let other = RequestIDGenerator()
        var memory = PredictionMemory(capacity: 4)
        var made: [(id: String, sequence: UInt64)] = []
        for index in 0..<6 {
            let next = generator.nextWithSequence()
            #expect(generator.sequence(of: next.id) == next.sequence)
            memory.remember(next.id, sequence: next.sequence, .values([Double(index)]))
            made.append(next)
        }
        memory.remember("client-id", sequence: nil, .labels(["a"]))
        #expect(memory.lookup(sequence: made[0].sequence) == nil)
        #expect(memory.lookup(sequence: made[1].sequence) == nil)
        #expect(memory.lookup(sequence: made[2].sequence) == .values([2]))
        #expect(memory.lookup(sequence: made[5].sequence) == .values([5]))
        #expect(memory.lookup("client-id") == .labels(["a"]))
        #expect(memory.lookup(made[5].id) == nil)  // generated ids are not in the dictionary
        #expect(other.sequence(of: made[5].id) == nil)
        for malformed in ["", "client-id", String(made[5].id.dropLast()), made[5].id.uppercased() + "0", made[5].id.replacingOccurrences(of: "-", with: "_")] {
            #expect(generator.sequence(of: malformed) == nil, "\(malformed)")
        }
    }

    @Test("request durations are logged in milliseconds with three decimals")
    func durations() {
        #expect(millisecondsText(.microseconds(412)) == "0.412")
        #expect(millisecondsText(.microseconds(7)) == "0.007")
        #expect(millisecondsText(.nanoseconds(999)) == "0.000")
        #expect(millisecondsText(.milliseconds(1500) + .microseconds(20)) == "1500.020")
        #expect(millisecondsText(.seconds(90)) == "90000.000")
    }

    @Test("generated request ids are unique, UUID-shaped, and differ between generators")
    func requestIDs() {
        let generator = RequestIDGenerator()
        let ids = (0..<10_000).map { _ in generator.next() }
        #expect(Set(ids).count == ids.count)
        let shape = #/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/#
        #expect(ids.allSatisfy { $0.wholeMatch(of: shape) != nil }, "\(ids[0])")
        #expect(RequestIDGenerator().next() != RequestIDGenerator().next())
    }

    @Test("request lines written directly are the lines the log handler writes for the same metadata")
    func directRequestLines() throws {
        let (path, descriptor, writer) = try logFile("requests.jsonl")
        defer { close(descriptor) }
        let handler = JSONLogHandler(label: "sextant-server", writer: writer)
        let logger = Logger(label: "sextant-server") { _ in handler }
        for requestID in [nil, "id-\"1\""] as [String?] {
            var metadata: Logger.Metadata = [
                "http.method": "POST", "http.route": "/v2/models/{name}/infer", "http.status": "200", "http.duration_ms": "1.250",
            ]
            if let requestID { metadata["request.id"] = .string(requestID) }
            logger.info("request", metadata: metadata)
            handler.logRequest(method: "POST", route: "/v2/models/{name}/infer", status: 200, duration: .microseconds(1250), requestID: requestID)
        }
        var quiet = handler
        quiet.logLevel = .warning
        quiet.logRequest(method: "GET", route: "/ready", status: 200, duration: .zero, requestID: nil)
        writer.flush()
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { line in
            // Drop the timestamp, which differs between the two calls.
            String(line.drop { $0 != "," })
        }
        #expect(lines.count == 4)
        #expect(lines[0] == lines[1])
        #expect(lines[2] == lines[3])
        #expect(lines[3].contains(#""request.id":"id-\"1\"""#))
    }

    @Test("request targets with a query map to the path's template")
    func templatesOfRawTargets() {
        #expect(endpointTemplate(rawPath: "/v2/models/m/infer?debug=1") == "/v2/models/{name}/infer")
        #expect(endpointTemplate(rawPath: "/metrics") == "/metrics")
        #expect(endpointTemplate(rawPath: "/v2/models/m/versions/3/infer") == "/v2/models/{name}/versions/{version}/infer")
    }

    @Test("JSON log lines reach the file complete and in order, with a UTC timestamp")
    func bufferedJSONLogs() throws {
        let (path, descriptor, writer) = try logFile("log.jsonl")
        defer { close(descriptor) }
        var logger = Logger(label: "test") { JSONLogHandler(label: $0, writer: writer) }
        logger[metadataKey: "pod"] = "a\"b"
        let before = Date()
        for index in 0..<2_000 { logger.info("request", metadata: ["n": "\(index)"]) }
        writer.flush()
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2_000)
        let objects = try lines.map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String]) }
        #expect(objects.map { $0["n"] } == (0..<2_000).map { "\($0)" })
        #expect(objects[0]["pod"] == "a\"b" && objects[0]["level"] == "info" && objects[0]["msg"] == "request" && objects[0]["label"] == "test")
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let stamp = try #require(formatter.date(from: objects[0]["ts"] ?? ""), "\(objects[0])")
        #expect(abs(stamp.timeIntervalSince(before)) < 60)
    }

    @Test("a stalled log destination bounds the buffer: lines beyond it are dropped and counted")
    func stalledDestination() throws {
        var descriptors: [Int32] = [0, 0]
        #expect(pipe(&descriptors) == 0)
        let (readEnd, writeEnd) = (descriptors[0], descriptors[1])
        defer { close(readEnd); close(writeEnd) }
        // Fill the pipe so the writer's next write blocks until the test reads.
        let flags = fcntl(writeEnd, F_GETFL)
        _ = fcntl(writeEnd, F_SETFL, flags | O_NONBLOCK)
        let filler = [UInt8](repeating: UInt8(ascii: "x"), count: 4096)
        var filled = 0
        while true {
            let written = filler.withUnsafeBytes { Foundation.write(writeEnd, $0.baseAddress!, $0.count) }
            if written <= 0 { break }
            filled += written
        }
        _ = fcntl(writeEnd, F_SETFL, flags)
        let writer = BufferedLogWriter(fileDescriptor: writeEnd, maxPendingBytes: 1_000)
        let line = Array("{\"msg\":\"request\"}\n".utf8)
        for _ in 0..<500 { writer.write(line) }
        // Drain everything (the filler, then the lines) while the writer catches up.
        let received = ReceivedBytes()
        let drain = Thread {
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = read(readEnd, &buffer, buffer.count)
                if count <= 0 { return }
                received.append(buffer[0..<count].filter { $0 != UInt8(ascii: "x") })
            }
        }
        drain.start()
        writer.flush()
        let deadline = Date().addingTimeInterval(10)
        var text = received.text
        while Date() < deadline, !text.contains("log lines dropped") {
            Thread.sleep(forTimeInterval: 0.01)
            text = received.text
        }
        #expect(filled > 0)
        #expect(text.contains("log lines dropped: the log destination did not keep up"), "\(text.suffix(300))")
        let kept = text.components(separatedBy: "\"msg\":\"request\"").count - 1
        #expect(kept > 0 && kept < 500, "kept \(kept) of 500 lines with a 1,000-byte buffer")
    }
}

/// Bytes a reader thread collects, read by the test.
final class ReceivedBytes: @unchecked Sendable {
    private let lock = NSLock()
    private var bytes: [UInt8] = []

    func append(_ more: [UInt8]) { lock.withLock { bytes.append(contentsOf: more) } }
    var text: String { lock.withLock { String(decoding: bytes, as: UTF8.self) } }
}

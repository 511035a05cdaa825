import Foundation
import KubeCore
import NIOCore
import NIOHTTP1
import NIOPosix
import SextantTestSupport

/// A small HTTP/1.1 client over real sockets for protocol tests: one connection per request,
/// JSON bodies, and watch streams read line by line as they arrive.
struct TestHTTPClient: Sendable {
    let port: Int
    /// The address to connect to (a Service's cluster IP in service proxy tests).
    var host = "127.0.0.1"

    struct Response: Sendable {
        let status: Int
        let headers: [String: String]
        let body: JSONValue
        let text: String
    }

    /// Sends one request and reads the whole response.
    func request(
        _ method: String, _ path: String, body: JSONValue? = nil, contentType: String = "application/json",
        headers: [String: String] = [:]
    ) async throws -> Response {
        let connection = try await connect()
        return try await connection.executeThenClose { inbound, outbound in
            try await send(method, path, body: body.map { Data($0.jsonString().utf8) }, contentType: contentType, headers: headers, outbound)
            var status = 0
            var responseHeaders: [String: String] = [:]
            var buffer = ByteBuffer()
            for try await part in inbound {
                switch part {
                case .head(let head):
                    status = Int(head.status.code)
                    for (name, value) in head.headers { responseHeaders[name.lowercased()] = value }
                case .body(var chunk):
                    buffer.writeBuffer(&chunk)
                case .end:
                    let text = String(buffer: buffer)
                    let json = (try? JSONValue(parsing: Data(text.utf8))) ?? .string(text)
                    return Response(status: status, headers: responseHeaders, body: json, text: text)
                }
            }
            throw TestError("connection closed before the response ended")
        }
    }

    /// Sends a raw body (YAML, for example).
    func request(_ method: String, _ path: String, rawBody: String, contentType: String) async throws -> Response {
        let connection = try await connect()
        return try await connection.executeThenClose { inbound, outbound in
            try await send(method, path, body: Data(rawBody.utf8), contentType: contentType, headers: [:], outbound)
            var status = 0
            var buffer = ByteBuffer()
            for try await part in inbound {
                switch part {
                case .head(let head): status = Int(head.status.code)
                case .body(var chunk): buffer.writeBuffer(&chunk)
                case .end:
                    let text = String(buffer: buffer)
                    return Response(status: status, headers: [:], body: (try? JSONValue(parsing: Data(text.utf8))) ?? .string(text), text: text)
                }
            }
            throw TestError("connection closed before the response ended")
        }
    }

    /// Opens a watch and yields each JSON event as it arrives; the stream ends when the
    /// server ends the response. Cancelling the consuming task closes the connection.
    func watch(_ path: String) -> AsyncThrowingStream<JSONValue, Error> {
        let lines = watchLines(path)
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    for try await line in lines { continuation.yield(try JSONValue(parsing: Data(line.utf8))) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// The raw JSON lines of a watch, unparsed (for tests that count millions of events).
    func watchLines(_ path: String) -> AsyncThrowingStream<String, Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    let connection = try await connect()
                    try await connection.executeThenClose { inbound, outbound in
                        try await send("GET", path, body: nil, contentType: "application/json", headers: [:], outbound)
                        var pending: [UInt8] = []
                        for try await part in inbound {
                            switch part {
                            case .head(let head) where head.status.code != 200:
                                throw TestError("watch answered \(head.status.code)")
                            case .head: break
                            case .body(let chunk):
                                pending.append(contentsOf: chunk.readableBytesView)
                                var start = 0
                                while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                                    if newline > start { continuation.yield(String(decoding: pending[start..<newline], as: UTF8.self)) }
                                    start = newline + 1
                                }
                                pending.removeFirst(start)
                            case .end:
                                continuation.finish()
                                return
                            }
                        }
                        continuation.finish()
                    }
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    private func connect() async throws -> NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart> {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                }
            }
    }

    private func send(
        _ method: String, _ path: String, body: Data?, contentType: String, headers: [String: String],
        _ outbound: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>
    ) async throws {
        var httpHeaders = HTTPHeaders()
        httpHeaders.add(name: "Host", value: "\(host):\(port)")
        httpHeaders.add(name: "User-Agent", value: "sextant-tests/1.0")
        httpHeaders.add(name: "Connection", value: "close")
        for (name, value) in headers { httpHeaders.add(name: name, value: value) }
        if let body {
            httpHeaders.add(name: "Content-Type", value: contentType)
            httpHeaders.add(name: "Content-Length", value: String(body.count))
        }
        try await outbound.write(.head(HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: path, headers: httpHeaders)))
        if let body { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
        try await outbound.write(.end(nil))
    }
}

/// Collects the events of a watch as they arrive, so tests can wait for the n-th one with a deadline.
actor WatchRecorder {
    private(set) var events: [JSONValue] = []
    private(set) var finished = false
    private(set) var failure: String?
    private var consumer: Task<Void, Never>?

    init(_ stream: AsyncThrowingStream<JSONValue, Error>) {
        consumer = nil
        Task { await self.start(stream) }
    }

    private func start(_ stream: AsyncThrowingStream<JSONValue, Error>) {
        consumer = Task {
            do {
                for try await event in stream { self.append(event) }
                self.finish(nil)
            } catch {
                self.finish("\(error)")
            }
        }
    }

    private func append(_ event: JSONValue) { events.append(event) }
    private func finish(_ error: String?) {
        finished = true
        failure = error
    }

    /// Stops reading (closes the connection).
    func stop() { consumer?.cancel() }

    /// The event at `index`, waiting up to `seconds` for it.
    func event(_ index: Int, within seconds: Double = 60) async throws -> JSONValue {
        try await waitFor(within: seconds, "event #\(index)") { [index] events, _ in events.count > index }
        return events[index]
    }

    /// Waits until the server ends the stream.
    func waitUntilFinished(within seconds: Double = 60) async throws {
        try await waitFor(within: seconds, "the end of the watch") { _, finished in finished }
    }

    private func waitFor(within seconds: Double, _ what: String, _ condition: ([JSONValue], Bool) -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while !condition(events, finished) {
            if finished && !condition(events, finished) {
                throw TestError("watch ended before \(what); events: \(events.map { $0.jsonString() }) \(failure ?? "")")
            }
            guard ContinuousClock.now < deadline else { throw TestError("no \(what) within \(seconds)s; events so far: \(events.count)") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}

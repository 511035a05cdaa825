import Foundation
import Testing

@testable import SextantServer

#if canImport(Glibc)
import Glibc
#endif

/// `InferenceFastPath` over real sockets: inference requests that arrive whole are answered on
/// the event loop, with the answer the router gives; everything else still goes through the
/// router. (`FastPathFramingTests` decides the reads.)
@Suite("Inference fast path")
struct FastPathTests {
    static let lrBody = #"{"id":"ID","inputs":[{"name":"input","datatype":"FP32","shape":[1,8],"data":[0,1,2,3,4,5,6,7]}]}"#

    /// A request with a declared length (the fast path may take it).
    static func whole(_ target: String, _ body: String, headers: String = "") -> String {
        "POST \(target) HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\(headers)Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
    }

    /// The same request in one chunk (no declared length: only the router takes it).
    static func chunked(_ target: String, _ body: String) -> String {
        "POST \(target) HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "\(String(body.utf8.count, radix: 16))\r\n\(body)\r\n0\r\n\r\n"
    }

    static func fastPathCount(_ port: Int) async throws -> Int {
        let metrics = try await http("GET", "http://127.0.0.1:\(port)/metrics").text
        let line = metrics.split(separator: "\n").first { $0.hasPrefix("sextant_fast_path_requests_total ") }
        return Int(try #require(line).split(separator: " ")[1]) ?? -1
    }

    @Test("answers on the fast path equal the router's: status, header fields and body, successes and errors")
    func sameAnswers() async throws {
        var configuration = ServeConfiguration(modelURI: fixtureURL("logistic_regression.onnx").absoluteString, modelName: "lr")
        configuration.modelVersion = "2"
        try await withServer(configuration) { port, _ in
            let cases: [(target: String, body: String)] = [
                ("/v2/models/lr/infer", Self.lrBody),
                ("/v2/models/lr/versions/2/infer", Self.lrBody),
                ("/v1/models/lr:predict", #"{"instances":[[0,1,2,3,4,5,6,7]]}"#),
                ("/v2/models/lr/infer", #"{"inputs":[{"name":"wrong","datatype":"FP32","shape":[1,8],"data":[0,1,2,3,4,5,6,7]}]}"#),
                ("/v2/models/lr/infer", #"{"inputs":[{"name":"input","datatype":"FP32","shape":[1,8],"data":[0,1,2"#),
                ("/v2/models/other/infer", Self.lrBody),
                ("/v2/models/lr/versions/9/infer", Self.lrBody),
                ("/v1/models/other:predict", #"{"instances":[[0,1,2,3,4,5,6,7]]}"#),
            ]
            for (target, body) in cases {
                let before = try await Self.fastPathCount(port)
                let fast = try RawConnection(port: port)
                fast.send(Self.whole(target, body))
                let fastAnswer = try ParsedResponse(await fast.readResponse())
                #expect(try await Self.fastPathCount(port) == before + 1, "\(target) did not take the fast path")

                let routed = try RawConnection(port: port)
                routed.send(Self.chunked(target, body))
                let routedAnswer = try ParsedResponse(await routed.readResponse())
                #expect(try await Self.fastPathCount(port) == before + 1, "\(target) chunked took the fast path")

                #expect(fastAnswer.status == routedAnswer.status, "\(target)")
                #expect(fastAnswer.headerNames == routedAnswer.headerNames, "\(target)")
                for name in fastAnswer.headerNames where !["date", "x-request-id", "content-length"].contains(name) {
                    #expect(fastAnswer.headers[name] == routedAnswer.headers[name], "\(target) \(name)")
                }
                #expect(fastAnswer.comparableBody == routedAnswer.comparableBody, "\(target)")
                #expect(fastAnswer.headers["server"] == "sextant-server")
                #expect(fastAnswer.headers["date"].map(ParsedResponse.isHTTPDate) == true, "\(fastAnswer.headers)")
            }
        }
    }

    @Test("pipelined requests wait behind one the router still answers: answers keep their order; then the fast path answers again")
    func pipelinedOrder() async throws {
        let configuration = ServeConfiguration(modelURI: fixtureURL("logistic_regression.onnx").absoluteString, modelName: "lr")
        try await withServer(configuration) { port, _ in
            let body = { (id: String) in Self.lrBody.replacingOccurrences(of: "\"ID\"", with: "\"\(id)\"") }
            func ids(_ answers: [ParsedResponse]) throws -> [String?] {
                try answers.map { try #require(JSONSerialization.jsonObject(with: Data($0.body.utf8)) as? [String: Any])["id"] as? String }
            }
            // A query string takes the router; a chunked body hands the connection to it.
            for first in [Self.whole("/v2/models/lr/infer?trace=1", body("first")), Self.chunked("/v2/models/lr/infer", body("first"))] {
                let connection = try RawConnection(port: port)
                connection.send(first + Self.whole("/v2/models/lr/infer", body("second")) + Self.whole("/v2/models/lr/infer", body("third")))
                let answers = try await connection.readResponses(3)
                #expect(answers.map(\.status) == [200, 200, 200])
                #expect(try ids(answers) == ["first", "second", "third"])
                let before = try await Self.fastPathCount(port)
                connection.send(Self.whole("/v2/models/lr/infer", body("fourth")))
                #expect(try ids(await connection.readResponses(1)) == ["fourth"])
                let fast = try await Self.fastPathCount(port) == before + 1
                #expect(fast == first.contains("trace=1"), "after \(first.prefix(40))")
            }
        }
    }

    @Test("Connection: close is honoured: the answer, then the server closes")
    func connectionClose() async throws {
        let configuration = ServeConfiguration(modelURI: fixtureURL("logistic_regression.onnx").absoluteString, modelName: "lr")
        try await withServer(configuration) { port, _ in
            let connection = try RawConnection(port: port)
            connection.send(Self.whole("/v2/models/lr/infer", Self.lrBody, headers: "Connection: close\r\n"))
            let answer = try ParsedResponse(await connection.readResponse())
            #expect(answer.status == 200)
            let rest = await connection.readUntilClosed()
            #expect(rest.closed && rest.data.isEmpty)
            #expect(try await Self.fastPathCount(port) == 1)
        }
    }

    @Test("--idle-timeout closes a silent connection, one stalled before its body and one trickling a head, not one kept busy on the fast path")
    func idleTimeout() async throws {
        var configuration = ServeConfiguration(modelURI: fixtureURL("logistic_regression.onnx").absoluteString, modelName: "lr")
        configuration.idleTimeout = 2
        try await withServer(configuration) { port, _ in
            let silent = try RawConnection(port: port)
            let stalled = try RawConnection(port: port)
            stalled.send("POST /v2/models/lr/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
            // A head sent one byte every 100 ms never completes a request: reads alone are not
            // activity.
            let trickling = try RawConnection(port: port)
            async let trickleClosed = trickling.trickle(
                "POST /v2/models/lr/infer HTTP/1.1\r\nHost: x\r\nX-Padding: " + String(repeating: "a", count: 1000), every: .milliseconds(100),
                closedWithin: .seconds(60))
            let busy = try RawConnection(port: port)
            // Requests every 50 ms for more than twice the idle timeout, on one connection (sent
            // from a thread of its own, so the pace does not depend on the tests' task pool).
            let statuses = await busy.exchangeRepeatedly(Self.whole("/v2/models/lr/infer", Self.lrBody), every: .milliseconds(50), for: .seconds(5))
            #expect(await trickleClosed, "the trickling connection is open")
            let answered = statuses.count
            #expect(statuses.allSatisfy { $0 == 200 }, "\(statuses)")
            #expect(answered > 10)
            #expect(try await Self.fastPathCount(port) == answered)
            #expect(await silent.readUntilClosed().closed, "the silent connection is open")
            #expect(await stalled.readUntilClosed().closed, "the stalled connection is open")
        }
    }

    @Test("with faults injected, inference requests go through the router, which applies them")
    func faultsTakeTheRouter() async throws {
        var configuration = ServeConfiguration(modelURI: fixtureURL("logistic_regression.onnx").absoluteString, modelName: "lr")
        configuration.faultErrorRate = 1
        try await withServer(configuration) { port, _ in
            let answer = try await http("POST", "http://127.0.0.1:\(port)/v2/models/lr/infer", body: Data(Self.lrBody.utf8))
            #expect(answer.status == 500 && answer.text.contains("injected fault"), "\(answer.text)")
            #expect(try await Self.fastPathCount(port) == 0)
        }
    }

    @Test("inference targets are recognised only when spelled plainly")
    func endpoints() {
        #expect(InferenceEndpoint(target: "/v2/models/m/infer") == .v2Infer(model: "m", version: nil))
        #expect(InferenceEndpoint(target: "/v2/models/m/versions/7/infer") == .v2Infer(model: "m", version: "7"))
        #expect(InferenceEndpoint(target: "/v1/models/m:predict") == .v1Predict(model: "m"))
        #expect(InferenceEndpoint(target: "/v1/models/a:b:predict") == .v1Predict(model: "a:b"))
        #expect(InferenceEndpoint(target: "/v2/models/versions/infer") == .v2Infer(model: "versions", version: nil))
        for target in [
            "/v2/models/m/infer?x=1", "/v2/models/m%20n/infer", "/v2/models/m/infer/", "/v2/models//infer", "//v2/models/m/infer",
            "/v1/models/:predict", "/v1/models/m", "/v2/models/m", "/v2/models/m/ready", "/v2/models/m/versions/7/ready",
            "/v2/models/m/feedback", "v2/models/m/infer", "/v3/models/m/infer", "/", "",
        ] {
            #expect(InferenceEndpoint(target: target) == nil, "\(target)")
        }
        for endpoint: InferenceEndpoint in [.v2Infer(model: "m", version: nil), .v2Infer(model: "m", version: "7"), .v1Predict(model: "m")] {
            let target =
                switch endpoint {
                case .v2Infer(let model, nil): "/v2/models/\(model)/infer"
                case .v2Infer(let model, let version?): "/v2/models/\(model)/versions/\(version)/infer"
                case .v1Predict(let model): "/v1/models/\(model):predict"
                }
            #expect(endpoint.template == endpointTemplate(target))
        }
    }

    @Test("HTTP dates are IMF-fixdates in UTC")
    func httpDates() {
        #expect(HTTPDateCache.format(epochSeconds: 0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDateCache.format(epochSeconds: 1_796_398_756) == "Fri, 04 Dec 2026 15:39:16 GMT")
        #expect(HTTPDateCache.format(epochSeconds: 951_782_400) == "Tue, 29 Feb 2000 00:00:00 GMT")
        var cache = HTTPDateCache()
        let now = cache.now()
        #expect(ParsedResponse.isHTTPDate(now), "\(now)")
    }
}

/// A response read from a raw connection: status, header fields (names lowercased), body.
struct ParsedResponse {
    var status: Int
    var headerNames: [String]
    var headers: [String: String]
    var body: String

    init(_ text: String) throws {
        let parts = text.components(separatedBy: "\r\n\r\n")
        let lines = try #require(parts.first).components(separatedBy: "\r\n")
        let statusLine = try #require(lines.first).split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw RouterError("not an HTTP response: '\(text)'") }
        self.status = status
        headerNames = []
        headers = [:]
        for line in lines.dropFirst() {
            let colon = try #require(line.firstIndex(of: ":"))
            let name = line[..<colon].lowercased()
            headerNames.append(name)
            headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        body = parts.dropFirst().joined(separator: "\r\n\r\n")
    }

    /// The body with generated request ids blanked out (they differ between two requests).
    var comparableBody: String {
        body.replacingOccurrences(of: #""id":"[0-9a-f-]{36}""#, with: #""id":"…""#, options: .regularExpression)
    }

    static func isHTTPDate(_ text: String) -> Bool {
        text.range(of: #"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-3][0-9] [A-Z][a-z]{2} [0-9]{4} [0-2][0-9]:[0-5][0-9]:[0-6][0-9] GMT$"#, options: .regularExpression)
            != nil
    }
}

extension RawConnection {
    /// Reads `count` responses sent back to back (each with a Content-Length).
    func readResponses(_ count: Int) async throws -> [ParsedResponse] {
        let texts = await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: self.readResponsesBlocking(count)) }
        }
        return try texts.map(ParsedResponse.init)
    }

    private func readResponsesBlocking(_ count: Int) -> [String] {
        var data = [UInt8]()
        var responses: [String] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while responses.count < count {
            // Split off every complete response at the front.
            while let (length, text) = Self.firstResponse(in: data) {
                responses.append(text)
                data.removeFirst(length)
            }
            if responses.count == count { break }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            data.append(contentsOf: buffer[0..<n])
        }
        return responses
    }

    /// Sends `request` and reads its answer, again every `interval` for `duration`, on a thread
    /// of its own; the answers' status codes (0 for a connection closed before an answer, which
    /// ends the exchange).
    func exchangeRepeatedly(_ request: String, every interval: Duration, for duration: Duration) async -> [Int] {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var statuses: [Int] = []
                let start = ContinuousClock.now
                while ContinuousClock.now - start < duration {
                    self.send(request)
                    let answer = try? ParsedResponse(self.readResponseBlocking())
                    statuses.append(answer?.status ?? 0)
                    if answer == nil { break }
                    usleep(UInt32(interval.components.attoseconds / 1_000_000_000_000))
                }
                continuation.resume(returning: statuses)
            }
        }
    }

    /// Sends `text` one byte every `interval`, on a thread of its own, until the server closes
    /// the connection (true) or `limit` passes or the text runs out (false).
    func trickle(_ text: String, every interval: Duration, closedWithin limit: Duration) async -> Bool {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                let start = ContinuousClock.now
                var probe = [UInt8](repeating: 0, count: 16)
                for byte in text.utf8 where ContinuousClock.now - start < limit {
                    let peeked = recv(self.fd, &probe, probe.count, Int32(MSG_DONTWAIT))
                    if peeked == 0 || (peeked < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
                        continuation.resume(returning: true)
                        return
                    }
                    var one = byte
                    _ = Glibc.send(self.fd, &one, 1, Int32(MSG_NOSIGNAL))
                    usleep(UInt32(interval.components.attoseconds / 1_000_000_000_000))
                }
                continuation.resume(returning: false)
            }
        }
    }

    /// Reads until the peer closes the connection (`closed`) or nothing arrives for `seconds`;
    /// what arrived meanwhile.
    func readUntilClosed(waitingAtMost seconds: Int = 20) async -> (data: [UInt8], closed: Bool) {
        var limit = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var data = [UInt8]()
                var buffer = [UInt8](repeating: 0, count: 4096)
                while true {
                    let n = recv(self.fd, &buffer, buffer.count, 0)
                    if n <= 0 {
                        continuation.resume(returning: (data, n == 0))
                        return
                    }
                    data.append(contentsOf: buffer[0..<n])
                }
            }
        }
    }
}

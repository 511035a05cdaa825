import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Testing

@testable import SextantServer

#if canImport(Glibc)
import Glibc
#endif

/// `<this file's dir>/../Fixtures/onnx` (the same relative place in /work/main/Tests).
let fixturesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/onnx")

func fixtureURL(_ name: String) -> URL { fixturesDirectory.appendingPathComponent(name) }

let testLogger: Logger = {
    var logger = Logger(label: "sextant-server-tests")
    logger.logLevel = .warning
    return logger
}()

/// A fresh temporary directory.
func makeTempDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("sextant-server-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Runs an in-process inference server on port 0 until `body` returns; waits until the model
/// has loaded or failed.
func withServer(
    _ configuration: ServeConfiguration, fetchSettings: ModelFetchSettings = ModelFetchSettings(),
    _ body: @Sendable (_ port: Int, _ plane: DataPlane) async throws -> Void
) async throws {
    var configuration = configuration
    configuration.port = 0
    let plane = DataPlane(
        options: DataPlaneOptions(
            modelName: configuration.modelName, modelVersion: configuration.modelVersion,
            allowNaN: configuration.allowNaN, driftWindow: configuration.driftWindow),
        logger: testLogger)
    let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
    let app = buildServerApplication(configuration: configuration, dataPlane: plane, logger: testLogger) { portContinuation.yield($0) }
    let loader = ModelLoaderService(dataPlane: plane, configuration: configuration, fetcher: ModelFetcher(settings: fetchSettings))
    let group = ServiceGroup(configuration: .init(services: [app, loader], logger: testLogger))
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        let port = await iterator.next() ?? 0
        for _ in 0..<600 {
            if case .loading = plane.state { try await Task.sleep(for: .milliseconds(50)) } else { break }
        }
        do {
            try await body(port, plane)
        } catch {
            await group.triggerGracefulShutdown()
            throw error
        }
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
    }
}

/// A minimal HTTP response.
struct HTTPResult: Sendable {
    var status: Int
    var headers: [String: String]
    var body: Data
    var text: String { String(decoding: body, as: UTF8.self) }
    func json() throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
    }
}

/// Sends one request with AsyncHTTPClient.
func http(_ method: String, _ url: String, body: Data? = nil, headers: [String: String] = [:]) async throws -> HTTPResult {
    var request = HTTPClientRequest(url: url)
    request.method = .init(rawValue: method)
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    if let body {
        request.body = .bytes(ByteBuffer(bytes: body))
        request.headers.add(name: "content-type", value: "application/json")
    }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
    let bytes = try await response.body.collect(upTo: 64 << 20)
    var fields: [String: String] = [:]
    for (name, value) in response.headers { fields[name.lowercased()] = value }
    return HTTPResult(status: Int(response.status.code), headers: fields, body: Data(bytes.readableBytesView))
}

func jsonData(_ object: Any) throws -> Data { try JSONSerialization.data(withJSONObject: object) }

/// A blocking raw TCP connection, for requests whose body is sent slowly.
final class RawConnection: @unchecked Sendable {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { throw RouterError("connect failed") }
    }

    func send(_ string: String) {
        let bytes = Array(string.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Reads the response on a dispatch thread (never blocking the cooperative pool, which the
    /// in-process server also uses).
    func readResponse() async -> String {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: self.readResponseBlocking()) }
        }
    }

    /// Reads until the peer closes or a whole response (`Content-Length` bytes of body) arrived.
    func readResponseBlocking() -> String {
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            data.append(contentsOf: buffer[0..<n])
            if let (_, text) = Self.firstResponse(in: data) { return text }
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// The first complete response in `data` (one with a Content-Length) and its length in bytes.
    static func firstResponse(in data: [UInt8]) -> (Int, String)? {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard data.count >= 4, let end = (0...(data.count - 4)).first(where: { Array(data[$0..<($0 + 4)]) == separator }) else { return nil }
        let head = String(decoding: data[..<end], as: UTF8.self).lowercased()
        guard let line = head.components(separatedBy: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
            let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces))
        else { return nil }
        let total = end + 4 + length
        guard data.count >= total else { return nil }
        return (total, String(decoding: data[..<total], as: UTF8.self))
    }

    deinit { close(fd) }
}

/// Runs a command to completion, returning exit status and output.
@discardableResult
func runProcess(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// Finds a program on PATH.
func which(_ name: String) -> String? {
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
        let path = "\(dir)/\(name)"
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return nil
}

/// Waits until `url` answers 200.
func waitFor200(_ url: String, attempts: Int = 200) async throws {
    for _ in 0..<attempts {
        if let result = try? await http("GET", url), result.status == 200 { return }
        try await Task.sleep(for: .milliseconds(100))
    }
    throw RouterError("\(url) never answered 200")
}

/// A fixture's expected.json, parsed.
struct Expected: Sendable {
    var inputShape: [Int]
    var inputData: [Double]
    var outputs: [String: (datatype: String, shape: [Int], data: [Double])]

    init(model: String) throws {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: fixtureURL("\(model).expected.json"))) as? [String: Any])
        let inputs = try #require(object["inputs"] as? [String: Any])
        let input = try #require(inputs["input"] as? [String: Any])
        inputShape = try #require(input["shape"] as? [Int])
        inputData = try #require(input["data"] as? [Double])
        var outputs: [String: (String, [Int], [Double])] = [:]
        for (name, value) in try #require(object["outputs"] as? [String: Any]) {
            let tensor = try #require(value as? [String: Any])
            outputs[name] = (
                try #require(tensor["datatype"] as? String), try #require(tensor["shape"] as? [Int]),
                (try #require(tensor["data"] as? [Any])).map { ($0 as? NSNumber)?.doubleValue ?? .nan }
            )
        }
        self.outputs = outputs.mapValues { (datatype: $0.0, shape: $0.1, data: $0.2) }
    }

    var rows: [[Double]] {
        let width = inputShape[1]
        return (0..<inputShape[0]).map { Array(inputData[($0 * width)..<(($0 + 1) * width)]) }
    }
}

func approxEqual(_ a: Double, _ b: Double) -> Bool {
    abs(a - b) <= 1e-5 * max(1, abs(b))
}

import Foundation

/// A process running in the background for one test; `stop()` terminates it.
final class StartedProcess: Sendable {
    private let process: Process

    init(_ arguments: [String], directory: URL) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        process.currentDirectoryURL = directory
        process.standardInput = FileHandle.nullDevice
        let log = directory.appendingPathComponent("\(URL(fileURLWithPath: arguments[0]).lastPathComponent)-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: log)
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        self.process = process
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }
}

/// A free loopback TCP port.
func freePort() throws -> Int {
    let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard socket >= 0 else { throw TestError("socket() failed") }
    defer { close(socket) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
    }
    guard bound else { throw TestError("bind() failed") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Waits until `condition` holds, failing after `seconds` with `what`.
func eventually(within seconds: Double = 60, _ what: String, _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
    while ContinuousClock.now < deadline {
        if (try? await condition()) == true { return }
        try await Task.sleep(for: .milliseconds(100))
    }
    if try await condition() { return }
    throw TestError("timed out after \(seconds)s waiting for: \(what)")
}

/// An HTTP answer (through curl, which these machines ship).
struct HTTPAnswer {
    let status: Int
    let text: String
}

func httpGet(_ url: String) async throws -> HTTPAnswer { try await curl([url]) }

func httpPost(_ url: String, body: String) async throws -> HTTPAnswer {
    try await curl(["-X", "POST", "-H", "Content-Type: application/json", "--data-binary", body, url])
}

/// Where curl's output files go (one directory for the whole run).
private let curlDirectory = Result { try scratchDirectory() }

private func curl(_ arguments: [String]) async throws -> HTTPAnswer {
    let result = try await runProcess(["curl", "-s", "-m", "5", "-w", "\n%{http_code}"] + arguments, directory: try curlDirectory.get(), timeout: 10)
    guard result.status == 0, let newline = result.stdout.lastIndex(of: "\n"), let status = Int(result.stdout[result.stdout.index(after: newline)...]) else {
        throw TestError("curl \(arguments.last ?? ""): exit \(result.status) \(result.stderr)")
    }
    return HTTPAnswer(status: status, text: String(result.stdout[..<newline]))
}

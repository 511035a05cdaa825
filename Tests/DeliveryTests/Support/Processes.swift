import Foundation
import SextantTestSupport

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

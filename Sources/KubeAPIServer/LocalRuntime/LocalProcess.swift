import Foundation
import Synchronization
import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// One container of a pod, running as a local process: its command line, environment, log
/// file and termination-message file, and a way to wait for its exit.
final class LocalProcess: @unchecked Sendable {
    /// How a process ended.
    struct Exit: Sendable {
        let code: Int32
        let signalled: Bool
    }

    let process = Process()
    let logPath: String
    let terminationLogPath: String
    private let exitSignal = ExitSignal()

    /// Starts `arguments[0]` with the rest as arguments; stdout and stderr go to `logPath`.
    init(arguments: [String], environment: [String: String], directory: URL) throws {
        logPath = directory.appendingPathComponent("container.log").path
        terminationLogPath = directory.appendingPathComponent("termination-log").path
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: logPath) { _ = FileManager.default.createFile(atPath: logPath, contents: nil) }
        _ = FileManager.default.createFile(atPath: terminationLogPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        process.environment = environment.merging(["SEXTANT_TERMINATION_LOG": terminationLogPath]) { _, new in new }
        process.currentDirectoryURL = directory
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        let signal = exitSignal
        process.terminationHandler = { finished in
            signal.fire(Exit(code: finished.terminationStatus, signalled: finished.terminationReason == .uncaughtSignal))
            try? log.close()
        }
        try process.run()
    }

    /// Waits for the process to end; nil when the waiting task is cancelled first.
    func waitForExit() async -> Exit? {
        await exitSignal.wait()
    }

    /// SIGTERM, then SIGKILL if it has not ended after `grace`. Runs to the end even when the
    /// calling task is cancelled (a stopping pod must not leave its process behind).
    func stop(grace: Duration = .seconds(2)) async {
        guard process.isRunning else { return }
        process.terminate()
        let signal = exitSignal
        let pid = process.processIdentifier
        await Task {
            let graceful = await withTaskGroup(of: Bool.self) { group in
                group.addTask { await signal.wait() != nil }
                group.addTask {
                    try? await Task.sleep(for: grace)
                    return false
                }
                let first = await group.next() ?? false
                group.cancelAll()
                return first
            }
            if !graceful {
                kill(pid, SIGKILL)
                _ = await signal.wait()
            }
        }.value
    }

    /// The termination message: the file the process wrote, else (when asked) the log's tail.
    func terminationMessage(fallbackToLogs: Bool) -> String {
        let written = (try? String(contentsOfFile: terminationLogPath, encoding: .utf8)) ?? ""
        if !written.isEmpty || !fallbackToLogs { return String(written.prefix(4096)) }
        let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return log.split(separator: "\n", omittingEmptySubsequences: false).suffix(80).joined(separator: "\n")
    }

    /// A free TCP port on 127.0.0.1, found by binding port 0.
    static func freePort() throws -> Int {
        let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).wait()
        let port = channel.localAddress?.port ?? 0
        try channel.close().wait()
        return port
    }

    /// Resolves a command name against PATH; absolute paths must exist and be executable.
    static func resolve(_ command: String) -> String? {
        if command.hasPrefix("/") { return FileManager.default.isExecutableFile(atPath: command) ? command : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(command)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

/// A one-shot signal that any number of tasks can wait for, each able to stop waiting when cancelled.
final class ExitSignal: Sendable {
    private struct State {
        var exit: LocalProcess.Exit?
        var waiters: [UUID: CheckedContinuation<LocalProcess.Exit?, Never>] = [:]
    }

    private let state = Mutex(State())

    func fire(_ exit: LocalProcess.Exit) {
        let waiters = state.withLock { state in
            state.exit = exit
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters.values { waiter.resume(returning: exit) }
    }

    func wait() async -> LocalProcess.Exit? {
        let id = UUID()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let immediate: LocalProcess.Exit?? = state.withLock { state in
                    if let exit = state.exit { return .some(exit) }
                    if Task.isCancelled { return .some(nil) }
                    state.waiters[id] = continuation
                    return .none
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume(returning: nil)
        }
    }
}

/// An HTTP GET readiness/liveness probe against 127.0.0.1.
enum HTTPProbe {
    /// Whether `GET path` answers 2xx or 3xx within `timeout`.
    static func succeeds(port: Int, path: String, timeout: Duration = .seconds(1)) async -> Bool {
        do {
            return try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask { try await get(port: port, path: path) }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return false
                }
                let result = try await group.next() ?? false
                group.cancelAll()
                return result
            }
        } catch {
            return false
        }
    }

    private static func get(port: Int, path: String) async throws -> Bool {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.milliseconds(500))
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            var headers = HTTPHeaders()
            headers.add(name: "Host", value: "127.0.0.1:\(port)")
            headers.add(name: "User-Agent", value: "kube-probe/1.33")
            headers.add(name: "Connection", value: "close")
            try await outbound.write(.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)))
            try await outbound.write(.end(nil))
            for try await part in inbound {
                if case .head(let head) = part { return (200..<400).contains(Int(head.status.code)) }
            }
            return false
        }
    }
}

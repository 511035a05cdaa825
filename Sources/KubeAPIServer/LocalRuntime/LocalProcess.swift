import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One container of a pod, running as a local process: its command line, environment, log
/// file and termination-message file, and a way to wait for its exit.
///
/// Processes are started with `posix_spawn` in a process group of their own, with a clean
/// signal mask and default signal handlers, so SIGTERM reaches them (threads of this server
/// block signals, and a child would otherwise inherit that mask) and stopping a pod stops
/// everything its command started.
final class LocalProcess: Sendable {
    /// How a process ended.
    struct Exit: Sendable {
        let code: Int32
        let signalled: Bool
    }

    let pid: pid_t
    let logPath: String
    let terminationLogPath: String
    private let exitSignal = ExitSignal()

    /// Starts `arguments[0]` (an absolute path) with the rest as arguments; stdout and stderr
    /// are appended to `container.log` in `directory`, which is also the working directory.
    init(arguments: [String], environment: [String: String], directory: URL) throws {
        logPath = directory.appendingPathComponent("container.log").path
        terminationLogPath = directory.appendingPathComponent("termination-log").path
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: terminationLogPath, contents: nil)
        var fullEnvironment = environment
        fullEnvironment["SEXTANT_TERMINATION_LOG"] = terminationLogPath
        pid = try LocalProcess.spawn(arguments, environment: fullEnvironment, directory: directory.path, logPath: logPath)
        let pid = self.pid
        let signal = exitSignal
        Thread.detachNewThread {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
            let signalled = (status & 0x7f) != 0 && (status & 0x7f) != 0x7f
            let code = signalled ? 128 + (status & 0x7f) : (status >> 8) & 0xff
            signal.fire(Exit(code: code, signalled: signalled))
        }
    }

    private static func spawn(_ arguments: [String], environment: [String: String], directory: String, logPath: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))
        // The shell enters the working directory and then becomes the program (same pid).
        let command = ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", directory] + arguments
        let argv = command.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv, envp)
        guard result == 0 else { throw RuntimeRefusal(message: "\(arguments[0]) could not start: \(String(cString: strerror(result)))") }
        return pid
    }

    /// Waits for the process to end; nil when the waiting task is cancelled first.
    func waitForExit() async -> Exit? {
        await exitSignal.wait()
    }

    /// Sends a signal to the process group.
    func signal(_ number: Int32) {
        kill(-pid, number)
    }

    /// SIGTERM, then SIGKILL if it has not ended after `grace`. Runs to the end even when the
    /// calling task is cancelled (a stopping pod must not leave its process behind).
    func stop(grace: Duration = .seconds(5)) async {
        let signal = exitSignal
        let group = -pid
        kill(group, SIGTERM)
        await Task {
            let graceful = await withTaskGroup(of: Bool.self) { tasks in
                tasks.addTask { await signal.wait() != nil }
                tasks.addTask {
                    try? await Task.sleep(for: grace)
                    return false
                }
                let first = await tasks.next() ?? false
                tasks.cancelAll()
                return first
            }
            if !graceful {
                kill(group, SIGKILL)
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

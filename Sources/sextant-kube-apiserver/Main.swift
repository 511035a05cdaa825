import ArgumentParser
import Foundation
import KubeAPIServer
import Logging

/// `sextant-kube-apiserver`: a Kubernetes API server for tests and local use.
@main
struct KubeAPIServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sextant-kube-apiserver",
        abstract: "A Kubernetes API server for tests and local use (in-memory, single process).",
        discussion: "Serves HTTP without authentication and HTTPS with a generated CA (bearer token or client certificate) on 127.0.0.1.")

    @Option(help: "HTTP port (no authentication); 0 picks a free port.")
    var httpPort = 0

    @Option(help: "HTTPS port (token or client certificate); 0 picks a free port.")
    var httpsPort = 0

    @Option(help: "Write a kubeconfig for this server to this path.")
    var kubeconfig: String?

    @Option(help: "How the written kubeconfig authenticates: certificate, token or insecure.")
    var credentials: LocalCluster.Credentials = .certificate

    @Option(help: "Kubernetes minor version to report (kubectl picks its version by it).")
    var minorVersion = 33

    @Option(help: "Seconds between watch bookmarks.")
    var bookmarkInterval = 60

    @Option(help: "Changes kept for watch resumption; older resource versions get 410 Gone.")
    var historyLimit = 100_000

    @Option(help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel = "info"

    @Option(
        help:
            "CIDR Service cluster IPs are allocated from (default 10.96.0.0/12, or 127.96.0.0/16 with --local-runtime, which needs a range inside 127.0.0.0/8)."
    )
    var serviceClusterIPRange: String?

    @Flag(help: "Run Deployments, ReplicaSets and Jobs as local processes (the local runtime).")
    var localRuntime = false

    @Option(
        help:
            "With --local-runtime: an image that runs here, as IMAGE=COMMAND (repeatable), e.g. ghcr.io/sextant-ml/sextant-server=/usr/local/bin/sextant-server serve --port {port}"
    )
    var runnableImage: [String] = []

    @Option(help: "With --local-runtime: directory for pod working directories and logs (default: a new temporary directory).")
    var runtimeDirectory: String?

    func validate() throws {
        guard (0...65535).contains(httpPort), (0...65535).contains(httpsPort) else { throw ValidationError("ports must be between 0 and 65535") }
        guard bookmarkInterval > 0 else { throw ValidationError("--bookmark-interval must be positive") }
        guard historyLimit > 0 else { throw ValidationError("--history-limit must be positive") }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        _ = try runnableImages()
        if let range = try serviceRange(), localRuntime, !range.isLoopback {
            throw ValidationError(
                "--service-cluster-ip-range must be inside 127.0.0.0/8 with --local-runtime (its service proxy listens on the cluster IPs), got \(range)")
        }
        if !localRuntime && (!runnableImage.isEmpty || runtimeDirectory != nil) {
            throw ValidationError("--runnable-image and --runtime-directory need --local-runtime")
        }
    }

    /// Parses `IMAGE=COMMAND` options.
    func runnableImages() throws -> [LocalRuntime.RunnableImage] {
        try runnableImage.map { option in
            let parts = option.split(separator: "=", maxSplits: 1).map(String.init)
            let command = parts.count == 2 ? parts[1].split(separator: " ").map(String.init) : []
            guard parts.count == 2, !parts[0].isEmpty, !command.isEmpty else {
                throw ValidationError("--runnable-image must be IMAGE=COMMAND, got \"\(option)\"")
            }
            return LocalRuntime.RunnableImage(image: parts[0], command: command)
        }
    }

    /// Parses `--service-cluster-ip-range`.
    func serviceRange() throws -> ServiceCIDR? {
        guard let serviceClusterIPRange else { return nil }
        do {
            return try ServiceCIDR(serviceClusterIPRange)
        } catch {
            throw ValidationError("--service-cluster-ip-range: \(error)")
        }
    }

    func run() async throws {
        var logger = Logger(label: "sextant.apiserver")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        var runtime: LocalRuntime.Configuration?
        if localRuntime {
            let directory =
                runtimeDirectory.map { URL(fileURLWithPath: $0) }
                ?? FileManager.default.temporaryDirectory.appendingPathComponent("sextant-runtime-\(UUID().uuidString)")
            runtime = LocalRuntime.Configuration(runnableImages: try runnableImages(), directory: directory)
        }
        let cluster = try await LocalCluster(
            httpPort: httpPort, httpsPort: httpsPort, minorVersion: minorVersion, historyLimit: historyLimit,
            bookmarkInterval: .seconds(bookmarkInterval), runtime: runtime, serviceClusterIPRange: try serviceRange(), logger: logger)
        if let kubeconfig {
            do {
                try cluster.kubeconfig(credentials).write(toFile: kubeconfig, atomically: true, encoding: .utf8)
            } catch {
                throw ValidationError("cannot write --kubeconfig \(kubeconfig): \(error.localizedDescription)")
            }
        }
        let ready = "sextant-kube-apiserver ready: http=\(cluster.httpURL) https=\(cluster.httpsURL)" + (kubeconfig.map { " kubeconfig=\($0)" } ?? "")
        FileHandle.standardOutput.write(Data((ready + "\n").utf8))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await cluster.run() }
            group.addTask { await Self.waitForTerminationSignal() }
            _ = try await group.next()
            group.cancelAll()
        }
    }

    /// Returns on SIGINT or SIGTERM.
    static func waitForTerminationSignal() async {
        let (stream, continuation) = AsyncStream<Void>.makeStream()
        var sources: [DispatchSourceSignal] = []
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { continuation.yield() }
            source.resume()
            sources.append(source)
        }
        for await _ in stream { break }
        sources.forEach { $0.cancel() }
    }
}

extension LocalCluster.Credentials: ExpressibleByArgument {}

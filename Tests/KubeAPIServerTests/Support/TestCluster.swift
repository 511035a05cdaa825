import Foundation
import KubeAPIServer
import KubeCore
import Logging
import SextantTestSupport

/// An API server started in-process on free loopback ports, with its own temporary directory,
/// kubeconfigs and kubectl cache: one per test, so tests never share state.
final class TestCluster: Sendable {
    let cluster: LocalCluster
    let directory: URL
    private let runner: Task<Void, Error>

    static func start(minorVersion: Int = 33, historyLimit: Int = 100_000, runnableImages: [LocalRuntime.RunnableImage]? = nil) async throws -> TestCluster {
        var logger = Logger(label: "test.apiserver")
        logger.logLevel = .warning
        let runtime = runnableImages.map {
            LocalRuntime.Configuration(
                runnableImages: $0, directory: FileManager.default.temporaryDirectory.appendingPathComponent("sextant-runtime-\(UUID().uuidString)"),
                restartDelay: .milliseconds(50), maxRestartDelay: .milliseconds(400))
        }
        let cluster = try await LocalCluster(
            minorVersion: minorVersion, historyLimit: historyLimit, bookmarkInterval: .seconds(3600), runtime: runtime, logger: logger)
        return TestCluster(cluster)
    }

    private init(_ cluster: LocalCluster) {
        self.cluster = cluster
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("sextant-test-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        runner = Task { try await cluster.run() }
    }

    deinit {
        runner.cancel()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Stops serving.
    func stop() async {
        runner.cancel()
        _ = await runner.result
    }

    var api: APIServer { cluster.api }

    /// A client of the plain HTTP listener.
    var http: TestHTTPClient { TestHTTPClient(port: cluster.http.port) }

    /// Creates a namespace for a test.
    func namespace(_ name: String) async throws -> String {
        let response = try await http.request(
            "POST", "/api/v1/namespaces", body: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(name)]])
        guard response.status == 201 else { throw TestError("creating namespace \(name): \(response.text)") }
        return name
    }

    /// Installs the Sextant CRDs from crds/ through the API.
    func installSextantCRDs() async throws {
        for file in try FileManager.default.contentsOfDirectory(atPath: Repository.url("crds").path).sorted() where file.hasSuffix(".yaml") {
            let crd = try YAML.document(from: String(contentsOf: Repository.url("crds/\(file)"), encoding: .utf8))
            let response = try await http.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", body: crd)
            guard response.status == 201 else { throw TestError("installing \(file): \(response.text)") }
        }
    }

    // MARK: kubectl

    struct KubectlResult: Sendable {
        let status: Int32
        let stdout: String
        let stderr: String
        var output: String { stdout + stderr }
    }

    /// Writes a kubeconfig with the given credentials and returns its path.
    func kubeconfig(_ credentials: LocalCluster.Credentials = .certificate) throws -> String {
        let path = directory.appendingPathComponent("kubeconfig-\(credentials.rawValue)").path
        try cluster.kubeconfig(credentials).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Runs real kubectl against this server and waits for it (at most `timeout` seconds).
    func kubectl(
        _ arguments: [String], credentials: LocalCluster.Credentials = .certificate, stdin: String? = nil, timeout: Double = 60
    ) async throws -> KubectlResult {
        let process = try startKubectl(arguments, credentials: credentials, stdin: stdin)
        let deadline = ContinuousClock.now + .seconds(timeout)
        while process.process.isRunning {
            if ContinuousClock.now > deadline {
                process.process.terminate()
                throw TestError("kubectl \(arguments.joined(separator: " ")) did not finish within \(timeout)s")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        return process.result()
    }

    /// A kubectl process running in the background (for `get --watch`).
    final class KubectlProcess: @unchecked Sendable {
        let process: Process
        let stdoutPath: String
        let stderrPath: String

        init(process: Process, stdoutPath: String, stderrPath: String) {
            self.process = process
            self.stdoutPath = stdoutPath
            self.stderrPath = stderrPath
        }

        var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
        var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

        func result() -> KubectlResult {
            KubectlResult(status: process.terminationStatus, stdout: stdout, stderr: stderr)
        }

        func stop() {
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
        }
    }

    func startKubectl(_ arguments: [String], credentials: LocalCluster.Credentials = .certificate, stdin: String? = nil) throws -> KubectlProcess {
        let id = UUID().uuidString
        let stdoutPath = directory.appendingPathComponent("kubectl-\(id).out").path
        let stderrPath = directory.appendingPathComponent("kubectl-\(id).err").path
        _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/kubectl")
        process.arguments = ["--kubeconfig", try kubeconfig(credentials), "--cache-dir", directory.appendingPathComponent("kube-cache").path] + arguments
        process.environment = ["HOME": directory.path, "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        if let stdin {
            let inputPath = directory.appendingPathComponent("kubectl-\(id).in").path
            try stdin.write(toFile: inputPath, atomically: true, encoding: .utf8)
            process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: inputPath))
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        try process.run()
        return KubectlProcess(process: process, stdoutPath: stdoutPath, stderrPath: stderrPath)
    }
}

/// Paths inside the repository, found from this source file.
enum Repository {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func url(_ relativePath: String) -> URL { root.appendingPathComponent(relativePath) }
}

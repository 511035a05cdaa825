import Foundation
import KubeAPIServer
import KubeCore
import Logging
import SextantOperator
import SextantTestSupport

/// Paths inside the repository, found from this source file.
enum Repository {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func url(_ relativePath: String) -> URL { root.appendingPathComponent(relativePath) }

    static func text(_ relativePath: String) throws -> String { try String(contentsOf: url(relativePath), encoding: .utf8) }

    /// The YAML files directly inside a repository directory, by name.
    static func yamlFiles(in relativePath: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: url(relativePath).path).filter { $0.hasSuffix(".yaml") }.sorted()
    }
}

/// A finished process.
struct ProcessResult: Sendable {
    let status: Int32
    let stdout: String
    let stderr: String
    var output: String { stdout + stderr }
}

/// Runs a program to completion (at most `timeout` seconds), its output through files so a large
/// output never blocks it.
func runProcess(_ arguments: [String], environment: [String: String]? = nil, directory: URL, timeout: Double = 120) async throws -> ProcessResult {
    let id = UUID().uuidString
    let stdoutURL = directory.appendingPathComponent("\(id).out"), stderrURL = directory.appendingPathComponent("\(id).err")
    _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    if let environment { process.environment = environment }
    process.currentDirectoryURL = Repository.root
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
    process.standardError = try FileHandle(forWritingTo: stderrURL)
    try process.run()
    let deadline = ContinuousClock.now + .seconds(timeout)
    while process.isRunning {
        if ContinuousClock.now > deadline {
            process.terminate()
            throw TestError("\(arguments.joined(separator: " ")) did not finish within \(timeout)s")
        }
        try await Task.sleep(for: .milliseconds(20))
    }
    return ProcessResult(
        status: process.terminationStatus, stdout: (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "",
        stderr: (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "")
}

/// A scratch directory for one test's files.
func scratchDirectory() throws -> URL {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sextant-delivery-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory
}

/// The chart rendered by Helm's engine (hack/helm-render.py, PyPI helm-python-sdk).
enum Helm {
    /// Renders charts/sextant; the result's stdout is a YAML stream, its stderr Helm's error.
    static func render(
        _ values: JSONValue = .object([:]), namespace: String = "sextant-system", name: String = "sextant", includeCRDs: Bool = false, notes: Bool = false
    ) async throws -> ProcessResult {
        let json = String(decoding: try JSONEncoder().encode(values), as: UTF8.self)
        var arguments = ["python3", "hack/helm-render.py", "render", "--values-json", json, "--namespace", namespace, "--name", name]
        if includeCRDs { arguments.append("--include-crds") }
        if notes { arguments.append("--notes") }
        return try await runProcess(arguments, directory: try scratchDirectory())
    }

    /// The rendered objects of a render that must succeed.
    static func objects(_ values: JSONValue = .object([:]), namespace: String = "sextant-system") async throws -> (stream: String, objects: [JSONValue]) {
        let result = try await render(values, namespace: namespace)
        guard result.status == 0 else { throw TestError("helm render failed (\(result.status)): \(result.stderr)") }
        return (result.stdout, try YAML.documents(from: result.stdout))
    }
}

extension JSONValue {
    var kind: String { self["kind"]?.stringValue ?? "" }
    var name: String { self["metadata"]?["name"]?.stringValue ?? "" }
    var namespace: String? { self["metadata"]?["namespace"]?.stringValue }
    var strings: [String] { arrayValue?.compactMap(\.stringValue) ?? [] }
}

/// A policy rule without its reason, comparable across the Swift declaration and YAML.
struct PolicyRule: Hashable, CustomStringConvertible {
    let apiGroups: [String]
    let resources: [String]
    let verbs: [String]

    init(_ rule: OperatorPermissions.Rule) { (apiGroups, resources, verbs) = (rule.apiGroups, rule.resources, rule.verbs) }
    init(_ json: JSONValue) {
        (apiGroups, resources, verbs) = (json["apiGroups"]?.strings ?? [], json["resources"]?.strings ?? [], json["verbs"]?.strings ?? [])
    }

    var description: String { "\(apiGroups) \(resources) \(verbs)" }

    static func rules(of role: JSONValue) -> [PolicyRule] { role["rules"]?.arrayValue?.map(PolicyRule.init) ?? [] }
    static let declared = OperatorPermissions.rules.map(PolicyRule.init)
    static let leaderElection = declared.filter { $0.apiGroups == ["coordination.k8s.io"] }
    static let watched = declared.filter { $0.apiGroups != ["coordination.k8s.io"] }
}

/// An API server started in-process on free loopback ports, with real kubectl against it.
final class KubectlCluster: Sendable {
    let cluster: LocalCluster
    let directory: URL
    private let runner: Task<Void, Error>

    init() async throws {
        var logger = Logger(label: "test.apiserver")
        logger.logLevel = .warning
        cluster = try await LocalCluster(bookmarkInterval: .seconds(3600), logger: logger)
        directory = try scratchDirectory()
        let cluster = self.cluster
        runner = Task { try await cluster.run() }
        try cluster.kubeconfig(.certificate).write(to: directory.appendingPathComponent("kubeconfig"), atomically: true, encoding: .utf8)
    }

    deinit {
        runner.cancel()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs `kubectl` with this cluster's kubeconfig and its own cache directory; `stdin` through a file.
    func kubectl(_ arguments: [String], stdin: String? = nil) async throws -> ProcessResult {
        var arguments = arguments
        if let stdin {
            let input = directory.appendingPathComponent("\(UUID().uuidString).yaml")
            try stdin.write(to: input, atomically: true, encoding: .utf8)
            arguments = arguments.map { $0 == "-" ? input.path : $0 }
        }
        let environment = ["HOME": directory.path, "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        return try await runProcess(
            ["kubectl", "--kubeconfig", directory.appendingPathComponent("kubeconfig").path, "--cache-dir", directory.appendingPathComponent("cache").path]
                + arguments,
            environment: environment, directory: directory)
    }
}

/// Executables of this package, built by `swift build` next to the test bundle.
enum Executables {
    static func path(_ name: String) throws -> String {
        let bundle = Bundle.main.bundleURL
        let candidates = [
            bundle.appendingPathComponent(name), bundle.deletingLastPathComponent().appendingPathComponent(name), Repository.url(".build/debug/\(name)"),
        ]
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw TestError("\(name) is not built (looked in \(candidates.map(\.path))); run swift build")
        }
        return found.path
    }
}

import AsyncHTTPClient
import Foundation
import KubeAPIServer
import KubeClient
import KubeCore
import KubeRuntime
import Logging
import NIOCore
import SextantAPI
import SextantLocal
import SextantOperator
import SextantTestSupport

/// Paths inside the repository, found from this source file.
enum Repository {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func url(_ relativePath: String) -> URL { root.appendingPathComponent(relativePath) }
}

/// A loopback service range of its own, so clusters of tests running at once never try to
/// bind the same cluster IP and port.
func randomLoopbackRange() throws -> ServiceCIDR {
    try ServiceCIDR("127.\(Int.random(in: 100...250)).0.0/16")
}

/// One API server with the local runtime (the server image runs the built `sextant-server`),
/// the CRDs, and the operator running in this process, for one test.
final class OperatorTestEnvironment: Sendable {
    let cluster: LocalCluster
    let client: KubernetesClient
    let namespace: String
    let directory: URL
    private let tasks: [Task<Void, Error>]

    static func serverExecutable() throws -> String {
        let bundle = Bundle.main.bundleURL
        let candidates = [
            bundle.appendingPathComponent("sextant-server"), bundle.deletingLastPathComponent().appendingPathComponent("sextant-server"),
            Repository.url(".build/debug/sextant-server"),
        ]
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw TestError("sextant-server is not built (looked in \(candidates.map(\.path))); run swift build")
        }
        return found.path
    }

    /// Starts a cluster and the operator. `faults` gives extra `sextant-server serve` flags per
    /// model version (e.g. `[2: ["--fault-error-rate", "0.5"]]`): the server image then runs a
    /// small wrapper script that adds them, so one version of a model can misbehave.
    static func start(
        namespace: String, configuration: OperatorConfiguration = OperatorConfiguration(), faults: [Int: [String]] = [:]
    ) async throws -> OperatorTestEnvironment {
        var logger = Logger(label: "test.operator")
        logger.logLevel = ProcessInfo.processInfo.environment["SEXTANT_TEST_LOG"] == nil ? .critical : .debug
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sextant-operator-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var serverCommand = [try serverExecutable()]
        if !faults.isEmpty {
            var script = "#!/bin/sh\ncase \" $* \" in\n"
            for (version, flags) in faults.sorted(by: { $0.key < $1.key }) {
                script += "  *\" --model-version \(version) \"*) exec \(serverCommand[0]) \"$@\" \(flags.joined(separator: " ")) ;;\n"
            }
            script += "esac\nexec \(serverCommand[0]) \"$@\"\n"
            let wrapper = directory.appendingPathComponent("faulty-server.sh")
            try script.write(to: wrapper, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: wrapper.path)
            serverCommand = [wrapper.path]
        }
        let runtime = LocalRuntime.Configuration(
            runnableImages: [LocalRuntime.RunnableImage(image: "ghcr.io/sextant-ml/sextant-server", command: serverCommand)],
            directory: directory.appendingPathComponent("pods"), restartDelay: .milliseconds(100), maxRestartDelay: .seconds(1))
        let cluster = try await LocalCluster(
            bookmarkInterval: .seconds(3600), runtime: runtime, serviceClusterIPRange: try randomLoopbackRange(), logger: logger)
        let clusterTask = Task { try await cluster.run() }
        let client = try KubernetesClient(configuration: ClientConfiguration(server: cluster.httpURL), logger: logger)
        try await LocalInstallation.installCRDs(client)
        _ = try await Api<Namespace>(client: client, namespace: nil).create(Namespace(metadata: ObjectMeta(name: namespace)))
        var operatorConfiguration = configuration
        operatorConfiguration.artifactRecheckInterval = .seconds(1)
        operatorConfiguration.signalInterval = .milliseconds(500)
        let sextant = SextantOperator(client: client, configuration: operatorConfiguration, logger: logger)
        let operatorTask = Task<Void, Error> { await sextant.run() }
        return OperatorTestEnvironment(cluster: cluster, client: client, namespace: namespace, directory: directory, tasks: [clusterTask, operatorTask])
    }

    private init(cluster: LocalCluster, client: KubernetesClient, namespace: String, directory: URL, tasks: [Task<Void, Error>]) {
        self.cluster = cluster
        self.client = client
        self.namespace = namespace
        self.directory = directory
        self.tasks = tasks
    }

    /// Stops the operator, then the cluster (which stops every pod process).
    func stop() async {
        for task in tasks.reversed() {
            task.cancel()
            _ = await task.result
        }
        try? await client.shutdown()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs `body` with a fresh environment and always stops it afterwards.
    static func with(namespace: String, faults: [Int: [String]] = [:], _ body: (OperatorTestEnvironment) async throws -> Void) async throws {
        let environment = try await start(namespace: namespace, faults: faults)
        do {
            try await body(environment)
        } catch {
            await environment.stop()
            throw error
        }
        await environment.stop()
    }

    /// The statuses of every Sextant object in the namespace, for failure messages.
    func dump() async -> String {
        var lines: [String] = []
        for (kind, plural) in [("InferenceService", "inferenceservices"), ("ModelVersion", "modelversions"), ("RetrainPolicy", "retrainpolicies")] {
            let api = DynamicApi(
                client: client, resource: GroupVersionResource(group: "ml.sextant.dev", version: "v1alpha1", resource: plural), namespaced: true,
                namespace: namespace)
            for item in (try? await api.list().items) ?? [] {
                lines.append("\(kind)/\(item["metadata"]?["name"]?.stringValue ?? ""): \(item["status"]?.jsonString() ?? "no status")")
            }
        }
        for item in (try? await Api<Pod>(client: client, namespace: namespace).list().items) ?? [] {
            lines.append("Pod/\(item.metadata.name ?? ""): \(item.status?.jsonString() ?? "")")
        }
        return lines.joined(separator: "\n")
    }

    /// Waits like `eventually`, adding the namespace's statuses to the failure.
    func eventually(within seconds: Double = 60, _ what: String, _ condition: () async throws -> Bool) async throws {
        do {
            try await SextantTestSupport.eventually(within: seconds, what, condition)
        } catch {
            throw TestError("\(error)\n\(await dump())")
        }
    }

    /// Server-side applies a Sextant object into the test namespace.
    func apply(_ object: JSONValue) async throws {
        var object = object
        object["metadata"]?["namespace"] = .string(namespace)
        try await LocalInstallation.apply(object, client: client)
    }

    func get<K: Resource>(_ kind: K.Type, _ name: String) async throws -> K {
        try await Api<K>(client: client, namespace: namespace).get(name)
    }

    func patch<K: Resource>(_ kind: K.Type, _ name: String, _ patch: JSONValue) async throws {
        _ = try await Api<K>(client: client, namespace: namespace).patch(name, .merge(patch))
    }

    /// The base URL of a Service through its cluster IP (the local runtime's service proxy).
    func serviceURL(_ name: String) async throws -> String {
        let service = try await get(Service.self, name)
        guard let ip = service.spec?["clusterIP"]?.stringValue, let port = service.spec?["ports"]?.arrayValue?.first?["port"]?.integerValue else {
            throw TestError("Service \(name) has no cluster IP")
        }
        return "http://\(ip):\(port)"
    }

    /// A V2 inference request for the flower model; returns the status code and the served version.
    static func predict(_ baseURL: String, model: String = "flower-classifier", row: [Double] = [5.1, 3.5, 1.4, 0.2]) async -> (code: Int, version: String?) {
        var request = HTTPClientRequest(url: "\(baseURL)/v2/models/\(model)/infer")
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(
            ByteBuffer(string: #"{"inputs":[{"name":"input","datatype":"FP32","shape":[1,4],"data":["# + row.map { String($0) }.joined(separator: ",") + "]}]}")
        )
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            let body = try await response.body.collect(upTo: 1 << 20)
            let json = try? JSONValue(parsing: Data(body.readableBytesView))
            return (
                Int(response.status.code),
                json?["model_version"]?.stringValue ?? (response.status.code == 200 ? nil : String(buffer: body).prefix(200).description)
            )
        } catch {
            return (0, "\(error)")
        }
    }
}

/// The objects of the quick-start, with the shipped models and short timings for tests.
enum Fixtures {
    static let modelsDirectory = Repository.url("manifests/examples/models/flower-classifier")
    static let v1Digest = "sha256:9ffb56638b40dfe357be6192dbddf1ac012aa09355f6e80d2b523fedd82423e6"
    static let v2Digest = "sha256:46f70612f88eed811eecbaa3bc348b2191d11b22b45b613f38f79ee8c46bcc8b"

    static func model() -> JSONValue {
        [
            "apiVersion": "ml.sextant.dev/v1alpha1", "kind": "Model", "metadata": ["name": "flower-classifier"],
            "spec": [
                "owner": "ml@example.com", "task": "Classification",
                "promotion": ["production": ["metrics": [["metric": "accuracy", "min": 0.9]]]],
            ],
        ]
    }

    static func version(_ number: Int, stage: String, digest: String? = nil, file: Int? = nil, accuracy: Double = 0.95) -> JSONValue {
        let path = modelsDirectory.appendingPathComponent("v\(file ?? number)/model.onnx").path
        return [
            "apiVersion": "ml.sextant.dev/v1alpha1", "kind": "ModelVersion", "metadata": ["name": .string("flower-classifier-v\(number)")],
            "spec": [
                "modelName": "flower-classifier", "version": .integer(Int64(number)),
                "artifact": ["uri": .string("file://\(path)"), "format": "ONNX", "digest": .string(digest ?? (number == 1 ? v1Digest : v2Digest))],
                "metrics": ["accuracy": .number(accuracy)],
                "stage": .string(stage),
            ],
        ]
    }

    static func inferenceService(
        provider: String = "Router", steps: [Int] = [50, 100], stepInterval: String = "1s", progressDeadline: String = "60s", analysis: JSONValue? = nil
    ) -> JSONValue {
        var service: JSONValue = [
            "apiVersion": "ml.sextant.dev/v1alpha1", "kind": "InferenceService", "metadata": ["name": "flower-classifier"],
            "spec": [
                "modelName": "flower-classifier", "trackStage": "Production",
                "rollout": [
                    "strategy": "Canary", "steps": .array(steps.map { .integer(Int64($0)) }), "stepInterval": .string(stepInterval),
                    "progressDeadline": .string(progressDeadline),
                ],
                "traffic": ["provider": .string(provider)],
                "replicas": 1,
            ],
        ]
        if let analysis { service["spec"]?["rollout"]?["analysis"] = analysis }
        return service
    }
}

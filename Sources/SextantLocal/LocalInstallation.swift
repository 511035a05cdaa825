import Foundation
import KubeAPIServer
import KubeClient
import KubeCore
import KubeRuntime
import Logging
import SextantAPI
import SextantOperator

/// Everything Sextant needs, on one machine: the project's API server with the local runtime
/// (pods are local processes; the Sextant server image runs the `sextant-server` binary), the
/// CRDs, the operator, and — unless told otherwise — the quick-start examples.
public struct LocalInstallation: Sendable {
    public struct Configuration: Sendable {
        /// Where state lives: the kubeconfig, pod directories and logs, retrained models.
        public var directory: URL
        /// The repository checkout (examples, shipped models, the trainer script).
        public var repository: URL
        /// The `sextant-server` executable that runs the server image.
        public var serverExecutable: String
        /// HTTPS port of the API server (0 picks a free one).
        public var apiPort: Int
        /// Whether to apply `manifests/examples/`.
        public var applyExamples: Bool
        /// Operator settings.
        public var operatorConfiguration: OperatorConfiguration
        /// Where Service cluster IPs come from (a loopback range, so they can be reached here).
        public var serviceClusterIPRange: ServiceCIDR = .loopback

        public init(
            directory: URL, repository: URL, serverExecutable: String, apiPort: Int = 0, applyExamples: Bool = true,
            operatorConfiguration: OperatorConfiguration = OperatorConfiguration()
        ) {
            self.directory = directory
            self.repository = repository
            self.serverExecutable = serverExecutable
            self.apiPort = apiPort
            self.applyExamples = applyExamples
            self.operatorConfiguration = operatorConfiguration
        }
    }

    /// What a person needs once the installation is up.
    public struct Endpoints: Sendable {
        public var kubeconfig: URL
        public var apiServer: String
        public var client: KubernetesClient
        public var appliedExamples: [String]
    }

    public let configuration: Configuration
    let logger: Logger

    public init(configuration: Configuration, logger: Logger = Logger(label: "sextant.local")) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Starts everything, calls `ready` once the examples are applied, and runs until cancelled.
    public func run(ready: @escaping @Sendable (Endpoints) async -> Void) async throws {
        let directory = configuration.directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let runtime = LocalRuntime.Configuration(
            runnableImages: [
                LocalRuntime.RunnableImage(
                    image: LocalRuntime.repository(of: configuration.operatorConfiguration.serverImage), command: [configuration.serverExecutable])
            ],
            directory: directory.appendingPathComponent("pods"))
        let cluster = try await LocalCluster(
            httpsPort: configuration.apiPort, runtime: runtime, serviceClusterIPRange: configuration.serviceClusterIPRange, logger: logger)
        let kubeconfigURL = directory.appendingPathComponent("kubeconfig")
        try cluster.kubeconfig(.certificate).write(to: kubeconfigURL, atomically: true, encoding: .utf8)
        // The operator runs in this process and talks to the plain-HTTP listener on loopback.
        let client = try KubernetesClient(configuration: ClientConfiguration(server: cluster.httpURL), logger: logger)
        let metrics = RuntimeMetrics()
        let sextant = SextantOperator(client: client, configuration: configuration.operatorConfiguration, metrics: metrics, logger: logger)

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await cluster.run() }
            try await Self.installCRDs(client)
            group.addTask { await sextant.run() }
            var applied: [String] = []
            if configuration.applyExamples {
                let objects = try LocalExamples.load(repository: configuration.repository, stateDirectory: directory)
                for object in objects {
                    try await Self.apply(object, client: client)
                    applied.append("\(object["kind"]?.stringValue ?? "")/\(object["metadata"]?["name"]?.stringValue ?? "")")
                }
            }
            await ready(Endpoints(kubeconfig: kubeconfigURL, apiServer: cluster.httpsURL, client: client, appliedExamples: applied))
            do {
                try await group.next()
            } catch {
                group.cancelAll()
                try? await client.shutdown()
                throw error
            }
            group.cancelAll()
        }
        try? await client.shutdown()
    }

    /// Creates (or updates) the four Sextant CRDs.
    public static func installCRDs(_ client: KubernetesClient) async throws {
        let crds = DynamicApi(
            client: client, resource: GroupVersionResource(group: "apiextensions.k8s.io", version: "v1", resource: "customresourcedefinitions"),
            namespaced: false, namespace: nil)
        for crd in SextantCRDs.all {
            _ = try await crds.apply(try JSONValue(encoding: crd), fieldManager: OperatorLabels.fieldManager, force: true)
        }
    }

    /// Server-side applies one object of a Sextant kind into its namespace (default `default`).
    public static func apply(_ object: JSONValue, client: KubernetesClient) async throws {
        var object = object
        let namespace = object["metadata"]?["namespace"]?.stringValue ?? "default"
        object["metadata"]?["namespace"] = .string(namespace)
        let kind = object["kind"]?.stringValue ?? ""
        guard let type = SextantCRDs.kinds.first(where: { $0.kind == kind }) else {
            throw LocalModeError(description: "cannot apply \(kind): only Sextant kinds are applied in local mode")
        }
        let api = DynamicApi(
            client: client, resource: GroupVersionResource(group: type.group, version: type.version, resource: type.plural), namespaced: true,
            namespace: namespace)
        _ = try await api.apply(object, fieldManager: "kubectl-client-side-apply", force: true)
    }
}

/// A local-mode failure, with one line saying what to fix.
public struct LocalModeError: Error, CustomStringConvertible {
    public var description: String
}

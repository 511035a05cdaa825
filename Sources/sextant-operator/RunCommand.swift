import ArgumentParser
import Foundation
import KubeClient
import KubeRuntime
import Logging
import SextantOperator

/// `sextant-operator run`: the controllers against a cluster, with leader election, metrics and
/// health probes.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run the controllers against a cluster.")

    @Option(help: "Kubeconfig file (default: in-cluster service account, then $KUBECONFIG or ~/.kube/config).")
    var kubeconfig: String?
    @Option(help: "Kubeconfig context.")
    var context: String?
    @Option(help: "Namespace to watch; repeat it or separate names with commas (default: all). Also $SEXTANT_WATCH_NAMESPACE.")
    var namespace: [String] = []
    @Option(help: "Default Sextant server image. Also $SEXTANT_SERVER_IMAGE.")
    var serverImage: String = ProcessInfo.processInfo.environment["SEXTANT_SERVER_IMAGE"] ?? OperatorConfiguration.defaultServerImage
    @Option(help: "Router image (default: the server image). Also $SEXTANT_ROUTER_IMAGE.")
    var routerImage: String?
    @Option(help: "Address of /metrics, /healthz and /readyz.")
    var metricsBindAddress = "0.0.0.0:8080"
    @Flag(inversion: .prefixedNo, help: "Elect a leader through a Lease so only one replica acts.")
    var leaderElect = true
    @Option(help: "Namespace of the leader-election Lease (default: the pod's namespace, or default).")
    var leaderElectionNamespace: String?
    @Option(help: "Reconciles at once per controller.")
    var concurrency = 4
    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard Self.split(metricsBindAddress) != nil else {
            throw ValidationError("--metrics-bind-address must be HOST:PORT, e.g. 0.0.0.0:8080 (got '\(metricsBindAddress)')")
        }
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        for name in watchedNamespaces() where name.wholeMatch(of: /[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?/) == nil {
            throw ValidationError("namespace '\(name)' is not a valid namespace name (lowercase letters, digits and '-', at most 63)")
        }
    }

    /// `--namespace` values, else `$SEXTANT_WATCH_NAMESPACE`; empty means all namespaces.
    func watchedNamespaces() -> [String] {
        let values = namespace.isEmpty ? [ProcessInfo.processInfo.environment["SEXTANT_WATCH_NAMESPACE"] ?? ""] : namespace
        return OperatorGroup.namespaces(from: values)
    }

    static func split(_ address: String) -> (host: String, port: Int)? {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]), (0...65535).contains(port) else { return nil }
        let host = String(address[..<colon])
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }

    func run() async throws {
        logging.bootstrap()
        let logger = Logger(label: "sextant-operator")
        let environment = ProcessInfo.processInfo.environment
        let namespaces = watchedNamespaces()
        let routerImage = self.routerImage ?? environment["SEXTANT_ROUTER_IMAGE"]
        let clientConfiguration: ClientConfiguration
        do {
            clientConfiguration =
                try kubeconfig.map { try ClientConfiguration.kubeconfig(paths: [$0], context: context) } ?? ClientConfiguration.infer(context: context)
        } catch {
            throw ValidationError("cannot find cluster credentials: \(error)")
        }
        let metrics = RuntimeMetrics()
        let client = try KubernetesClient(configuration: clientConfiguration, observer: metrics, logger: logger)
        let configuration = OperatorConfiguration(
            serverImage: serverImage, routerImage: routerImage, namespaces: namespaces, concurrency: concurrency)
        let sextant = OperatorGroup(client: client, configuration: configuration, metrics: metrics, logger: logger)
        let (host, port) = Self.split(metricsBindAddress)!
        let operational = try await OperationalServer(host: host, port: port, metrics: metrics.registry) { sextant.isReady }
        logger.info(
            "starting",
            metadata: [
                "metrics.port": "\(operational.port)", "namespaces": "\(namespaces.isEmpty ? "<all>" : namespaces.joined(separator: ","))",
                "server.image": "\(serverImage)",
            ])

        let leaseNamespace = leaderElectionNamespace ?? ProcessInfo.processInfo.environment["POD_NAMESPACE"] ?? namespaces.first ?? "default"
        let identity = ProcessInfo.processInfo.environment["POD_NAME"] ?? "\(ProcessInfo.processInfo.hostName)-\(UUID().uuidString.prefix(8))"
        let leaderElect = self.leaderElect
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await operational.run() }
            group.addTask {
                if leaderElect {
                    let elector = LeaderElector(
                        api: Api<Lease>(client: client, namespace: leaseNamespace), leaseName: "sextant-operator", identity: identity, logger: logger)
                    await elector.run { await sextant.run() }
                } else {
                    await sextant.run()
                }
            }
            group.addTask { await Signals.waitForTermination() }
            try await group.next()
            logger.info("stopping")
            group.cancelAll()
        }
    }
}

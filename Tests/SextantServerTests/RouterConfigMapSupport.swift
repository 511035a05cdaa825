import Foundation
import KubeAPIServer
import KubeClient
import KubeCore
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle
import SextantTestSupport
import Testing

@testable import SextantServer

/// Keeps every log line of the router, so tests can wait for one and count them.
final class LogRecorder: Sendable {
    private let lines = NIOLockedValueBox<[(level: Logger.Level, message: String)]>([])

    /// A logger at info level writing here.
    var logger: Logger {
        var logger = Logger(label: "sextant-router-test") { _ in Handler(recorder: self) }
        logger.logLevel = .info
        return logger
    }

    /// The messages logged at `level`.
    func messages(_ level: Logger.Level) -> [String] {
        lines.withLockedValue { $0.filter { $0.level == level }.map(\.message) }
    }

    fileprivate func append(_ level: Logger.Level, _ message: String) {
        lines.withLockedValue { $0.append((level, message)) }
    }

    private struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .info

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) { recorder.append(event.level, "\(event.message)") }
    }
}

/// A router following a ConfigMap of an in-process API server, with its upstreams.
struct ConfigMapRouter: Sendable {
    /// ConfigMaps of the test's namespace (through the plain HTTP listener).
    let maps: Api<ConfigMap>
    let reference: ConfigMapTableReference
    let port: Int
    let upstreamPorts: [Int]
    let logs: LogRecorder

    /// `http://127.0.0.1:<router port><path>`
    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    /// One inference request through the router.
    func infer() async throws -> HTTPResult {
        try await http("POST", url("/v2/models/m/infer"), body: Data("{}".utf8))
    }

    /// A table sending `weights[i]` to upstream i, named after `names`.
    func table(_ names: [String], _ weights: [Int]) -> String {
        SextantServerTests.table(zip(names, zip(upstreamPorts, weights)).map { ($0.0, $0.1.0, $0.1.1) })
    }

    /// Creates the ConfigMap with `data`.
    func create(_ data: [String: String]) async throws {
        _ = try await maps.create(ConfigMap(metadata: ObjectMeta(name: reference.name), data: data))
    }

    /// Replaces the ConfigMap's data.
    func update(_ data: [String: String]) async throws {
        var map = try await maps.get(reference.name)
        map.data = data
        _ = try await maps.update(map)
    }

    /// Waits until the router serves `table` (its `/stats` weights).
    func waitForWeights(_ weights: [Int]) async throws {
        try await eventually("the router to use weights \(weights)") {
            let stats = try await http("GET", url("/stats")).json()
            return (stats["variants"] as? [[String: Any]])?.map { $0["weight"] as? Int } == weights.map { $0 }
        }
    }
}

/// Starts an API server (port 0), a namespace of its own, `upstreams`, and `runRouter` with
/// `--table-configmap <namespace>/routes`, reaching the API server over HTTPS with a client
/// certificate through a kubeconfig file; runs `body`, then stops everything.
func withConfigMapRouter(
    upstreams: [Upstream], _ body: @Sendable (ConfigMapRouter) async throws -> Void
) async throws {
    var quiet = Logger(label: "test.apiserver")
    quiet.logLevel = .critical
    let cluster = try await LocalCluster(bookmarkInterval: .seconds(3600), logger: quiet)
    let client = try KubernetesClient(configuration: ClientConfiguration(server: cluster.httpURL), logger: quiet)
    let namespace = "router-\(UUID().uuidString.prefix(8).lowercased())"
    let reference = ConfigMapTableReference(namespace: namespace, name: "routes")
    let logs = LogRecorder()
    let (upstreamPorts, upstreamPort) = AsyncStream.makeStream(of: (Int, Int).self)
    let upstreamGroup = ServiceGroup(
        configuration: .init(
            services: upstreams.enumerated().map { index, upstream in upstream.application { upstreamPort.yield((index, $0)) } },
            logger: testLogger))
    let result: Result<Void, any Error> = await withTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try? await cluster.run() }
        tasks.addTask { try? await upstreamGroup.run() }
        // Upstreams drain gracefully (the first task to end); the router and the API server are cancelled.
        func stop() async {
            await upstreamGroup.triggerGracefulShutdown()
            _ = await tasks.next()
            tasks.cancelAll()
        }
        do {
            _ = try await Api<Namespace>(client: client, namespace: nil).create(Namespace(metadata: ObjectMeta(name: namespace)))
            var ports = Array(repeating: 0, count: upstreams.count)
            var upstreamIterator = upstreamPorts.makeAsyncIterator()
            for _ in upstreams { if let (index, port) = await upstreamIterator.next() { ports[index] = port } }

            let kubeconfig = try makeTempDirectory().appendingPathComponent("kubeconfig").path
            try cluster.kubeconfig(.certificate).write(toFile: kubeconfig, atomically: true, encoding: .utf8)
            var configuration = RouterConfiguration(port: 0, tableSource: .configMap(reference))
            configuration.kubeconfigPath = kubeconfig
            let (routerPorts, routerPort) = AsyncStream.makeStream(of: Int.self)
            let logger = logs.logger
            tasks.addTask { try? await runRouter(configuration: configuration, logger: logger) { routerPort.yield($0) } }
            var routerIterator = routerPorts.makeAsyncIterator()
            let port = try #require(await routerIterator.next())
            try await body(
                ConfigMapRouter(
                    maps: Api<ConfigMap>(client: client, namespace: namespace), reference: reference, port: port,
                    upstreamPorts: ports, logs: logs))
            await stop()
            return .success(())
        } catch {
            await stop()
            return .failure(error)
        }
    }
    try? await client.shutdown()
    try result.get()
}

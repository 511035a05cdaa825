import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOPosix
import SextantServer

/// `sextant-server`: the Sextant inference server (`serve`) and traffic router (`route`).
@main
struct SextantServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sextant-server",
        abstract: "Serves an ONNX model over KServe V1 / Open Inference Protocol V2, or routes traffic between variants.",
        subcommands: [Serve.self, Route.self])

    /// Runs the command with SwiftNIO's event loops as Swift Concurrency's executor, so a
    /// request is handled on the thread that reads and writes its connection instead of
    /// switching to the concurrency pool and back (the largest cost left per request in
    /// `hack/bench-server`'s profile). Nothing in the server blocks an event loop: the only
    /// synchronous work is the model evaluation, the work the threads exist for.
    static func main() async {
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        await main(nil)
    }
}

enum LogFormat: String, ExpressibleByArgument {
    case json, text
}

func bootstrapLogging(_ format: LogFormat) {
    LoggingSystem.bootstrap { label in
        switch format {
        case .json: return JSONLogHandler(label: label)
        case .text: return StreamLogHandler.standardError(label: label)
        }
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Load a model and serve it.")

    @Option(help: "Model location: file://, http(s)://, s3://bucket/key or pvc://claim/path.") var modelURI: String
    @Option(help: "Served model name.") var modelName: String
    @Option(help: "Served model version.") var modelVersion = "1"
    @Option(help: "Expected sha256:<hex> digest of the model file.") var digest: String?
    @Option(help: "Port (0 picks a free one).") var port = 8080
    @Option(help: "Address to bind.") var host = "127.0.0.1"
    @Option(help: "Drift baseline JSON (same URI schemes as --model-uri).") var driftBaseline: String?
    @Option(help: "Inference requests handled at once; more get 503 with Retry-After.") var maxConcurrency = 64
    @Option(help: "Seconds a request body may keep arriving before the request is answered 504.") var requestTimeout: Double = 30
    @Option(help: "Seconds a connection may stay silent before it is closed.") var idleTimeout: Double = 90
    @Option(help: "Largest request body in bytes.") var maxBodyBytes = 16 << 20
    @Option(help: "Directory where pvc:// claims are mounted (default $SEXTANT_PVC_ROOT or /mnt/pvc).") var pvcRoot: String?
    @Option(help: "Rows kept in the drift window.") var driftWindow = 1000
    @Flag(help: "Accept NaN and Infinity in float inputs.") var allowNaN = false
    @Option(help: "Log format: json or text.") var logFormat: LogFormat = .json
    @Option(help: "Fault injection for rollout drills: answer this fraction (0-1) of inference requests with 500.") var faultErrorRate: Double = 0
    @Option(help: "Fault injection for rollout drills: seconds added before every inference answer.") var faultLatency: Double = 0

    func validate() throws {
        guard (0...1).contains(faultErrorRate) else { throw ValidationError("--fault-error-rate must be between 0 and 1 (got \(faultErrorRate))") }
        guard requestTimeout > 0 else { throw ValidationError("--request-timeout must be positive (got \(requestTimeout))") }
        guard idleTimeout > 0 else { throw ValidationError("--idle-timeout must be positive (got \(idleTimeout))") }
        guard faultLatency >= 0 else { throw ValidationError("--fault-latency must not be negative (got \(faultLatency))") }
    }

    func run() async throws {
        bootstrapLogging(logFormat)
        let logger = Logger(label: "sextant-server")
        var configuration = ServeConfiguration(modelURI: modelURI, modelName: modelName)
        configuration.modelVersion = modelVersion
        configuration.digest = digest
        configuration.port = port
        configuration.host = host
        configuration.driftBaselineURI = driftBaseline
        configuration.maxConcurrency = maxConcurrency
        configuration.requestTimeout = requestTimeout
        configuration.idleTimeout = idleTimeout
        configuration.maxBodyBytes = maxBodyBytes
        configuration.pvcRoot = pvcRoot
        configuration.driftWindow = driftWindow
        configuration.allowNaN = allowNaN
        configuration.faultErrorRate = faultErrorRate
        configuration.faultLatency = faultLatency
        try await runInferenceServer(configuration: configuration, logger: logger) { port in
            logger.info("listening", metadata: ["http.port": "\(port)"])
        }
    }
}

struct Route: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Split traffic between model variants by weight.",
        discussion: """
            The routing table comes from exactly one of --table (a JSON file, reloaded when it \
            changes) or --table-configmap (a ConfigMap key, watched through the Kubernetes API). \
            A bad table keeps the previous one. With --table-configmap the router is not ready \
            (GET /ready answers 503) and answers requests 503 until the first valid table \
            arrives; the API server is found through --kubeconfig, else the pod's service \
            account, else $KUBECONFIG or ~/.kube/config. The router itself answers GET /ready, \
            /stats and /metrics; everything else is proxied.
            """)

    @Option(help: "Port (0 picks a free one).") var port = 8080
    @Option(help: "Address to bind.") var host = "127.0.0.1"
    @Option(help: ArgumentHelp("Routing table JSON file (reloaded when it changes).", valueName: "file")) var table: String?
    @Option(help: ArgumentHelp("ConfigMap holding the routing table, watched through the Kubernetes API.", valueName: "namespace/name"))
    var tableConfigmap: String?
    @Option(help: ArgumentHelp("Key of the ConfigMap whose value is the routing table JSON.", valueName: "key")) var tableKey = ConfigMapTableReference
        .defaultKey
    @Option(help: ArgumentHelp("Kubeconfig for --table-configmap (default: in-cluster, else $KUBECONFIG or ~/.kube/config).", valueName: "file"))
    var kubeconfig: String?
    @Option(help: "Log format: json or text.") var logFormat: LogFormat = .json

    func run() async throws {
        var configuration = RouterConfiguration(
            host: host, port: port, tableSource: try RoutingTableSource.fromOptions(file: table, configMap: tableConfigmap, key: tableKey))
        configuration.kubeconfigPath = kubeconfig
        bootstrapLogging(logFormat)
        let logger = Logger(label: "sextant-router")
        try await runRouter(configuration: configuration, logger: logger) { port in
            logger.info("listening", metadata: ["http.port": "\(port)"])
        }
    }
}

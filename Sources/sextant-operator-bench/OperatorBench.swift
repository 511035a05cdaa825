import ArgumentParser
import Foundation
import KubeAPIServer
import KubeClient
import KubeCore
import KubeRuntime
import Logging
import SextantAPI
import SextantLocal
import SextantOperator
import Synchronization

/// Measures the operator at scale (hack/bench-operator): with M Models, 3M ModelVersions and M
/// InferenceServices in the API server before it starts, the time from operator start until
/// every status is current, its CPU while idle, its resident memory, and the time from creating
/// a new InferenceService to its Deployment existing.
///
/// By default the API server runs as a separate process (`sextant-kube-apiserver`, no local
/// runtime: Deployments are only objects), so this process's CPU and RSS are the operator's plus
/// the bench's own observers, which are started — and their memory counted — before the operator.
@main
struct OperatorBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sextant-operator-bench",
        abstract: "Times the Sextant operator against the project's API server with many objects.")

    @Option(help: "Models (each gets 3 ModelVersions and 1 InferenceService).")
    var models = 1000

    @Option(help: "Namespaces the objects are spread over.")
    var namespaces = 10

    @Option(help: "Concurrent writers creating the objects before the operator starts.")
    var writers = 16

    @Option(help: "New InferenceServices created one at a time after convergence, for apply-to-Deployment latency.")
    var applies = 50

    @Option(help: "Seconds of idle time over which CPU is measured.")
    var idleSeconds = 10

    @Option(help: "Reconciles running at once per controller (the operator's --concurrency).")
    var concurrency = 4

    @Option(help: "Give up waiting for convergence after this many seconds.")
    var timeout = 300

    @Option(help: "The sextant-kube-apiserver executable (default: next to this one).")
    var apiserver: String?

    @Flag(help: "Run the API server in this process instead (CPU and RSS then include it).")
    var inProcessAPIServer = false

    @Option(help: "The repository checkout (for the example model artifact).")
    var repository = FileManager.default.currentDirectoryPath

    @Option(help: "Operator log level (logs go to stderr).")
    var logLevel = "critical"

    @Option(help: "The API server process's log level (debug logs every request to stderr).")
    var apiServerLogLevel = "error"

    func validate() throws {
        guard models > 0, namespaces > 0, writers > 0, applies >= 0, idleSeconds > 0, concurrency > 0 else {
            throw ValidationError("counts must be positive")
        }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level: trace, debug, info, notice, warning, error or critical") }
        guard FileManager.default.fileExists(atPath: artifactPath) else { throw ValidationError("no model artifact at \(artifactPath); pass --repository") }
    }

    var artifactPath: String { URL(fileURLWithPath: repository).appendingPathComponent("manifests/examples/models/flower-classifier/v1/model.onnx").path }

    func run() async throws {
        try await Self.measure(self)
    }

    // MARK: - The measurement

    /// Runs off the main actor, so nothing measured queues behind it.
    nonisolated static func measure(_ options: OperatorBench) async throws {
        var quiet = Logger(label: "bench")
        quiet.logLevel = .critical
        var operatorLogger = Logger(label: "sextant.operator")
        operatorLogger.logLevel = Logger.Level(rawValue: options.logLevel) ?? .critical

        // 1. The API server.
        let server: APIServer =
            options.inProcessAPIServer
            ? try await .inProcess(logger: quiet)
            : try await .process(executable: options.apiserver ?? siblingExecutable("sextant-kube-apiserver"), logLevel: options.apiServerLogLevel)
        defer { server.stop() }
        let client = try KubernetesClient(configuration: ClientConfiguration(server: server.url), logger: quiet)
        try await LocalInstallation.installCRDs(client)

        // 2. The objects, created before the operator starts.
        let layout = Layout(models: options.models, namespaces: options.namespaces, artifact: options.artifactPath)
        for namespace in layout.namespaceNames {
            _ = try await Api<Namespace>(client: client, namespace: nil).create(Namespace(metadata: ObjectMeta(name: namespace)))
        }
        let createStart = ContinuousClock.now
        for (resource, objects) in [
            ("models", layout.modelObjects()), ("modelversions", layout.versionObjects()), ("inferenceservices", layout.serviceObjects()),
        ] {
            try await createAll(objects, resource: resource, client: client, writers: options.writers)
        }
        let createSeconds = seconds(ContinuousClock.now - createStart)
        print(
            "created \(options.models) Models, \(options.models * 3) ModelVersions, \(options.models) InferenceServices in \(options.namespaces) namespaces with \(options.writers) writers: \(format(createSeconds)) s"
        )

        // 3. The operator (not started yet) and the bench's observers: the operator's caches, and
        // an independent Deployment watch through a separate client.
        let metrics = RuntimeMetrics()
        let operatorClient = try KubernetesClient(configuration: ClientConfiguration(server: server.url), observer: metrics, logger: quiet)
        let sextant = SextantOperator(
            client: operatorClient, configuration: OperatorConfiguration(concurrency: options.concurrency), metrics: metrics, logger: operatorLogger)
        let observerClient = try KubernetesClient(configuration: ClientConfiguration(server: server.url), logger: quiet)
        let observers = Observers(caches: sextant.caches, client: observerClient, logger: quiet)
        let observing = Task { await observers.run() }
        await observers.deployments.waitUntilSynced()
        let expected = layout.expected()
        try await Task.sleep(for: .milliseconds(500))
        let rssBefore = residentBytes()

        // 4. Start the operator.
        let cpuStart = processCPUSeconds()
        let serverCPUStart = server.cpuSeconds()
        let start = ContinuousClock.now
        let running = Task { await sextant.run() }

        var readyAt: Duration?
        var convergedAt: Duration?
        var lastReport = ContinuousClock.now
        let deadline = start + .seconds(options.timeout)
        while ContinuousClock.now < deadline {
            if readyAt == nil, sextant.isReady { readyAt = ContinuousClock.now - start }
            let progress = observers.progress(expected)
            if progress.isComplete {
                convergedAt = ContinuousClock.now - start
                break
            }
            if ContinuousClock.now - lastReport > .seconds(5) {
                lastReport = ContinuousClock.now
                FileHandle.standardError.write(Data("  \(format(seconds(ContinuousClock.now - start))) s: \(progress)\n".utf8))
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        guard let convergedAt else {
            print("NOT CONVERGED after \(options.timeout) s: \(observers.progress(expected))")
            print(observers.progress(expected).examples.joined(separator: "\n"))
            running.cancel()
            return
        }
        let convergeCPU = processCPUSeconds() - cpuStart
        let convergeServerCPU = server.cpuSeconds().map { $0 - (serverCPUStart ?? 0) }
        let convergeMetrics = MetricsSnapshot(metrics)

        // 5. Settling: the operator may still work after the last object became current (queued
        // reconciles, Events); wait until it made no request, finished no reconcile and no
        // watched object changed for 2 s.
        let settleDeadline = ContinuousClock.now + .seconds(120)
        var lastActivity = ContinuousClock.now
        var lastTotal = MetricsSnapshot(metrics).total
        while ContinuousClock.now < settleDeadline {
            let total = MetricsSnapshot(metrics).total
            if total != lastTotal {
                lastTotal = total
                lastActivity = ContinuousClock.now
            }
            let latest = max(lastActivity, observers.lastChange)
            if ContinuousClock.now - latest >= .seconds(2) { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        let settledAt = max(lastActivity, observers.lastChange) - start
        let settledMetrics = MetricsSnapshot(metrics)

        // 6. Idle: CPU of this process (the operator, plus idle watches of the observers) and
        // of the API server, and every API request and reconcile the operator makes meanwhile.
        FileHandle.standardError.write(Data("idle window starts\n".utf8))
        let idleEventsBefore = observers.changeCount
        let idleCPUStart = processCPUSeconds()
        let idleServerCPUStart = server.cpuSeconds()
        let idleStart = ContinuousClock.now
        try await Task.sleep(for: .seconds(options.idleSeconds))
        let idleWall = seconds(ContinuousClock.now - idleStart)
        let idleCPU = (processCPUSeconds() - idleCPUStart) / idleWall * 100
        let idleServerCPU = server.cpuSeconds().map { ($0 - (idleServerCPUStart ?? 0)) / idleWall * 100 }
        let idleMetrics = MetricsSnapshot(metrics)
        let idleEvents = observers.changeCount - idleEventsBefore
        let rssAfter = residentBytes()
        let peak = peakResidentBytes()

        FileHandle.standardError.write(Data("idle window ends\n".utf8))

        // 7. Apply-to-Deployment: one new InferenceService at a time, for a model whose v1
        // requests Production; timed from the create call returning to the watch showing
        // Deployment <name>-v1.
        var latencies: [Double] = []
        var latenciesFromSend: [Double] = []
        for index in 0..<options.applies {
            let model = index * options.models / max(1, options.applies)
            let namespace = layout.namespace(of: model)
            let name = "\(layout.modelName(model))-extra"
            let deployment = "\(namespace)/\(name)-v1"
            var object = layout.service(name: name, model: model)
            object["metadata"]?["namespace"] = .string(namespace)
            let sent = ContinuousClock.now
            _ = try await Api<InferenceService>(client: client, namespace: namespace).dynamic.create(object)
            let returned = ContinuousClock.now
            let waitUntil = returned + .seconds(10)
            var seen: ContinuousClock.Instant?
            while seen == nil, ContinuousClock.now < waitUntil {
                seen = observers.deploymentAdded(deployment)
                if seen == nil { try await Task.sleep(for: .milliseconds(1)) }
            }
            guard let seen else {
                print("Deployment \(deployment) did not appear within 10 s")
                continue
            }
            latencies.append(max(0, seconds(seen - returned)) * 1000)
            latenciesFromSend.append(seconds(seen - sent) * 1000)
            try await Task.sleep(for: .milliseconds(50))
        }
        latencies.sort()
        latenciesFromSend.sort()

        running.cancel()
        _ = await running.result
        observing.cancel()
        _ = await observing.result
        try? await operatorClient.shutdown()
        try? await observerClient.shutdown()
        try? await client.shutdown()

        // 8. Report.
        let objects = options.models * 5
        print("")
        print(
            "API server: \(options.inProcessAPIServer ? "in this process (CPU and RSS below include it)" : "separate process sextant-kube-apiserver (pid \(server.pid.map(String.init) ?? "?")), no local runtime")"
        )
        print("operator: in this process, concurrency \(options.concurrency) per controller, all namespaces; statuses are read from its caches every 50 ms;")
        print("  one extra Deployment watch (for create-to-Deployment) shares the process")
        print("\"current\": every Model has status.observedGeneration == metadata.generation, versionCount 3 and stagingVersion 2;")
        print("  every ModelVersion has observedGeneration == generation, ArtifactVerified=True and its expected stage")
        print("  (v1 Development while its rollout waits for pods, v2 Staging, v3 Development), and v1 lists its InferenceService in servedBy;")
        print("  every InferenceService has observedGeneration == generation and status.stable.version 1, and Deployments <name>-v1 and <name>-router exist.")
        print("")
        print(String(format: "caches synced:            %.2f s after start", readyAt.map(seconds) ?? -1))
        print(
            String(
                format: "all statuses current:     %.2f s after start (%d objects, %.0f objects/s)", seconds(convergedAt), objects,
                Double(objects) / seconds(convergedAt)))
        print(String(format: "settled (last request, reconcile or change): %.2f s after start", seconds(settledAt)))
        print(
            String(
                format: "CPU to converge:          operator process %.1f s%@", convergeCPU,
                convergeServerCPU.map { String(format: ", API server %.1f s", $0) } ?? ""))
        print("operator work to converge: \(convergeMetrics.summary)")
        print("operator work, converge→settled: \(settledMetrics.minus(convergeMetrics).summary)")
        print(
            String(
                format: "idle CPU over %.1f s:      operator process %.2f%% of one core%@", idleWall, idleCPU,
                idleServerCPU.map { String(format: ", API server %.2f%%", $0) } ?? ""))
        print("operator work while idle:  \(idleMetrics.minus(settledMetrics).summary); watched objects changed: \(idleEvents)")
        print(
            String(
                format: "RSS (after malloc_trim):  %.1f MiB process, %.1f MiB added by the operator (%.2f KiB per object), peak (VmHWM) %.1f MiB",
                mib(rssAfter), mib(rssAfter - rssBefore), Double(rssAfter - rssBefore) / 1024 / Double(objects), mib(peak)))
        if let serverRSS = server.residentBytes() { print(String(format: "API server RSS:           %.1f MiB", mib(serverRSS))) }
        func percentile(_ values: [Double], _ p: Double) -> Double { values.isEmpty ? .nan : values[min(values.count - 1, Int(Double(values.count) * p))] }
        print(
            String(
                format: "create-to-Deployment (%d new InferenceServices, from the create returning): p50 %.1f ms, p99 %.1f ms, max %.1f ms",
                latencies.count, percentile(latencies, 0.5), percentile(latencies, 0.99), latencies.last ?? .nan))
        print(
            String(format: "  (from the create being sent: p50 %.1f ms, p99 %.1f ms)", percentile(latenciesFromSend, 0.5), percentile(latenciesFromSend, 0.99)))
        print("")
        let idleWrites = idleMetrics.minus(settledMetrics).requests
        let rows: [(String, String, String, Bool)] = [
            ("all statuses current", String(format: "%.2f s", seconds(convergedAt)), "< 30 s", seconds(convergedAt) < 30),
            (
                "idle CPU (operator)", String(format: "%.2f%% of a core, %d API requests", idleCPU, Int(idleWrites)), "≈ 0 (< 1%, no requests)",
                idleCPU < 1 && idleWrites == 0
            ),
            (
                "create-to-Deployment p99", String(format: "%.1f ms", percentile(latencies, 0.99)), "< 100 ms",
                latencies.count == options.applies && percentile(latencies, 0.99) < 100
            ),
        ]
        print("| Target | Measured | Goal | Result |")
        print("|---|---|---|---|")
        for (name, measured, goal, pass) in rows { print("| \(name) | \(measured) | \(goal) | \(pass ? "PASS" : "FAIL") |") }
    }

    /// Creates `objects` with `writers` concurrent writers.
    static func createAll(_ objects: [JSONValue], resource: String, client: KubernetesClient, writers: Int) async throws {
        let gvr = GroupVersionResource(group: "ml.sextant.dev", version: "v1alpha1", resource: resource)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<writers {
                group.addTask {
                    for index in stride(from: writer, to: objects.count, by: writers) {
                        let object = objects[index]
                        let api = DynamicApi(client: client, resource: gvr, namespaced: true, namespace: object["metadata"]?["namespace"]?.stringValue)
                        _ = try await api.create(object)
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    static func siblingExecutable(_ name: String) -> String {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent(name).path
    }
}

// MARK: - Objects

/// The objects: model `model-NNNN` in namespace `bench-NN` (round robin), versions
/// `model-NNNN-v1…3`, InferenceService `model-NNNN`.
struct Layout: Sendable {
    let models: Int
    let namespaces: Int
    let artifact: String
    static let digest = "sha256:9ffb56638b40dfe357be6192dbddf1ac012aa09355f6e80d2b523fedd82423e6"

    var namespaceNames: [String] { (0..<namespaces).map(namespaceName) }
    func namespaceName(_ index: Int) -> String { String(format: "bench-%02d", index) }
    func namespace(of model: Int) -> String { namespaceName(model % namespaces) }
    func modelName(_ model: Int) -> String { String(format: "model-%04d", model) }

    func modelObjects() -> [JSONValue] {
        (0..<models).map { index in
            [
                "apiVersion": "ml.sextant.dev/v1alpha1", "kind": "Model",
                "metadata": ["name": .string(modelName(index)), "namespace": .string(namespace(of: index))],
                "spec": [
                    "owner": "ml@example.com", "task": "Classification",
                    "promotion": [
                        "staging": ["metrics": [["metric": "accuracy", "min": 0.85]]],
                        "production": [
                            "metrics": [["metric": "accuracy", "min": 0.9], ["metric": "log_loss", "max": 0.4]],
                            "noRegression": [["metric": "accuracy", "direction": "HigherIsBetter", "maxRegression": 0.01]],
                        ],
                    ],
                ],
            ]
        }
    }

    /// The stage each version requests.
    static let stages: [(version: Int64, stage: String)] = [(1, "Production"), (2, "Staging"), (3, "Development")]

    func versionObjects() -> [JSONValue] {
        (0..<models).flatMap { index in
            Self.stages.map { version, stage in
                [
                    "apiVersion": "ml.sextant.dev/v1alpha1", "kind": "ModelVersion",
                    "metadata": ["name": .string("\(modelName(index))-v\(version)"), "namespace": .string(namespace(of: index))],
                    "spec": [
                        "modelName": .string(modelName(index)), "version": .integer(version),
                        "artifact": ["uri": .string("file://\(artifact)"), "format": "ONNX", "digest": .string(Self.digest)],
                        "metrics": ["accuracy": .number(0.92 + Double(version) * 0.01), "log_loss": 0.2],
                        "stage": .string(stage),
                    ],
                ] as JSONValue
            }
        }
    }

    func service(name: String, model: Int) -> JSONValue {
        [
            "apiVersion": "ml.sextant.dev/v1alpha1", "kind": "InferenceService",
            "metadata": ["name": .string(name), "namespace": .string(namespace(of: model))],
            "spec": [
                "modelName": .string(modelName(model)), "trackStage": "Production",
                "rollout": ["strategy": "Canary", "steps": [10, 50, 100], "stepInterval": "1m"],
                "traffic": ["provider": "Router"],
                "replicas": 1,
            ],
        ]
    }

    func serviceObjects() -> [JSONValue] { (0..<models).map { service(name: modelName($0), model: $0) } }

    /// The keys of one model's objects, computed once so the convergence check only looks up.
    struct Expected: Sendable {
        var model: ObjectKey
        var versions: [ObjectKey]
        var service: ObjectKey
        var deployment: ObjectKey
        var router: ObjectKey
    }

    func expected() -> [Expected] {
        (0..<models).map { index in
            let namespace = namespace(of: index)
            let name = modelName(index)
            func key(_ name: String) -> ObjectKey { ObjectKey(namespace: namespace, name: name) }
            return Expected(
                model: key(name), versions: Self.stages.map { key("\(name)-v\($0.version)") }, service: key(name),
                deployment: key("\(name)-v1"), router: key("\(name)-router"))
        }
    }
}

// MARK: - Observers

/// The bench's view of the cluster. Statuses are read from the operator's own informer caches:
/// they hold exactly what the API server sent on its watches, and reading them adds no second
/// decode of every event to this process. Deployments are also followed by an independent
/// watch (managed-by label), which times when each one first appeared.
final class Observers: Sendable {
    let caches: OperatorCaches
    let deployments: Informer<Deployment>
    private let state = Mutex(State())

    private struct State {
        var lastChange = ContinuousClock.now
        var changes = 0
        var deploymentsAdded: [String: ContinuousClock.Instant] = [:]
    }

    init(caches: OperatorCaches, client: KubernetesClient, logger: Logger) {
        self.caches = caches
        deployments = Informer(api: Api(client: client, namespace: nil), labelSelector: OperatorLabels.managedSelector, logger: logger)
    }

    /// Runs the Deployment watch and counts every change the operator's caches see.
    func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.deployments.run() }
            group.addTask { await self.count(self.caches.models.events()) }
            group.addTask { await self.count(self.caches.modelVersions.events()) }
            group.addTask { await self.count(self.caches.inferenceServices.events()) }
            group.addTask { await self.count(self.caches.deployments.events()) }
            group.addTask { await self.count(self.caches.services.events()) }
            group.addTask { await self.count(self.caches.configMaps.events()) }
            group.addTask {
                for await event in self.deployments.events() {
                    guard case .apply(let deployment) = event else { continue }
                    let key = "\(deployment.metadata.namespace ?? "")/\(deployment.metadata.name ?? "")"
                    let now = ContinuousClock.now
                    self.state.withLock { state in
                        if state.deploymentsAdded[key] == nil { state.deploymentsAdded[key] = now }
                    }
                }
            }
        }
    }

    private func count<K>(_ events: AsyncStream<WatcherEvent<K>>) async {
        for await event in events {
            switch event {
            case .apply, .delete:
                let now = ContinuousClock.now
                state.withLock { state in
                    state.lastChange = now
                    state.changes += 1
                }
            default:
                break
            }
        }
    }

    var lastChange: ContinuousClock.Instant { state.withLock { $0.lastChange } }
    var changeCount: Int { state.withLock { $0.changes } }
    func deploymentAdded(_ key: String) -> ContinuousClock.Instant? { state.withLock { $0.deploymentsAdded[key] } }

    struct Progress: CustomStringConvertible {
        var models = 0, versions = 0, services = 0
        var totalModels = 0, totalVersions = 0, totalServices = 0
        var examples: [String] = []
        var isComplete: Bool { models == totalModels && versions == totalVersions && services == totalServices }
        var description: String {
            "current: Models \(models)/\(totalModels), ModelVersions \(versions)/\(totalVersions), InferenceServices \(services)/\(totalServices)"
        }
    }

    /// How many objects of the layout are current (see the definition printed with the results).
    func progress(_ expected: [Layout.Expected]) -> Progress {
        var progress = Progress(totalModels: expected.count, totalVersions: expected.count * 3, totalServices: expected.count)
        func note(_ text: @autoclosure () -> String) { if progress.examples.count < 5 { progress.examples.append(text()) } }
        for item in expected {
            if let model = caches.models.store.get(item.model), let status = model.status,
                status.observedGeneration == model.metadata.generation, status.versionCount == 3, status.stagingVersion == 2
            {
                progress.models += 1
            } else {
                note("Model \(item.model) not current: \(caches.models.store.get(item.model)?.status.map { "\($0)" } ?? "no status")")
            }
            for (index, key) in item.versions.enumerated() {
                guard let version = caches.modelVersions.store.get(key), let status = version.status, status.observedGeneration == version.metadata.generation,
                    status.conditions?.isTrue("ArtifactVerified") == true
                else {
                    note("ModelVersion \(key) not current")
                    continue
                }
                let expected: ModelStage = index == 1 ? .staging : .development
                let served = index != 0 || (status.servedBy ?? []).contains { $0.inferenceService == item.service.name && $0.role == .stable }
                if status.stage == expected, served {
                    progress.versions += 1
                } else {
                    note("ModelVersion \(key) stage \(status.stage?.rawValue ?? "-") servedBy \(status.servedBy?.count ?? 0)")
                }
            }
            if let service = caches.inferenceServices.store.get(item.service), let status = service.status,
                status.observedGeneration == service.metadata.generation, status.stable?.version == 1,
                caches.deployments.store.get(item.deployment) != nil, caches.deployments.store.get(item.router) != nil
            {
                progress.services += 1
            } else {
                note("InferenceService \(item.service) not current")
            }
        }
        return progress
    }
}

// MARK: - The operator's own counters

/// The operator's reconcile and API-request counters at one moment.
struct MetricsSnapshot {
    var reconciles: [String: Double] = [:]
    var requestsByVerb: [String: Double] = [:]

    init(_ metrics: RuntimeMetrics) {
        for line in metrics.registry.render().split(separator: "\n") where !line.hasPrefix("#") {
            guard let brace = line.firstIndex(of: "{"), let close = line.firstIndex(of: "}"),
                let value = Double(line[line.index(after: close)...].trimmingCharacters(in: .whitespaces))
            else { continue }
            let name = line[..<brace]
            let labels = line[line.index(after: brace)..<close]
            func label(_ key: String) -> String? {
                labels.split(separator: ",").first { $0.hasPrefix("\(key)=") }.map {
                    String($0.dropFirst(key.count + 1)).replacingOccurrences(of: "\"", with: "")
                }
            }
            if name == "sextant_reconcile_total", let controller = label("controller") {
                reconciles[controller, default: 0] += value
            } else if name == "sextant_api_requests_total", let verb = label("verb") {
                requestsByVerb[verb, default: 0] += value
            }
        }
    }

    private init(reconciles: [String: Double], requestsByVerb: [String: Double]) {
        self.reconciles = reconciles
        self.requestsByVerb = requestsByVerb
    }

    func minus(_ other: MetricsSnapshot) -> MetricsSnapshot {
        MetricsSnapshot(
            reconciles: reconciles.merging(other.reconciles.mapValues { -$0 }, uniquingKeysWith: +),
            requestsByVerb: requestsByVerb.merging(other.requestsByVerb.mapValues { -$0 }, uniquingKeysWith: +))
    }

    var requests: Double { requestsByVerb.values.reduce(0, +) }
    var total: Double { requests + reconciles.values.reduce(0, +) }

    var summary: String {
        let reconcileText = reconciles.filter { $0.value != 0 }.sorted { $0.key < $1.key }.map { "\($0.key) \(Int($0.value))" }.joined(separator: ", ")
        let requestText = requestsByVerb.filter { $0.value != 0 }.sorted { $0.key < $1.key }.map { "\($0.key) \(Int($0.value))" }.joined(separator: ", ")
        return "reconciles [\(reconcileText.isEmpty ? "none" : reconcileText)], API requests [\(requestText.isEmpty ? "none" : requestText)]"
    }
}

// MARK: - The API server

/// The API server under the operator: a child process, or a LocalCluster in this process.
final class APIServer: Sendable {
    let url: String
    let pid: Int32?
    private let process: Process?
    private let task: Task<Void, Error>?

    private init(url: String, process: Process?, task: Task<Void, Error>?) {
        self.url = url
        self.process = process
        self.pid = process?.processIdentifier
        self.task = task
    }

    static func inProcess(logger: Logger) async throws -> APIServer {
        let cluster = try await LocalCluster(bookmarkInterval: .seconds(60), logger: logger)
        let task = Task { try await cluster.run() }
        return APIServer(url: cluster.httpURL, process: nil, task: task)
    }

    /// Starts `sextant-kube-apiserver` and reads its HTTP address from the ready line.
    static func process(executable: String, logLevel: String) async throws -> APIServer {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw ValidationError("no sextant-kube-apiserver at \(executable); build it or pass --apiserver")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["--http-port", "0", "--log-level", logLevel, "--bookmark-interval", "60"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        try process.run()
        let line = await withCheckedContinuation { (continuation: CheckedContinuation<String, Never>) in
            DispatchQueue.global().async {
                var buffer = Data()
                while true {
                    let chunk = output.fileHandleForReading.availableData
                    if chunk.isEmpty { break }
                    buffer.append(chunk)
                    if buffer.contains(UInt8(ascii: "\n")) { break }
                }
                continuation.resume(returning: String(decoding: buffer, as: UTF8.self))
            }
        }
        guard let http = line.split(separator: " ").first(where: { $0.hasPrefix("http=") }) else {
            process.terminate()
            throw ValidationError("sextant-kube-apiserver did not report its address: \(line)")
        }
        return APIServer(url: String(http.dropFirst("http=".count)), process: process, task: nil)
    }

    func stop() {
        task?.cancel()
        if let process, process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    /// CPU seconds (user + system) of the child process, from /proc/<pid>/stat.
    func cpuSeconds() -> Double? {
        guard let pid, let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        // Fields after the command name: state is field 3; utime and stime are 14 and 15.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    func residentBytes() -> Int? {
        pid.flatMap { statusField("VmRSS", pid: "\($0)") }
    }
}

// MARK: - Process measurements

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func format(_ value: Double) -> String { String(format: "%.2f", value) }

func mib(_ bytes: Int) -> Double { Double(bytes) / 1_048_576 }

/// User plus system CPU time of this process.
func processCPUSeconds() -> Double {
    var usage = rusage()
    _ = getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

/// A `kB` field of /proc/<pid>/status, in bytes.
func statusField(_ field: String, pid: String) -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix("\(field):") {
        return line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first.flatMap { Int($0) }.map { $0 * 1024 }
    }
    return nil
}

/// VmRSS after returning freed heap pages to the system, so the number reflects live data
/// rather than what the allocator keeps cached.
func residentBytes() -> Int {
    _ = malloc_trim(0)
    return statusField("VmRSS", pid: "self") ?? 0
}

func peakResidentBytes() -> Int { statusField("VmHWM", pid: "self") ?? 0 }

/// glibc's `malloc_trim`, which the Glibc module does not export.
@_silgen_name("malloc_trim")
func malloc_trim(_ pad: Int) -> Int32

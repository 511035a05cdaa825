import AsyncHTTPClient
import Foundation
import Hummingbird
import KubeClient
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import ServiceLifecycle

/// A routing table: weighted variants, optional sticky assignment and shadow mirroring.
public struct RoutingTable: Codable, Sendable, Equatable {
    /// One variant.
    public struct Route: Codable, Sendable, Equatable {
        public var name: String
        public var url: String
        public var weight: Int
    }

    /// Mirroring of a share of the traffic to a URL whose answer is dropped.
    public struct Shadow: Codable, Sendable, Equatable {
        public var url: String
        public var percent: Int?
    }

    public var routes: [Route]
    /// Header (or cookie of the same name) whose value pins a client to a variant.
    public var stickyHeader: String?
    public var shadow: Shadow?

    /// Decodes and validates a table.
    public static func decode(_ data: Data) throws -> RoutingTable {
        let table = try JSONDecoder().decode(RoutingTable.self, from: data)
        guard !table.routes.isEmpty else { throw RouterError("routing table has no routes") }
        for route in table.routes where route.weight < 0 { throw RouterError("route '\(route.name)' has a negative weight") }
        guard table.routes.map(\.weight).reduce(0, +) > 0 else { throw RouterError("routing table weights sum to 0") }
        guard Set(table.routes.map(\.name)).count == table.routes.count else { throw RouterError("route names must be unique") }
        return table
    }
}

/// A routing error.
public struct RouterError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Smooth weighted round robin (nginx's): deterministic and exact over one cycle of
/// `sum(weights)` picks, and interleaved (90/10 never sends 10 canary requests in a row).
public struct SmoothWeightedRoundRobin: Sendable, Equatable {
    public private(set) var weights: [Int]
    private var current: [Int]

    /// Creates a balancer.
    public init(weights: [Int]) {
        self.weights = weights
        current = Array(repeating: 0, count: weights.count)
    }

    /// The index of the next variant.
    public mutating func next() -> Int {
        let total = weights.reduce(0, +)
        var best = 0
        for index in weights.indices {
            current[index] += weights[index]
            if current[index] > current[best] { best = index }
        }
        current[best] -= total
        return best
    }

    /// A sticky pick: the same key always maps to the same variant (by weight share).
    public static func sticky(key: String, weights: [Int]) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        let total = weights.reduce(0, +)
        var point = Int(hash % UInt64(max(total, 1)))
        for (index, weight) in weights.enumerated() {
            if point < weight { return index }
            point -= weight
        }
        return weights.count - 1
    }
}

/// `sextant-server route` settings.
public struct RouterConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Where the routing table comes from.
    public var tableSource: RoutingTableSource
    /// How often a table file is checked for changes.
    public var pollInterval: Duration = .milliseconds(500)
    public var maxBodyBytes = 16 << 20
    public var upstreamTimeout: Duration = .seconds(30)
    /// The API server connection for a ConfigMap table; wins over `kubeconfigPath`.
    public var kubernetes: ClientConfiguration?
    /// A kubeconfig to read (current context) for a ConfigMap table. With neither this nor
    /// `kubernetes`, the connection is inferred: the pod's service account, else `$KUBECONFIG`
    /// or `~/.kube/config`.
    public var kubeconfigPath: String?

    /// Settings for a table read from `source`.
    public init(host: String = "127.0.0.1", port: Int, tableSource: RoutingTableSource) {
        self.host = host
        self.port = port
        self.tableSource = tableSource
    }

    /// Settings for a table read from a JSON file.
    public init(host: String = "127.0.0.1", port: Int, tablePath: String) {
        self.init(host: host, port: port, tableSource: .file(path: tablePath))
    }

    /// The API server connection for a ConfigMap table: `kubernetes`, else `kubeconfigPath`,
    /// else inferred.
    public func resolvedClientConfiguration() throws -> ClientConfiguration {
        if let kubernetes { return kubernetes }
        if let kubeconfigPath { return try ClientConfiguration.kubeconfig(paths: [kubeconfigPath]) }
        return try ClientConfiguration.infer()
    }
}

/// Router state: the table, the balancer and per-variant statistics.
public final class RouterState: Sendable {
    struct VariantStats {
        var requests = 0
        var errors = 0
        var latency = RollingWindow(capacity: 1000)
        var recent = OutcomeWindow()
    }

    struct State {
        /// Nil until the first valid table arrives.
        var table: RoutingTable?
        /// Why there is no table yet (nil once there is one).
        var waitingReason: String?
        var balancer: SmoothWeightedRoundRobin
        var stats: [String: VariantStats] = [:]
        var reloads = 0
        var shadowSent = 0
        var shadowFailed = 0
        var shadowDropped = 0
        var shadowCounter = 0
    }

    private let box: NIOLockedValueBox<State>
    let metrics = ServerMetrics()

    /// Creates the state with an initial table.
    public init(table: RoutingTable) {
        box = NIOLockedValueBox(State(table: table, balancer: SmoothWeightedRoundRobin(weights: table.routes.map(\.weight))))
    }

    /// Creates the state with no table yet: not ready, and requests answered 503 with `reason`
    /// until the first `replace`.
    public init(waitingFor reason: String) {
        box = NIOLockedValueBox(State(table: nil, waitingReason: reason, balancer: SmoothWeightedRoundRobin(weights: [])))
    }

    /// The current table; nil until the first one arrives.
    public var table: RoutingTable? { box.withLockedValue { $0.table } }

    /// Whether a table is in place, and why not otherwise.
    public var readiness: (ready: Bool, reason: String?) {
        box.withLockedValue { ($0.table != nil, $0.waitingReason) }
    }

    /// Replaces the table atomically (requests in flight keep the route they picked); the
    /// balancer restarts when the routes change. The first table is not counted as a reload.
    /// Returns whether anything changed.
    @discardableResult
    public func replace(_ table: RoutingTable) -> Bool {
        box.withLockedValue {
            guard $0.table != table else { return false }
            if $0.table != nil { $0.reloads += 1 }
            $0.table = table
            $0.waitingReason = nil
            $0.balancer = SmoothWeightedRoundRobin(weights: table.routes.map(\.weight))
            return true
        }
    }

    /// Records why there is still no table (shown by `/ready` and in 503 answers); ignored once
    /// a table is in place.
    public func updateWaitingReason(_ reason: String) {
        box.withLockedValue { if $0.table == nil { $0.waitingReason = reason } }
    }

    /// Picks a variant for a request, and whether to mirror it; nil while there is no table.
    func pick(stickyKey: (String) -> String?) -> (route: RoutingTable.Route, shadow: String?)? {
        box.withLockedValue { state in
            guard let table = state.table else { return nil }
            let routes = table.routes
            let index: Int
            if let header = table.stickyHeader, let key = stickyKey(header) {
                index = SmoothWeightedRoundRobin.sticky(key: key, weights: routes.map(\.weight))
            } else {
                index = state.balancer.next()
            }
            var shadow: String?
            if let mirror = table.shadow {
                state.shadowCounter += 1
                if state.shadowCounter % 100 < (mirror.percent ?? 100) || (mirror.percent ?? 100) >= 100 { shadow = mirror.url }
            }
            return (routes[index], shadow)
        }
    }

    func record(variant: String, code: Int, seconds: Double) {
        box.withLockedValue {
            $0.stats[variant, default: VariantStats()].requests += 1
            if code >= 500 || code == 0 { $0.stats[variant, default: VariantStats()].errors += 1 }
            $0.stats[variant, default: VariantStats()].latency.add(seconds)
            $0.stats[variant, default: VariantStats()].recent.add(time: OutcomeWindow.now(), seconds: seconds, failed: code >= 500 || code == 0)
        }
        metrics.registry.makeCounter(
            descriptor: ServerMetrics.descriptor("sextant_router_requests_total", "Routed requests by variant and upstream status code (0: upstream failed)."),
            labels: [("variant", variant), ("code", String(code))]
        ).increment()
        metrics.registry.makeDurationHistogram(
            descriptor: ServerMetrics.descriptor("sextant_router_request_duration_seconds", "Routed request latency by variant."),
            labels: [("variant", variant)], buckets: ServerMetrics.latencyBuckets
        ).record(.nanoseconds(Int64(seconds * 1e9)))
    }

    func shadowResult(_ result: String) {
        box.withLockedValue {
            switch result {
            case "sent": $0.shadowSent += 1
            case "dropped": $0.shadowDropped += 1
            default: $0.shadowFailed += 1
            }
        }
        metrics.registry.makeCounter(
            descriptor: ServerMetrics.descriptor("sextant_router_shadow_total", "Shadow copies by result (sent, failed, dropped)."),
            labels: [("result", result)]
        ).increment()
    }

    /// JSON statistics per variant (`GET /stats`): since start, or — with `window` seconds
    /// (`GET /stats?window=60`) — over the requests that finished in that window, the figures a
    /// canary analysis judges. Variants that left the table but served in the window are kept.
    public func statsJSON(window: Double? = nil) -> String {
        box.withLockedValue { state in
            var variants: [String] = []
            func number(_ value: Double?) -> String { value.map { "\($0)" } ?? "null" }
            var names = (state.table?.routes ?? []).map { ($0.name, $0.url, $0.weight) }
            if let window {
                let since = OutcomeWindow.now() - window
                for (name, stats) in state.stats.sorted(by: { $0.key < $1.key })
                where !names.contains(where: { $0.0 == name }) && stats.recent.summary(since: since).requests > 0 {
                    names.append((name, "", 0))
                }
            }
            for (name, url, weight) in names {
                let stats = state.stats[name] ?? VariantStats()
                let requests: Int, errors: Int, p50: Double?, p95: Double?, p99: Double?, mean: Double?, variance: Double?
                if let window {
                    let summary = stats.recent.summary(since: OutcomeWindow.now() - window)
                    (requests, errors, p50, p95, p99, mean, variance) = (
                        summary.requests, summary.errors, summary.p50, summary.p95, summary.p99, summary.mean, summary.variance
                    )
                } else {
                    (requests, errors, p50, p95, p99) = (
                        stats.requests, stats.errors, stats.latency.percentile(0.5), stats.latency.percentile(0.95), stats.latency.percentile(0.99)
                    )
                    (mean, variance) = (stats.latency.mean, nil)
                }
                variants.append(
                    "{\"name\":\(TensorCodec.jsonString(name)),\"url\":\(TensorCodec.jsonString(url)),\"weight\":\(weight),\"requests\":\(requests),\"errors\":\(errors),\"latency\":{\"p50\":\(number(p50)),\"p95\":\(number(p95)),\"p99\":\(number(p99)),\"mean\":\(number(mean)),\"variance\":\(number(variance)),\"unit\":\"seconds\"}}"
                )
            }
            return
                "{\"variants\":[\(variants.joined(separator: ","))],\"reloads\":\(state.reloads),\"shadow\":{\"sent\":\(state.shadowSent),\"failed\":\(state.shadowFailed),\"dropped\":\(state.shadowDropped)}}"
        }
    }
}

/// Polls the table file's modification time and reloads it when it changes; a bad file keeps
/// the previous table (logged).
public struct TableWatcher: ServiceLifecycle.Service {
    let path: String
    let state: RouterState
    let interval: Duration
    let logger: Logger

    public func run() async throws {
        var lastStamp = Self.stamp(path)
        while !Task.isCancelled {
            do { try await Task.sleep(for: interval) } catch { return }
            if Task.isShuttingDownGracefully { return }
            let stamp = Self.stamp(path)
            guard stamp != lastStamp else { continue }
            lastStamp = stamp
            do {
                let table = try RoutingTable.decode(try Data(contentsOf: URL(fileURLWithPath: path)))
                state.replace(table)
                logger.info("routing table reloaded", metadata: ["router.routes": "\(table.routes.map { "\($0.name)=\($0.weight)" })"])
            } catch {
                logger.error("routing table not reloaded; keeping the previous one", metadata: ["error": "\(error)"])
            }
        }
    }

    static func stamp(_ path: String) -> String {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        let date = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        let size = (attributes?[.size] as? NSNumber)?.intValue ?? -1
        return "\(date)/\(size)"
    }
}

typealias FieldName = HTTPFields.Element.Name

/// A shadow copy of a request.
public struct ShadowRequest: Sendable {
    var url: String
    var method: HTTPMethod
    var headers: HTTPHeaders
    var body: ByteBuffer
}

/// Sends shadow copies from a bounded queue, so mirroring never delays or fails the real request.
struct ShadowSender: ServiceLifecycle.Service {
    let stream: AsyncStream<ShadowRequest>
    let state: RouterState
    let client: HTTPClient

    func run() async throws {
        await withDiscardingTaskGroup { group in
            for await item in stream.cancelOnGracefulShutdown() {
                group.addTask {
                    var request = HTTPClientRequest(url: item.url)
                    request.method = item.method
                    request.headers = item.headers
                    request.body = .bytes(item.body)
                    do {
                        let response = try await client.execute(request, timeout: .seconds(10))
                        _ = try await response.body.collect(upTo: 16 << 20)
                        state.shadowResult("sent")
                    } catch {
                        state.shadowResult("failed")
                    }
                }
            }
        }
    }
}

/// Builds the router application.
public func buildRouterApplication(
    configuration: RouterConfiguration, state: RouterState, shadowQueue: AsyncStream<ShadowRequest>.Continuation? = nil,
    logger: Logger, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let router = Router()
    router.get("/metrics") { _, _ in
        Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: state.metrics.render())))
    }
    router.get("/stats") { request, _ in
        let window = request.uri.queryParameters["window"].flatMap { Double(String($0)) }
        return jsonResponse(200, state.statsJSON(window: window))
    }
    router.get("/ready") { _, _ in
        let (ready, reason) = state.readiness
        if ready { return jsonResponse(200, "{\"ready\":true}") }
        return jsonResponse(503, "{\"ready\":false,\"reason\":\(TensorCodec.jsonString(reason ?? "no routing table yet"))}")
    }
    let client = HTTPClient.shared
    let proxy: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
        let body: ByteBuffer
        do { body = try await request.body.collect(upTo: configuration.maxBodyBytes) } catch {
            return jsonError(413, "request body exceeds \(configuration.maxBodyBytes) bytes")
        }
        let picked = state.pick { name in
            if let value = request.headers[FieldName(name) ?? .accept], !value.isEmpty { return value }
            for cookie in request.headers[values: .cookie].flatMap({ $0.split(separator: ";") }) {
                let pair = cookie.split(separator: "=", maxSplits: 1)
                if pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces) == name { return String(pair[1]) }
            }
            return nil
        }
        guard let picked else {
            return jsonError(503, "no routing table yet: \(state.readiness.reason ?? "waiting for the first table")", headers: [.retryAfter: "1"])
        }
        let (route, shadowURL) = picked
        var pathAndQuery = request.uri.path
        if let query = request.uri.query { pathAndQuery += "?" + query }
        var headers = HTTPHeaders()
        for field in request.headers {
            let lower = field.name.canonicalName
            if ["host", "connection", "content-length", "transfer-encoding", "keep-alive", "upgrade", "te"].contains(lower) { continue }
            headers.add(name: field.name.rawName, value: field.value)
        }
        headers.add(name: "x-sextant-variant", value: route.name)
        let method = HTTPMethod(rawValue: request.method.rawValue)
        if let shadowURL, let queue = shadowQueue {
            let base = shadowURL.hasSuffix("/") ? String(shadowURL.dropLast()) : shadowURL
            if case .dropped = queue.yield(ShadowRequest(url: base + pathAndQuery, method: method, headers: headers, body: body)) {
                state.shadowResult("dropped")
            }
        }
        let base = route.url.hasSuffix("/") ? String(route.url.dropLast()) : route.url
        var upstream = HTTPClientRequest(url: base + pathAndQuery)
        upstream.method = method
        upstream.headers = headers
        upstream.body = .bytes(body)
        let start = ContinuousClock.now
        func seconds() -> Double {
            let elapsed = ContinuousClock.now - start
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        }
        do {
            let response = try await client.execute(upstream, timeout: .seconds(configuration.upstreamTimeout.components.seconds))
            let responseBody = try await response.body.collect(upTo: 64 << 20)
            var fields = HTTPFields()
            for (name, value) in response.headers {
                let lower = name.lowercased()
                if ["connection", "content-length", "transfer-encoding", "keep-alive"].contains(lower) { continue }
                if let fieldName = FieldName(name) { fields.append(HTTPFields.Element(name: fieldName, value: value)) }
            }
            fields[FieldName("x-sextant-variant")!] = route.name
            state.record(variant: route.name, code: Int(response.status.code), seconds: seconds())
            return Response(status: .init(code: Int(response.status.code)), headers: fields, body: .init(byteBuffer: responseBody))
        } catch {
            state.record(variant: route.name, code: 0, seconds: seconds())
            logger.warning("upstream failed", metadata: ["router.variant": "\(route.name)", "error": "\(error)"])
            return jsonError(502, "upstream '\(route.name)' failed: \(error)", headers: [FieldName("x-sextant-variant")!: route.name])
        }
    }
    for method in [HTTPRequest.Method.get, .post, .put, .delete, .patch] {
        router.on("**", method: method, use: proxy)
        router.on("/", method: method, use: proxy)
    }
    return Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "sextant-router"),
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
        logger: logger)
}

/// Runs `route` until SIGTERM/SIGINT (or until the task is cancelled). A table file must be
/// valid at start; a ConfigMap table is awaited with the router up but not ready.
public func runRouter(
    configuration: RouterConfiguration, logger: Logger, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) async throws {
    let (stream, continuation) = AsyncStream.makeStream(of: ShadowRequest.self, bufferingPolicy: .bufferingOldest(1000))
    switch configuration.tableSource {
    case .file(let path):
        let state = RouterState(table: try RoutingTable.decode(try Data(contentsOf: URL(fileURLWithPath: path))))
        let watcher = TableWatcher(path: path, state: state, interval: configuration.pollInterval, logger: logger)
        try await runRouterServices(
            configuration: configuration, state: state, source: watcher, shadow: (stream, continuation), logger: logger, onServerRunning: onServerRunning)
    case .configMap(let reference):
        let client = try KubernetesClient(configuration: try configuration.resolvedClientConfiguration(), logger: logger)
        let state = RouterState(waitingFor: "waiting for ConfigMap \(reference)")
        let source = ConfigMapTableSource(client: client, reference: reference, state: state, logger: logger)
        do {
            try await runRouterServices(
                configuration: configuration, state: state, source: source, shadow: (stream, continuation), logger: logger, onServerRunning: onServerRunning)
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }
}

/// The router's services (HTTP, table source, shadow sender) in one `ServiceGroup`.
private func runRouterServices(
    configuration: RouterConfiguration, state: RouterState, source: some ServiceLifecycle.Service,
    shadow: (stream: AsyncStream<ShadowRequest>, queue: AsyncStream<ShadowRequest>.Continuation),
    logger: Logger, onServerRunning: @escaping @Sendable (Int) async -> Void
) async throws {
    let app = buildRouterApplication(configuration: configuration, state: state, shadowQueue: shadow.queue, logger: logger, onServerRunning: onServerRunning)
    let sender = ShadowSender(stream: shadow.stream, state: state, client: HTTPClient.shared)
    let group = ServiceGroup(configuration: .init(services: [app, source, sender], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    try await group.run()
}

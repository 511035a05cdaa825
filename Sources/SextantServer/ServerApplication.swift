import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle
import Synchronization

/// `sextant-server serve` settings.
public struct ServeConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var modelURI: String
    public var modelName: String
    public var modelVersion = "1"
    public var digest: String?
    public var driftBaselineURI: String?
    /// Inference requests handled at once; more get 503 with Retry-After.
    public var maxConcurrency = 64
    /// Seconds a request body may keep arriving before the request is answered 504.
    public var requestTimeout: Double = 30
    /// Seconds a connection may stay silent (while a request is read, or between requests)
    /// before it is closed: bounds clients that stall before sending their body.
    public var idleTimeout: Double = 90
    /// Largest accepted request body.
    public var maxBodyBytes = 16 << 20
    public var allowNaN = false
    public var pvcRoot: String?
    public var driftWindow = 1000
    /// Fault injection for rollout drills and tests: this fraction (0–1) of inference requests
    /// is answered 500 without evaluating the model.
    public var faultErrorRate: Double = 0
    /// Fault injection: seconds added before every inference answer.
    public var faultLatency: Double = 0

    /// Creates a configuration.
    public init(modelURI: String, modelName: String) {
        self.modelURI = modelURI
        self.modelName = modelName
    }
}

/// The server version reported by `GET /v2`.
public let sextantServerVersion = "0.1.0"

/// Limits inference concurrency: `tryAcquire` fails instead of queueing.
final class ConcurrencyLimiter: Sendable {
    private let inflight = Atomic<Int>(0)
    let limit: Int
    init(limit: Int) { self.limit = max(1, limit) }

    /// Takes a place; returns the requests now in flight, or nil when all places are taken.
    func tryAcquire() -> Int? {
        var current = inflight.load(ordering: .relaxed)
        while current < limit {
            let (exchanged, original) = inflight.compareExchange(
                expected: current, desired: current + 1, ordering: .acquiringAndReleasing)
            if exchanged { return current + 1 }
            current = original
        }
        return nil
    }

    /// Gives a place back; returns the requests still in flight.
    func release() -> Int { inflight.subtract(1, ordering: .acquiringAndReleasing).newValue }
}

/// Maps a request path to its bounded endpoint template (for metrics and logs). Runs for every
/// request, so it compares path segments in place instead of building strings.
public func endpointTemplate(_ path: String) -> String {
    let parts = path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true)
    func part(_ index: Int, is text: StaticString) -> Bool {
        index < parts.count && parts[index].elementsEqual(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }
    switch parts.count {
    case 0: return "/"
    case 1:
        for name: StaticString in ["ready", "live", "metrics", "v2", "healthz", "stats"] where part(0, is: name) { return "/\(name)" }
    default: break
    }
    if part(0, is: "v2") {
        if parts.count == 3, part(1, is: "health") {
            return part(2, is: "live") ? "/v2/health/live" : part(2, is: "ready") ? "/v2/health/ready" : "/v2/health/other"
        }
        if parts.count >= 3, part(1, is: "models") {
            var rest = 3
            var template = "/v2/models/{name}"
            if parts.count >= rest + 2, part(rest, is: "versions") {
                template += "/versions/{version}"
                rest += 2
            }
            if parts.count == rest { return template }
            if parts.count == rest + 1 {
                // Spelled out, so the busiest templates cost no string building.
                let versioned = rest == 5
                if part(rest, is: "infer") { return versioned ? "/v2/models/{name}/versions/{version}/infer" : "/v2/models/{name}/infer" }
                for name: StaticString in ["ready", "feedback", "stats"] where part(rest, is: name) { return template + "/\(name)" }
            }
        }
    }
    if part(0, is: "v1"), parts.count == 3, part(1, is: "models") {
        return String(decoding: parts[2], as: UTF8.self).hasSuffix(":predict") ? "/v1/models/{name}:predict" : "/v1/models/{name}"
    }
    return "unmatched"
}

/// Request logging and metrics for every route the router answers (`RequestObserver`).
struct ObservabilityMiddleware<Context: RequestContext>: RouterMiddleware {
    let observer: RequestObserver

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response: Response
        do {
            response = try await next(request, context)
        } catch let error as HTTPError {
            response = jsonError(Int(error.status.code), error.body ?? error.status.reasonPhrase)
        } catch {
            response = jsonError(500, "\(error)")
        }
        observer.finished(
            method: request.method.rawValue, endpoint: endpointTemplate(rawPath: request.head.path ?? "/"), status: Int(response.status.code),
            duration: ContinuousClock.now - start, requestID: response.headers[requestIDField])
        return response
    }
}

/// The endpoint template of a request target as sent (the path, perhaps with a query).
func endpointTemplate(rawPath: String) -> String {
    guard let query = rawPath.utf8.firstIndex(of: UInt8(ascii: "?")) else { return endpointTemplate(rawPath) }
    return endpointTemplate(String(rawPath[..<query]))
}

/// The response header naming the request id (V1 answers carry it; the request log reads it).
let requestIDField = FieldName("x-request-id")!

/// A duration in milliseconds with three decimals (microsecond resolution), e.g. `0.412`.
func millisecondsText(_ duration: Duration) -> String {
    var text: [UInt8] = []
    appendMillisecondsText(duration, to: &text)
    return String(decoding: text, as: UTF8.self)
}

/// A JSON error response `{"error": message}`.
public func jsonError(_ status: Int, _ message: String, headers: HTTPFields = [:]) -> Response {
    JSONAnswer.error(status, message, headers: headers).response
}

/// A JSON response.
public func jsonResponse(_ status: Int, _ json: String, headers: HTTPFields = [:]) -> Response {
    jsonResponse(status, body: ByteBuffer(string: json), headers: headers)
}

private func jsonResponse(_ status: Int, body: ByteBuffer, headers: HTTPFields) -> Response {
    var fields = headers
    fields[.contentType] = "application/json"
    return Response(status: .init(code: status), headers: fields, body: .init(byteBuffer: body))
}

/// A JSON answer before it becomes an HTTP response: what the POST handlers of both request
/// paths (the router's and `InferenceFastPath`) produce.
struct JSONAnswer {
    var status: Int
    /// The JSON text (bytes, so that `InferenceFastPath` copies it once, into its response).
    var body: [UInt8]
    /// Header fields beyond the content type and length (a request id, Retry-After).
    var headers: HTTPFields = [:]

    /// An error answer `{"error": message}`.
    static func error(_ status: Int, _ message: String, headers: HTTPFields = [:]) -> JSONAnswer {
        JSONAnswer(status: status, body: Array("{\"error\":\(TensorCodec.jsonString(message))}".utf8), headers: headers)
    }

    /// The answer as the router's response.
    var response: Response { jsonResponse(status, body: ByteBuffer(bytes: body), headers: headers) }
}

/// Builds the HTTP routes of the data plane: KServe V1, Open Inference Protocol V2, health,
/// metrics, stats and feedback.
public final class InferenceRoutes: Sendable {
    let dataPlane: DataPlane
    let configuration: ServeConfiguration
    let limiter: ConcurrencyLimiter
    let bodyReader: RequestBodyReader

    /// Creates the route group.
    public init(dataPlane: DataPlane, configuration: ServeConfiguration) {
        self.dataPlane = dataPlane
        self.configuration = configuration
        limiter = ConcurrencyLimiter(limit: configuration.maxConcurrency)
        bodyReader = RequestBodyReader(maxBytes: configuration.maxBodyBytes, timeout: .milliseconds(Int64(configuration.requestTimeout * 1000)))
    }

    /// Adds the routes to a router.
    public func addRoutes(to router: Router<BasicRequestContext>) {
        let plane = dataPlane
        let name = configuration.modelName
        router.get("/v2/health/live") { _, _ in jsonResponse(200, "{\"live\":true}") }
        router.get("/live") { _, _ in jsonResponse(200, "{\"live\":true}") }
        router.get("/v2/health/ready") { _, _ in self.readyResponse() }
        router.get("/ready") { _, _ in self.readyResponse() }
        router.get("/v2") { _, _ in
            jsonResponse(200, "{\"name\":\"sextant-server\",\"version\":\"\(sextantServerVersion)\",\"extensions\":[\"sextant_stats\",\"sextant_feedback\"]}")
        }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: plane.metrics.render())))
        }
        router.get("/v1/models/{name}") { _, context in
            let model = try context.parameters.require("name")
            guard model == name else { return jsonError(404, "model '\(model)' is not served here") }
            return jsonResponse(200, "{\"name\":\(TensorCodec.jsonString(name)),\"ready\":\(plane.readiness.ready)}")
        }
        router.post("/v1/models/{name}:predict") { request, context in
            let model = try context.parameters.require("name")
            return await self.answerThroughRouter(request, .v1Predict(model: model))
        }
        for versioned in [false, true] {
            let base = versioned ? "/v2/models/{name}/versions/{version}" : "/v2/models/{name}"
            router.get(RouterPath(base)) { _, context in
                let model = try context.parameters.require("name")
                let version = context.parameters.get("version")
                return self.answering { JSONAnswer(status: 200, body: Array(try self.metadataJSON(try plane.model(named: model, version: version)).utf8)) }
                    .response
            }
            router.get(RouterPath(base + "/ready")) { _, context in
                let model = try context.parameters.require("name")
                if model != name { return jsonError(404, "model '\(model)' is not served here") }
                if let version = context.parameters.get("version"), version != self.configuration.modelVersion {
                    return jsonError(404, "model '\(model)' has no version '\(version)'")
                }
                return self.readyResponse()
            }
            router.post(RouterPath(base + "/infer")) { request, context in
                let model = try context.parameters.require("name")
                return await self.answerThroughRouter(request, .v2Infer(model: model, version: context.parameters.get("version")))
            }
        }
        router.post("/v2/models/{name}/feedback") { request, context in
            let model = try context.parameters.require("name")
            return await self.limited(request, inference: false) { body in
                JSONAnswer(status: 200, body: Array(try plane.feedback(name: model, body: [UInt8](buffer: body)).utf8))
            }
        }
        router.get("/v2/models/{name}/stats") { _, context in
            let model = try context.parameters.require("name")
            guard model == name else { return jsonError(404, "model '\(model)' is not served here") }
            let stats = plane.stats()
            if let drift = stats.drift {
                plane.metrics.drift(drift.features)
                if let psi = drift.predictionPSI { plane.metrics.predictionDrift(psi) }
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let data = try encoder.encode(stats)
            return jsonResponse(200, String(decoding: data, as: UTF8.self))
        }
    }

    /// Evaluates `endpoint` on a whole request body.
    /// `headerLength` is the request's `Inference-Header-Content-Length` (V2's binary tensor extension).
    func evaluate(_ endpoint: InferenceEndpoint, body: ByteBuffer, headerLength: Int?) throws -> JSONAnswer {
        let bytes = [UInt8](buffer: body)
        switch endpoint {
        case .v2Infer(let model, let version):
            return JSONAnswer(status: 200, body: try dataPlane.inferV2(name: model, version: version, body: bytes, headerLength: headerLength))
        case .v1Predict(let model):
            let (json, id) = try dataPlane.predictV1(name: model, body: bytes)
            return JSONAnswer(status: 200, body: json, headers: [requestIDField: id])
        }
    }

    /// Answers an inference request through the router, which may still be receiving its body.
    func answerThroughRouter(_ request: Request, _ endpoint: InferenceEndpoint) async -> Response {
        let headerLength = request.headers[Self.headerLengthField].flatMap { Int($0) }
        return await limited(request) { body in try evaluate(endpoint, body: body, headerLength: headerLength) }
    }

    /// Whether `InferenceFastPath` may answer a request when its target names an inference
    /// endpoint: a POST declaring a body length within the limit, while no faults are injected
    /// (their latency is a sleep, which only the router's path takes).
    func admitsFastPath(isPost: Bool, contentLength: Int?) -> Bool {
        guard isPost, configuration.faultLatency == 0, configuration.faultErrorRate == 0, let contentLength else { return false }
        return contentLength <= configuration.maxBodyBytes
    }

    /// Answers an inference request whose whole body is in hand, on the calling thread (the
    /// fast path): the same concurrency limit, evaluation and bookkeeping as `limited`.
    func answerWhole(_ endpoint: InferenceEndpoint, body: ByteBuffer, headerLength: Int?) -> JSONAnswer {
        guard admit() else { return overloaded() }
        defer { leave() }
        let start = ContinuousClock.now
        let answer = answering { try evaluate(endpoint, body: body, headerLength: headerLength) }
        recordInference(since: start, answer)
        return answer
    }

    static let headerLengthField = FieldName("Inference-Header-Content-Length")!

    func readyResponse() -> Response {
        let (ready, reason) = dataPlane.readiness
        if ready { return jsonResponse(200, "{\"ready\":true}") }
        return jsonResponse(503, "{\"ready\":false,\"reason\":\(TensorCodec.jsonString(reason ?? "not ready"))}")
    }

    func metadataJSON(_ model: InferenceModel) throws -> String {
        func tensors(_ list: [ValueSignatureView]) -> String {
            "["
                + list.map {
                    "{\"name\":\(TensorCodec.jsonString($0.name)),\"datatype\":\"\($0.datatype)\",\"shape\":[\($0.shape.map(String.init).joined(separator: ","))]}"
                }
                .joined(separator: ",") + "]"
        }
        let inputs = model.model.inputs.map { ValueSignatureView(name: $0.name, datatype: $0.elementType?.v2Name ?? "BYTES", shape: $0.shape ?? [-1]) }
        let outputs = model.tensorOutputs.map { ValueSignatureView(name: $0.name, datatype: $0.elementType?.v2Name ?? "BYTES", shape: $0.shape ?? [-1]) }
        return
            "{\"name\":\(TensorCodec.jsonString(model.name)),\"versions\":[\(TensorCodec.jsonString(model.version))],\"platform\":\"onnx\",\"inputs\":\(tensors(inputs)),\"outputs\":\(tensors(outputs))}"
    }

    struct ValueSignatureView {
        var name: String
        var datatype: String
        var shape: [Int]
    }

    /// The configured injected faults (`--fault-latency`, `--fault-error-rate`): waits, then
    /// returns an error answer for the configured share of requests.
    func injectFaults() async -> JSONAnswer? {
        if configuration.faultLatency > 0 { try? await Task.sleep(for: .milliseconds(Int64(configuration.faultLatency * 1000))) }
        if configuration.faultErrorRate > 0, Double.random(in: 0..<1) < configuration.faultErrorRate {
            return .error(500, "injected fault (--fault-error-rate \(configuration.faultErrorRate))")
        }
        return nil
    }

    /// Runs a POST handler with bounded concurrency (503 + Retry-After when full), a body size
    /// limit (413) and a timeout on slow bodies (504).
    func limited(_ request: Request, inference: Bool = true, _ work: (ByteBuffer) throws -> JSONAnswer) async -> Response {
        guard admit() else { return overloaded().response }
        defer { leave() }
        let start = ContinuousClock.now
        let maxBytes = configuration.maxBodyBytes
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBytes {
            dataPlane.metrics.rejected("body_too_large")
            return jsonError(413, "request body is \(length) bytes; the limit is \(maxBytes) (--max-body-bytes)")
        }
        let answer: JSONAnswer
        switch await bodyReader.read(request) {
        case .body(let body):
            if inference, let injected = await injectFaults() {
                answer = injected
            } else {
                answer = answering { try work(body) }
            }
        case .tooLarge:
            dataPlane.metrics.rejected("body_too_large")
            answer = .error(413, "request body exceeds the limit of \(maxBytes) bytes (--max-body-bytes)")
        case .timedOut:
            dataPlane.metrics.rejected("timeout")
            answer = .error(504, "request timed out after \(configuration.requestTimeout) s (--request-timeout)")
        case .failed:
            answer = .error(400, "the connection failed while the request body was read")
        }
        if inference { recordInference(since: start, answer) }
        return answer.response
    }

    /// Takes a place under the concurrency limit; false when every place is taken.
    private func admit() -> Bool {
        guard let inflight = limiter.tryAcquire() else { return false }
        dataPlane.metrics.inflight.set(to: Double(inflight))
        return true
    }

    /// Gives back the place `admit` took.
    private func leave() {
        dataPlane.metrics.inflight.set(to: Double(limiter.release()))
    }

    /// The answer when the concurrency limit is reached.
    private func overloaded() -> JSONAnswer {
        dataPlane.metrics.rejected("overload")
        return .error(503, "server is at its concurrency limit (\(limiter.limit)); retry later", headers: [.retryAfter: "1"])
    }

    /// `work`'s answer, or the error answer for what it threw.
    private func answering(_ work: () throws -> JSONAnswer) -> JSONAnswer {
        do { return try work() } catch let error as InferenceError {
            return .error(error.status, error.message)
        } catch {
            return .error(500, "\(error)")
        }
    }

    /// Records a finished inference request for stats.
    private func recordInference(since start: ContinuousClock.Instant, _ answer: JSONAnswer) {
        let elapsed = ContinuousClock.now - start
        dataPlane.recordInference(
            seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, failed: answer.status >= 400)
    }
}

/// Builds the inference server application (tests build the same app on port 0).
public func buildServerApplication(
    configuration: ServeConfiguration, dataPlane: DataPlane, logger: Logger,
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let observer = RequestObserver(metrics: dataPlane.metrics, logger: logger)
    let router = Router()
    router.add(middleware: ObservabilityMiddleware(observer: observer))
    let routes = InferenceRoutes(dataPlane: dataPlane, configuration: configuration)
    routes.addRoutes(to: router)
    let serverName = "sextant-server"
    let idleTimeout = TimeAmount.milliseconds(Int64(configuration.idleTimeout * 1000))
    return Application(
        router: router,
        server: HTTPServerBuilder { responder in
            FastPathHTTP1Channel(http1: HTTP1Channel(responder: responder), idleTimeout: idleTimeout) { encoderContext, idleCloser in
                InferenceFastPath(
                    routes: routes, observer: observer, serverName: serverName, encoderContext: encoderContext, idleCloser: idleCloser)
            }
        },
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: serverName),
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
        logger: logger)
}

/// Loads the model once, then waits for shutdown (so the service group keeps running).
public struct ModelLoaderService: Service {
    let dataPlane: DataPlane
    let configuration: ServeConfiguration
    let fetcher: ModelFetcher

    /// Creates the loader.
    public init(dataPlane: DataPlane, configuration: ServeConfiguration, fetcher: ModelFetcher) {
        self.dataPlane = dataPlane
        self.configuration = configuration
        self.fetcher = fetcher
    }

    public func run() async throws {
        await dataPlane.load(
            modelURI: configuration.modelURI, digest: configuration.digest,
            baselineURI: configuration.driftBaselineURI, fetcher: fetcher)
        try? await gracefulShutdown()
    }
}

/// Runs `serve` until SIGTERM/SIGINT, draining in-flight requests.
public func runInferenceServer(
    configuration: ServeConfiguration, logger: Logger, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) async throws {
    let plane = DataPlane(
        options: DataPlaneOptions(
            modelName: configuration.modelName, modelVersion: configuration.modelVersion,
            allowNaN: configuration.allowNaN, driftWindow: configuration.driftWindow),
        logger: logger)
    let app = buildServerApplication(configuration: configuration, dataPlane: plane, logger: logger, onServerRunning: onServerRunning)
    let loader = ModelLoaderService(
        dataPlane: plane, configuration: configuration,
        fetcher: ModelFetcher(settings: .fromEnvironment(pvcRoot: configuration.pvcRoot)))
    let group = ServiceGroup(configuration: .init(services: [app, loader], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    try await group.run()
}

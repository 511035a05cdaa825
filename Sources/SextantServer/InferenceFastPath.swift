import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes

/// Answers inference requests that arrive whole right on the connection's event loop, and
/// passes every other request on, unchanged, to Hummingbird's router.
///
/// Hummingbird hands each request to Swift concurrency (an async stream per connection, a
/// task resumed per part, an async writer for the answer); for a request that takes
/// microseconds to evaluate, that hand-over costs more than the work. This handler sits in the
/// channel pipeline between Hummingbird's `HTTPConnectionStateHandler` (which still sees every
/// request and answer, so idle timeouts and graceful shutdown work as before) and the bridge
/// to Swift concurrency, and answers a request itself when all of these hold:
/// - it is a POST to an inference endpoint spelled plainly (`InferenceEndpoint(target:)`) with a
///   declared body length within the limit, and no faults are being injected
///   (`InferenceRoutes.admitsFastPath`);
/// - no request passed on earlier on this connection is still waiting for its answer, so
///   answers keep the order of their requests;
/// - its end arrives in the same read as its head. A body still arriving when the read ends
///   is passed on with the head, and the router reads the rest under its request timeout.
///
/// The answer is the one the router would give: `InferenceRoutes.answerWhole` evaluates it
/// under the same concurrency limit, and `RequestObserver` logs and counts it.
final class InferenceFastPath: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let routes: InferenceRoutes
    private let observer: RequestObserver
    private let serverName: String
    /// The request being collected for the fast path, until its end arrives.
    private var collecting: (endpoint: InferenceEndpoint, head: HTTPRequest)?
    private var collectedBody: ByteBuffer?
    /// Requests passed on to the router whose answers are not all written yet.
    private var awaitingRouter = 0
    private var date = HTTPDateCache()
    /// The last target read on this connection and the endpoint it names: clients send the
    /// same target again and again.
    private var lastTarget: (target: String, endpoint: InferenceEndpoint?)?

    init(routes: InferenceRoutes, observer: RequestObserver, serverName: String) {
        self.routes = routes
        self.observer = observer
        self.serverName = serverName
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            if awaitingRouter == 0, routes.admitsFastPath(head), let endpoint = endpoint(of: head.path) {
                collecting = (endpoint, head)
            } else {
                awaitingRouter += 1
                context.fireChannelRead(data)
            }
        case .body(var part):
            guard collecting != nil else { return context.fireChannelRead(data) }
            if collectedBody == nil {
                collectedBody = part
            } else {
                collectedBody!.writeBuffer(&part)
            }
        case .end:
            guard let (endpoint, head) = collecting else { return context.fireChannelRead(data) }
            let body = collectedBody ?? ByteBuffer()
            collecting = nil
            collectedBody = nil
            answer(endpoint, head, body, context: context)
        }
    }

    private func endpoint(of target: String?) -> InferenceEndpoint? {
        guard let target else { return nil }
        if let lastTarget, lastTarget.target == target { return lastTarget.endpoint }
        let endpoint = InferenceEndpoint(target: target)
        lastTarget = (target, endpoint)
        return endpoint
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if let (_, head) = collecting {
            // The body is still arriving: the router takes the request from here.
            collecting = nil
            awaitingRouter += 1
            context.fireChannelRead(wrapInboundOut(.head(head)))
            if let body = collectedBody { context.fireChannelRead(wrapInboundOut(.body(body))) }
            collectedBody = nil
        }
        context.fireChannelReadComplete()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // Only the router's answers pass here; this handler's own go straight to the next one.
        if case .end = unwrapOutboundIn(data), awaitingRouter > 0 { awaitingRouter -= 1 }
        context.write(data, promise: promise)
    }

    func channelInactive(context: ChannelHandlerContext) {
        collecting = nil
        collectedBody = nil
        context.fireChannelInactive()
    }

    private func answer(_ endpoint: InferenceEndpoint, _ head: HTTPRequest, _ body: ByteBuffer, context: ChannelHandlerContext) {
        let start = ContinuousClock.now
        let answer = routes.answerWhole(endpoint, body: body, headers: head.headerFields)
        let duration = ContinuousClock.now - start
        observer.metrics.fastPathRequests.increment()
        // The fields the router's answer has, in its order: the answer's own, then the content's,
        // then the date and server Hummingbird adds.
        var fields = answer.headers
        fields[.contentType] = "application/json"
        fields[.contentLength] = String(answer.body.readableBytes)
        fields[.date] = date.now()
        fields[.server] = serverName
        context.write(wrapOutboundOut(.head(HTTPResponse(status: .init(code: answer.status), headerFields: fields))), promise: nil)
        context.write(wrapOutboundOut(.body(answer.body)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        if head.headerFields[.connection] == "close" { context.close(promise: nil) }
        observer.finished(method: "POST", endpoint: endpoint.template, status: answer.status, duration: duration, requestID: answer.headers[requestIDField])
    }
}

/// Hummingbird's HTTP/1 child channel with an `InferenceFastPath` after its connection-state
/// handler.
struct FastPathHTTP1Channel: ServerChildChannel {
    let http1: HTTP1Channel
    let makeFastPath: @Sendable () -> InferenceFastPath

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<HTTP1Channel.Value> {
        http1.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            let connectionState = try pipeline.handler(type: HTTPConnectionStateHandler.self)
            try pipeline.addHandler(makeFastPath(), position: .after(connectionState))
            return value
        }
    }

    func handle(value: HTTP1Channel.Value, logger: Logger) async {
        await http1.handle(value: value, logger: logger)
    }
}

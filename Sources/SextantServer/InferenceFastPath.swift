import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1

/// Answers inference requests that arrive whole right on the connection's event loop, and
/// passes every other request on, unchanged, to Hummingbird's router.
///
/// Hummingbird converts each request to Swift HTTP Types and hands it to Swift concurrency (an
/// async stream per connection, a task resumed per part, an async writer for the answer); for
/// a request that takes microseconds to evaluate, that costs more than the work. This handler
/// sits in the channel pipeline right after the HTTP/1 decoder (behind `IdleConnectionCloser`),
/// before all of that, and answers a request itself when all of these hold:
/// - it is a POST to an inference endpoint spelled plainly (`InferenceEndpoint(target:)`) with a
///   declared body length within the limit, and no faults are being injected
///   (`InferenceRoutes.admitsFastPath`);
/// - no request passed on earlier on this connection is still waiting for its answer, so
///   answers keep the order of their requests;
/// - its end arrives in the same read as its head. A body still arriving when the read ends
///   is passed on with the head, and the router reads the rest under its request timeout.
///
/// The answer is the one the router would give: `InferenceRoutes.answerWhole` evaluates it
/// under the same concurrency limit, `RequestObserver` logs and counts it, and the header fields
/// are the router's (a test compares the two).
final class InferenceFastPath: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let routes: InferenceRoutes
    private let observer: RequestObserver
    private let serverName: String
    /// The request being collected for the fast path, until its end arrives.
    private var collecting: (endpoint: InferenceEndpoint, head: HTTPRequestHead)?
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
            if awaitingRouter == 0,
                routes.admitsFastPath(isPost: head.method == .POST, contentLength: head.headers.first(name: "content-length").flatMap { Int($0) }),
                let endpoint = endpoint(of: head.uri)
            {
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

    private func endpoint(of target: String) -> InferenceEndpoint? {
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

    private func answer(_ endpoint: InferenceEndpoint, _ head: HTTPRequestHead, _ body: ByteBuffer, context: ChannelHandlerContext) {
        let start = ContinuousClock.now
        let headerLength = head.headers.first(name: InferenceRoutes.headerLengthField.rawName).flatMap { Int($0) }
        let answer = routes.answerWhole(endpoint, body: body, headerLength: headerLength)
        let duration = ContinuousClock.now - start
        observer.metrics.fastPathRequests.increment()
        // The fields the router's answer has, in its order and spelling: the answer's own, then
        // the content's, then the date and server Hummingbird adds.
        var fields = HTTPHeaders()
        for field in answer.headers { fields.add(name: field.name.rawName, value: field.value) }
        fields.add(name: "Content-Type", value: "application/json")
        fields.add(name: "Content-Length", value: String(answer.body.readableBytes))
        fields.add(name: "Date", value: date.now())
        fields.add(name: "Server", value: serverName)
        let status = HTTPResponseStatus(statusCode: answer.status)
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: fields))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(answer.body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        if !head.isKeepAlive { context.close(promise: nil) }
        observer.finished(method: "POST", endpoint: endpoint.template, status: answer.status, duration: duration, requestID: answer.headers[requestIDField])
    }
}

/// Hummingbird's HTTP/1 child channel with `IdleConnectionCloser` and `InferenceFastPath` right
/// after the HTTP/1 decoder (before Hummingbird's conversion to Swift HTTP Types). Build the
/// `HTTP1Channel` without an idle timeout: `IdleConnectionCloser` keeps it.
struct FastPathHTTP1Channel: ServerChildChannel {
    let http1: HTTP1Channel
    let idleTimeout: TimeAmount
    let makeFastPath: @Sendable () -> InferenceFastPath

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<HTTP1Channel.Value> {
        http1.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            let conversion = try pipeline.handler(type: HTTP1ToHTTPServerCodec.self)
            try pipeline.addHandler(IdleConnectionCloser(timeout: idleTimeout), position: .before(conversion))
            try pipeline.addHandler(makeFastPath(), position: .before(conversion))
            return value
        }
    }

    func handle(value: HTTP1Channel.Value, logger: Logger) async {
        await http1.handle(value: value, logger: logger)
    }
}

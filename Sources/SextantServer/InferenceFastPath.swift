import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1

/// Answers inference requests straight from the bytes read, before SwiftNIO's HTTP decoder, and
/// passes every other request on, unchanged, to the decoder and Hummingbird's router.
///
/// Decoding a request into NIO's and then Swift HTTP Types' parts, handing it to Swift
/// concurrency and encoding the answer back costs more than evaluating a small model. This
/// handler sits between NIO's response encoder and request decoder, reads each request head
/// itself (`RequestHeadScanner`, strictly) and answers a request on the event loop when all of
/// these hold:
/// - it is an HTTP/1.1 POST to an inference endpoint spelled plainly (`InferenceEndpoint(target:)`)
///   with a declared body length within the limit, no `Expect`, and no faults are being injected
///   (`InferenceRoutes.admitsFastPath`);
/// - no request passed on earlier is still waiting for its answer, so answers keep the order
///   of their requests;
/// - its whole body has arrived by the end of the read that brought its head. A body still
///   arriving is passed on with its head, and the router reads the rest under its request
///   timeout.
///
/// Every other request is passed on byte for byte, head and body, and the decoder reads it as
/// it would have anyway; the next request is again this handler's to answer. A request whose
/// framing the scanner does not accept (`Transfer-Encoding`, a duplicate `Content-Length`, an
/// unusual spelling) is passed on with everything after it on the connection: from there on,
/// only the decoder decides where requests end.
///
/// The answer is the one the router would give: `InferenceRoutes.answerWhole` evaluates it
/// under the same concurrency limit, `RequestObserver` logs and counts it, and the header fields
/// are the router's (a test compares the two). It is written as bytes through the response
/// encoder's context, past the encoder, which serializes only the router's answers.
final class InferenceFastPath: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let routes: InferenceRoutes
    private let observer: RequestObserver
    private let serverName: String
    /// Told when this handler answered requests (the connection is busy); nil in tests.
    private let idleCloser: IdleConnectionCloser?
    /// The response encoder's context: this handler's own answers are written there, past it.
    private var encoderContext: ChannelHandlerContext?
    /// Bytes read and not yet answered or passed on: the start of the next request.
    private var unread: ByteBuffer?
    /// How far the search for the end of the next request's head got in `unread`.
    private var headSearchedUpTo = 0
    /// Body bytes of a passed-on request that have not arrived yet (passed on as they do).
    private var bodyBytesToPass = 0
    /// Set once a request could not be framed: the decoder reads everything from there.
    private var passingEverything = false
    /// Requests passed on whose answers have not ended yet.
    private var awaitingRouter = 0
    /// Answers written since the last flush.
    private var unflushed = false
    /// Set once an answer to `Connection: close` is on its way: nothing more is read.
    private var closing = false
    private var date = HTTPDateCache()
    /// The last request target answered here and the endpoint it names: clients send the same
    /// target again and again.
    private var lastTarget: (bytes: [UInt8], endpoint: InferenceEndpoint)?

    init(
        routes: InferenceRoutes, observer: RequestObserver, serverName: String, encoderContext: ChannelHandlerContext,
        idleCloser: IdleConnectionCloser? = nil
    ) {
        self.routes = routes
        self.observer = observer
        self.serverName = serverName
        self.encoderContext = encoderContext
        self.idleCloser = idleCloser
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        encoderContext = nil
        unread = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if closing { return }
        guard !passingEverything else { return context.fireChannelRead(data) }
        var bytes = unwrapInboundIn(data)
        if unread == nil {
            unread = bytes
        } else {
            // The start of a request is waiting for the rest: keep only the unread bytes.
            unread!.discardReadBytes()
            unread!.writeBuffer(&bytes)
        }
        readRequests(context: context, readEnded: false)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if !passingEverything, !closing { readRequests(context: context, readEnded: true) }
        if unflushed {
            unflushed = false
            encoderContext?.flush()
            // `IdleConnectionCloser` sits after the decoder and never sees these requests.
            idleCloser?.fastPathAnswered()
        }
        context.fireChannelReadComplete()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // Only the router's answers pass here; this handler's own go past the encoder.
        if case .end = unwrapOutboundIn(data), awaitingRouter > 0 { awaitingRouter -= 1 }
        context.write(data, promise: promise)
    }

    func channelInactive(context: ChannelHandlerContext) {
        unread = nil
        context.fireChannelInactive()
    }

    /// Answers or passes on every request in `unread` whose head is complete. At the end of a
    /// read (`readEnded`), a request this handler would answer but whose body is still arriving
    /// is passed on too.
    private func readRequests(context: ChannelHandlerContext, readEnded: Bool) {
        while var buffer = unread, buffer.readableBytes > 0 {
            if bodyBytesToPass > 0 {
                let count = min(bodyBytesToPass, buffer.readableBytes)
                bodyBytesToPass -= count
                let bodyPart = buffer.readSlice(length: count)!
                pass(bodyPart, rest: buffer, context: context)
                continue
            }
            let scan = buffer.withUnsafeReadableBytes { RequestHeadScanner.scan($0, resumeAt: headSearchedUpTo) }
            switch scan {
            case .incomplete(let searchedUpTo):
                headSearchedUpTo = searchedUpTo
                return
            case .unframable:
                passingEverything = true
                pass(buffer, rest: nil, context: context)
                return
            case .head(let head):
                headSearchedUpTo = 0
                if awaitingRouter == 0, let endpoint = fastEndpoint(head, buffer) {
                    if head.length <= buffer.readableBytes {
                        let body = buffer.getSlice(at: buffer.readerIndex + head.headLength, length: head.contentLength)!
                        buffer.moveReaderIndex(forwardBy: head.length)
                        unread = buffer
                        answer(endpoint, body: body, head: head, context: context)
                        if head.closeRequested {
                            // Answered and closed: nothing after it is read.
                            unread = nil
                            return
                        }
                        continue
                    }
                    if !readEnded { return }
                }
                // The router's: the head and what has arrived of the body, the rest as it comes.
                awaitingRouter += 1
                if head.closeRequested || !head.isHTTP11 {
                    // The decoder accepts nothing after a request that ends the connection, and
                    // this handler does not follow HTTP/1.0's keep-alive rules: the decoder reads
                    // the rest from here.
                    passingEverything = true
                    pass(buffer, rest: nil, context: context)
                    return
                }
                let count = min(head.length, buffer.readableBytes)
                bodyBytesToPass = head.length - count
                let request = buffer.readSlice(length: count)!
                pass(request, rest: buffer, context: context)
            }
        }
        unread = nil
    }

    /// Passes `bytes` on to the decoder, keeping `rest` as the unread bytes.
    private func pass(_ bytes: ByteBuffer, rest: ByteBuffer?, context: ChannelHandlerContext) {
        unread = rest
        context.fireChannelRead(wrapInboundOut(bytes))
    }

    /// The endpoint `head` names when this handler may answer it.
    private func fastEndpoint(_ head: ScannedRequestHead, _ buffer: ByteBuffer) -> InferenceEndpoint? {
        // A client that does not read its answers makes the channel unwritable: the router's
        // path then applies backpressure (it stops reading) instead of answers piling up here.
        guard head.isHTTP11, !head.expects, !head.sendsInferenceHeaderLength, encoderContext?.channel.isWritable == true,
            routes.admitsFastPath(isPost: head.isPost, contentLength: head.declaresLength ? head.contentLength : nil)
        else { return nil }
        return buffer.withUnsafeReadableBytes { bytes in
            let target = UnsafeRawBufferPointer(rebasing: bytes[head.target])
            if let lastTarget, lastTarget.bytes.elementsEqual(target) { return lastTarget.endpoint }
            guard let endpoint = InferenceEndpoint(target: String(decoding: target, as: UTF8.self)) else { return nil }
            lastTarget = (Array(target), endpoint)
            return endpoint
        }
    }

    private func answer(_ endpoint: InferenceEndpoint, body: ByteBuffer, head: ScannedRequestHead, context: ChannelHandlerContext) {
        guard let encoderContext else { return }
        let start = ContinuousClock.now
        let answer = routes.answerWhole(endpoint, body: body, headerLength: nil)
        let duration = ContinuousClock.now - start
        observer.metrics.fastPathRequests.increment()
        // The fields the router's answer has, in its order and spelling: the answer's own, then
        // the content's, then the date and server Hummingbird adds.
        let status = HTTPResponseStatus(statusCode: answer.status)
        var bytes = context.channel.allocator.buffer(capacity: 192 + answer.body.count)
        bytes.writeStaticString("HTTP/1.1 ")
        bytes.writeString(String(status.code))
        bytes.writeStaticString(" ")
        bytes.writeString(status.reasonPhrase)
        bytes.writeStaticString("\r\n")
        for field in answer.headers {
            bytes.writeString(field.name.rawName)
            bytes.writeStaticString(": ")
            bytes.writeString(field.value)
            bytes.writeStaticString("\r\n")
        }
        bytes.writeStaticString("Content-Type: application/json\r\nContent-Length: ")
        bytes.writeString(String(answer.body.count))
        bytes.writeStaticString("\r\nDate: ")
        bytes.writeString(date.now())
        bytes.writeStaticString("\r\nServer: ")
        bytes.writeString(serverName)
        bytes.writeStaticString("\r\n\r\n")
        bytes.writeBytes(answer.body)
        if head.closeRequested {
            // Close once the answer is written (closing at once would drop what the socket
            // has not taken yet).
            closing = true
            let channel = context.channel
            let written = context.eventLoop.makePromise(of: Void.self)
            encoderContext.writeAndFlush(NIOAny(IOData.byteBuffer(bytes)), promise: written)
            written.futureResult.whenComplete { _ in channel.close(promise: nil) }
        } else {
            encoderContext.write(NIOAny(IOData.byteBuffer(bytes)), promise: nil)
            unflushed = true
        }
        observer.finished(
            method: "POST", endpoint: endpoint.template, status: answer.status, duration: duration,
            requestID: answer.headers.isEmpty ? nil : answer.headers[requestIDField])
    }
}

/// Hummingbird's HTTP/1 child channel with `InferenceFastPath` between NIO's response encoder and
/// request decoder, and `IdleConnectionCloser` right after the decoder. Build the `HTTP1Channel`
/// without an idle timeout: `IdleConnectionCloser` keeps it.
struct FastPathHTTP1Channel: ServerChildChannel {
    let http1: HTTP1Channel
    let idleTimeout: TimeAmount
    let makeFastPath: @Sendable (_ encoderContext: ChannelHandlerContext, _ idleCloser: IdleConnectionCloser) -> InferenceFastPath

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<HTTP1Channel.Value> {
        http1.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            let conversion = try pipeline.handler(type: HTTP1ToHTTPServerCodec.self)
            let idleCloser = IdleConnectionCloser(timeout: idleTimeout)
            try pipeline.addHandler(idleCloser, position: .before(conversion))
            let encoder = try pipeline.context(handlerType: HTTPResponseEncoder.self)
            try pipeline.addHandler(makeFastPath(encoder, idleCloser), position: .after(encoder.handler))
            return value
        }
    }

    func handle(value: HTTP1Channel.Value, logger: Logger) async {
        await http1.handle(value: value, logger: logger)
    }
}

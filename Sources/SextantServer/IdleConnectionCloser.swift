import NIOCore
import NIOHTTP1

/// Closes a connection that stays silent for `timeout` (`--idle-timeout`): nothing read, and no
/// request waiting for its answer. That bounds idle keep-alive connections and clients that
/// stall before or while sending a body.
///
/// It sits right after the HTTP decoder, so it sees every request the router answers, and
/// `InferenceFastPath` (before the decoder) tells it when it answered requests itself
/// (`fastPathAnswered()`).
/// (Hummingbird's own idle timeout sits where those requests never pass, so it is switched
/// off.) The rules are Hummingbird's: the clock restarts with every read and with the
/// end of every answer, and a request that was read whole and is still being answered keeps
/// the connection open however long it takes.
final class IdleConnectionCloser: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let timeout: TimeAmount
    private var lastActivity = NIODeadline.now()
    /// Requests whose head was read and whose answer has not ended yet.
    private var awaitingAnswer = 0
    /// Whether a request's head was read and its end not yet.
    private var readingRequest = false
    private var timer: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = .now()
        switch unwrapInboundIn(data) {
        case .head:
            awaitingAnswer += 1
            readingRequest = true
        case .body:
            break
        case .end:
            readingRequest = false
        }
        context.fireChannelRead(data)
    }

    /// `InferenceFastPath` answered requests (which never reach this handler): the connection
    /// is busy, not idle. Bytes read that complete no request do not count, so a client that
    /// trickles a request head is still closed. Called on the channel's event loop.
    func fastPathAnswered() {
        lastActivity = .now()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), awaitingAnswer > 0 {
            awaitingAnswer -= 1
            if awaitingAnswer == 0 {
                lastActivity = .now()
                arm(context)
            }
        }
        context.write(data, promise: promise)
    }

    /// Starts the clock unless it runs already.
    private func arm(_ context: ChannelHandlerContext) {
        guard timer == nil else { return }
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: lastActivity + timeout) { [self] in
            timer = nil
            // Read whole and being answered: the end of the answer starts the clock again.
            if !readingRequest, awaitingAnswer > 0 { return }
            if NIODeadline.now() >= lastActivity + timeout {
                context.close(promise: nil)
            } else {
                arm(context)
            }
        }
    }
}

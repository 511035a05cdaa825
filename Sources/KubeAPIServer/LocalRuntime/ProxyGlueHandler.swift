import NIOCore

/// Joins two channels on the same event loop so bytes flow both ways, as the service proxy
/// relays a client's connection to a pod: what one side reads the other writes.
///
/// - Backpressure: a side reads only while its partner is writable; a read asked for while the
///   partner is full is parked and done when the partner drains (`channelWritabilityChanged`).
/// - Half-close: end of input on one side shuts the partner's output once everything before it
///   has been written (channels allow remote half-closure); NIO closes a channel fully once both
///   of its directions are shut.
/// - Any error or a full close of one side closes the other.
///
/// Both handlers of a pair must live on one event loop: they call each other directly.
final class ProxyGlueHandler {
    private var partner: ProxyGlueHandler?
    private var context: ChannelHandlerContext?
    private var pendingRead = false

    private init() {}

    /// Two handlers that forward to each other, one for each channel.
    static func matchedPair() -> (ProxyGlueHandler, ProxyGlueHandler) {
        let first = ProxyGlueHandler()
        let second = ProxyGlueHandler()
        first.partner = second
        second.partner = first
        return (first, second)
    }

    private func partnerWrite(_ data: NIOAny) {
        context?.write(data, promise: nil)
    }

    private func partnerFlush() {
        context?.flush()
    }

    /// The partner read end of input: stop sending here too, after the writes already queued.
    private func partnerWriteEOF() {
        guard let context else { return }
        let channel = context.channel
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(NIOAny(ByteBuffer()), promise: written)
        written.futureResult.whenComplete { _ in channel.close(mode: .output, promise: nil) }
    }

    private func partnerCloseFull() {
        context?.close(promise: nil)
    }

    private func partnerBecameWritable() {
        if pendingRead {
            pendingRead = false
            context?.read()
        }
    }

    private var isWritable: Bool {
        context?.channel.isWritable ?? false
    }
}

extension ProxyGlueHandler: ChannelDuplexHandler {
    typealias InboundIn = NIOAny
    typealias OutboundIn = NIOAny
    typealias OutboundOut = NIOAny

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        // A partner that asked to read before this side existed may read now.
        if context.channel.isActive { partner?.partnerBecameWritable() }
    }

    func channelActive(context: ChannelHandlerContext) {
        partner?.partnerBecameWritable()
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        partner = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        partner?.partnerWrite(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        partner?.partnerFlush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        partner?.partnerCloseFull()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event {
            partner?.partnerWriteEOF()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        partner?.partnerCloseFull()
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            partner?.partnerBecameWritable()
        }
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        if partner?.isWritable ?? false {
            context.read()
        } else {
            pendingRead = true
        }
    }
}

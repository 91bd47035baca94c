import NIOCore
import NIOHTTPTypes

/// Closes a connection whose request head or body is too slow to arrive.
///
/// It sits after HTTP decoding (Hummingbird's `additionalChannelHandlers`). The header clock starts when the connection
/// becomes active, which covers a TLS handshake below it, and, on a kept-alive connection, when the first bytes of the
/// next request arrive (seen as a read completing while no request is open); a complete head stops it. The body clock
/// runs from a head to its end. Time spent answering is not limited here: the idle timeout and the handlers do that.
public final class RequestTimeoutHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = HTTPRequestPart
    public typealias InboundOut = HTTPRequestPart
    public typealias OutboundIn = HTTPResponsePart
    public typealias OutboundOut = HTTPResponsePart

    enum Phase {
        /// No request open and no bytes of one seen.
        case idle
        /// Bytes of a request (or the connection itself) arrived; its head is not complete.
        case awaitingHead
        /// The head arrived; the body has not ended.
        case readingBody
        /// The request was read; its answer is being written.
        case answering
    }

    let guards: ServerGuards
    private var phase = Phase.idle
    /// Requests whose head arrived and whose response has not ended.
    private var unanswered = 0
    private var timer: Scheduled<Void>?

    /// Creates the handler for one connection of a server guarded by `guards`.
    public init(guards: ServerGuards) {
        self.guards = guards
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { awaitHead(context) }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        stopClock()
    }

    public func channelActive(context: ChannelHandlerContext) {
        if phase == .idle { awaitHead(context) }
        context.fireChannelActive()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        stopClock()
        context.fireChannelInactive()
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            unanswered += 1
            phase = .readingBody
            startClock(context, guards.bodyTimeout, event: .bodyTimeout)
        case .body:
            break
        case .end:
            stopClock()
            phase = unanswered > 0 ? .answering : .idle
        }
        context.fireChannelRead(data)
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        // Bytes arrived with no request open: the start of the next request's head.
        if phase == .idle && unanswered == 0 { awaitHead(context) }
        context.fireChannelReadComplete()
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            unanswered = max(unanswered - 1, 0)
            if unanswered == 0 && phase == .answering { phase = .idle }
        }
        context.write(data, promise: promise)
    }

    private func awaitHead(_ context: ChannelHandlerContext) {
        phase = .awaitingHead
        startClock(context, guards.headerTimeout, event: .headerTimeout)
    }

    private func startClock(_ context: ChannelHandlerContext, _ limit: TimeAmount, event: ServerGuardEvent) {
        stopClock()
        let guards = self.guards
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: limit) { [weak self] in
            guard let self, self.timer != nil else { return }
            self.timer = nil
            guards.report(event)
            context.close(promise: nil)
        }
    }

    private func stopClock() {
        timer?.cancel()
        timer = nil
    }
}

@available(*, unavailable)
extension RequestTimeoutHandler: Sendable {}

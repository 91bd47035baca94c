import NIOCore
import NIOTLS

/// Closes a connection whose TLS handshake does not complete within the header timeout.
///
/// For pipelines whose HTTP handlers are only added once the handshake has chosen the protocol (HTTP/2 by ALPN), so
/// that ``RequestTimeoutHandler`` is not there yet to time it. Put it right after the TLS handler; it removes itself
/// once the handshake completes.
public final class HandshakeTimeoutHandler: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = NIOAny

    let guards: ServerGuards
    private var timer: Scheduled<Void>?

    /// Creates the handler for one connection of a server guarded by `guards`.
    public init(guards: ServerGuards) {
        self.guards = guards
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    public func channelActive(context: ChannelHandlerContext) {
        if timer == nil { start(context) }
        context.fireChannelActive()
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            timer?.cancel()
            timer = nil
            context.fireUserInboundEventTriggered(event)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func start(_ context: ChannelHandlerContext) {
        let guards = self.guards
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: guards.headerTimeout) { [weak self] in
            guard let self, self.timer != nil else { return }
            self.timer = nil
            guards.report(.headerTimeout)
            context.close(promise: nil)
        }
    }
}

@available(*, unavailable)
extension HandshakeTimeoutHandler: Sendable {}

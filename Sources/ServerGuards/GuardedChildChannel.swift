import HummingbirdCore
import Logging
import NIOCore

/// Why a guarded server closed a connection at accept.
public struct ConnectionLimitReached: Error, CustomStringConvertible, Sendable {
    /// The limit in force.
    public var limit: Int
    public var description: String { "\(limit) connections are open; closing the new one" }
}

/// A child channel that admits a connection only while fewer than the guards' maximum are open, and otherwise closes
/// it at once; admitted connections are set up by `Base`.
///
/// Wrap the outermost child channel (TLS included), so a refused connection costs no handshake.
public struct GuardedChildChannel<Base: ServerChildChannel>: ServerChildChannel {
    public typealias Value = Base.Value

    /// The child channel admitted connections get.
    public let base: Base
    /// The guards counting this server's connections.
    public let guards: ServerGuards

    /// Wraps `base` in the connection limit of `guards`.
    public init(base: Base, guards: ServerGuards) {
        self.base = base
        self.guards = guards
    }

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let guards = self.guards
        guard guards.admit() else {
            guards.report(.connectionRefused)
            channel.close(promise: nil)
            return channel.eventLoop.makeFailedFuture(
                ConnectionLimitReached(limit: guards.configuration.maximumConnections)
            )
        }
        channel.closeFuture.whenComplete { _ in guards.release() }
        return base.setup(channel: channel, logger: logger).flatMapErrorThrowing { error in
            // A channel whose setup failed is never served; close it so it is counted out.
            channel.close(promise: nil)
            throw error
        }
    }

    public func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension GuardedChildChannel: HTTPChannelHandler where Base: HTTPChannelHandler {
    public var responder: HTTPChannelHandler.Responder { base.responder }
}

extension ServerGuards {
    /// An HTTP/1.1 configuration whose connections carry these guards' request timeouts.
    public func http1Configuration(idleTimeout: Duration?) -> HTTP1Channel.Configuration {
        HTTP1Channel.Configuration(
            additionalChannelHandlers: [RequestTimeoutHandler(guards: self)],
            idleTimeout: idleTimeout.map { Self.timeAmount($0) }
        )
    }

    /// A plain HTTP/1.1 server builder with these guards: the connection limit, the request timeouts and
    /// `idleTimeout` for connections between requests.
    public func http1(idleTimeout: Duration?) -> HTTPServerBuilder {
        let configuration = http1Configuration(idleTimeout: idleTimeout)
        return HTTPServerBuilder { responder in
            GuardedChildChannel(base: HTTP1Channel(responder: responder, configuration: configuration), guards: self)
        }
    }
}

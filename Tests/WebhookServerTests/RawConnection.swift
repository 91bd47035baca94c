import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// A client connection that sends exactly the bytes a test chooses (a slow or partial request) and reports what
/// comes back and when the server closes it.
final class RawConnection: Sendable {
    let channel: any Channel
    private let events: AsyncStream<Event>

    enum Event: Sendable {
        case data(String)
        case closed
    }

    /// Passes what the server sends, and its close, to an `AsyncStream`.
    final class Recorder: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let continuation: AsyncStream<Event>.Continuation

        init(_ continuation: AsyncStream<Event>.Continuation) { self.continuation = continuation }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            continuation.yield(.data(String(buffer: unwrapInboundIn(data))))
        }

        func channelInactive(context: ChannelHandlerContext) {
            continuation.yield(.closed)
            continuation.finish()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            // A reset or an unclean TLS shutdown: the close follows.
            context.close(promise: nil)
        }
    }

    private init(channel: any Channel, events: AsyncStream<Event>) {
        self.channel = channel
        self.events = events
    }

    /// Connects to 127.0.0.1:`port`, over TLS trusting `caPEM` when given.
    static func open(port: Int, trusting caPEM: String? = nil) async throws -> RawConnection {
        var sslContext: NIOSSLContext?
        if let caPEM {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(caPEM.utf8)))
            sslContext = try NIOSSLContext(configuration: tls)
        }
        let (events, continuation) = AsyncStream<Event>.makeStream()
        let context = sslContext
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let context {
                        try channel.pipeline.syncOperations.addHandler(
                            try NIOSSLClientHandler(context: context, serverHostname: nil)
                        )
                    }
                    try channel.pipeline.syncOperations.addHandler(Recorder(continuation))
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        return RawConnection(channel: channel, events: events)
    }

    /// Sends `text` as it is.
    func send(_ text: String) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: text))
    }

    /// Waits until the server has sent something containing `marker` (true) or closed the connection first (false).
    /// `limit` only matters when the server is broken.
    func receive(_ marker: String, within limit: Duration = .seconds(20)) async -> Bool {
        let events = self.events
        return await withTimeout(limit) {
            var text = ""
            for await event in events {
                switch event {
                case .data(let chunk):
                    text += chunk
                    if text.contains(marker) { return true }
                case .closed:
                    return false
                }
            }
            return false
        } ?? false
    }

    /// Waits until the server closes the connection: true when it did within `limit` (which only matters when the
    /// server is broken and keeps it open).
    func closedByServer(within limit: Duration = .seconds(20)) async -> Bool {
        let events = self.events
        return await withTimeout(limit) {
            for await event in events {
                if case .closed = event { return true }
            }
            return true
        } ?? false
    }

    func close() {
        channel.close(promise: nil)
    }
}

/// The result of `body`, or `nil` when `limit` passed first.
func withTimeout<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async -> T) async -> T? {
    await withTaskGroup(of: T?.self) { group in
        group.addTask { await body() }
        group.addTask {
            try? await Task.sleep(for: limit)
            return nil
        }
        let first = await group.next() ?? nil
        group.cancelAll()
        return first
    }
}

/// Runs `body` with `clients`, then shuts them down whether it threw or not: a client left running when it is
/// released stops the whole test process.
func shuttingDown<T>(_ clients: [HTTPClient], _ body: () async throws -> T) async throws -> T {
    let result: Result<T, any Error>
    do {
        result = .success(try await body())
    } catch {
        result = .failure(error)
    }
    for client in clients { try? await client.shutdown() }
    return try result.get()
}

import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// Runs a Hummingbird router on 127.0.0.1 with an ephemeral port for the duration of `body`.
enum TestServer {
    static func with<T: Sendable>(
        _ router: Router<BasicRequestContext>,
        _ body: (_ port: Int) async throws -> T
    ) async throws -> T {
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "test-server")
        logger.logLevel = .critical
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: logger
        )
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var port = 0
            for await bound in ports { port = bound }
            do {
                let result = try await body(port)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return result
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
        }
    }

    /// A response with a body and content type.
    static func respond(
        _ status: HTTPResponse.Status,
        _ body: String,
        contentType: String = "application/json"
    )
        -> Response
    {
        Response(
            status: status,
            headers: [.contentType: contentType],
            body: .init(byteBuffer: ByteBuffer(string: body))
        )
    }

    /// The request body as text.
    static func bodyText(_ request: Request) async throws -> String {
        String(buffer: try await request.body.collect(upTo: 1 << 20))
    }

    /// The decoded value of query parameter `name` in the raw query string (strict percent-decoding).
    static func queryParameter(_ name: String, in rawQuery: String?) -> String? {
        for pair in (rawQuery ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts.count == 2, parts[0] == name { return String(parts[1]).removingPercentEncoding }
        }
        return nil
    }
}

/// Thread-safe record of what a test server saw.
final class Recorder<Entry: Sendable>: Sendable {
    private let entries = Mutex<[Entry]>([])

    func append(_ entry: Entry) { entries.withLock { $0.append(entry) } }

    var all: [Entry] { entries.withLock { $0 } }

    /// Appends and returns how many entries there are now.
    func appendCounting(_ entry: Entry) -> Int {
        entries.withLock { list in
            list.append(entry)
            return list.count
        }
    }
}

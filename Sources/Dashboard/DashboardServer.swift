import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// Serves a ``DashboardApp`` over HTTP/1.1 until graceful shutdown.
public struct DashboardServer: Service {
    let app: DashboardApp
    let host: String
    let port: Int
    let logger: Logger
    let onListening: @Sendable (Int) -> Void

    /// `onListening` is called with the port once the server accepts connections (useful with port 0).
    public init(
        app: DashboardApp,
        host: String,
        port: Int,
        logger: Logger,
        onListening: @escaping @Sendable (Int) -> Void = { _ in }
    ) {
        self.app = app
        self.host = host
        self.port = port
        self.logger = logger
        self.onListening = onListening
    }

    public func run() async throws {
        let onListening = self.onListening
        let application = Application(
            responder: DashboardResponder(app: app),
            configuration: ApplicationConfiguration(
                address: .hostname(host, port: port),
                serverName: "fledge-dashboard"
            ),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? 0) },
            logger: logger
        )
        try await application.run()
    }
}

struct DashboardResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let app: DashboardApp

    func respond(to request: Request, context: Context) async throws -> Response {
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        if headers["host"] == nil, let authority = request.head.authority { headers["host"] = authority }
        var query: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { query[String(key)] = String(value) }
        let reply = await app.handle(
            DashboardRequest(method: request.method.rawValue, path: request.uri.path, query: query, headers: headers)
        )
        var fields = HTTPFields()
        for (name, value) in DashboardApp.securityHeaders {
            if let name = HTTPField.Name(name) { fields[name] = value }
        }
        switch reply {
        case .body(let status, let contentType, let bytes):
            fields[.contentType] = contentType
            return Response(
                status: HTTPResponse.Status(code: status),
                headers: fields,
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes))
            )
        case .stream(let canary):
            fields[.contentType] = "text/event-stream; charset=utf-8"
            let app = self.app
            return Response(
                status: .ok,
                headers: fields,
                body: ResponseBody { writer in
                    try? await app.stream(canary: canary) { frame in
                        try await writer.write(ByteBuffer(string: frame))
                    }
                    try await writer.finish(nil)
                }
            )
        }
    }
}

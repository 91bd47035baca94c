import HTTPTypes
import Hummingbird
import NIOCore

/// Hands every HTTP request to ``LoadTester/handle(method:path:body:)``.
struct LoadTesterResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let tester: LoadTester

    func respond(to request: Request, context: Context) async throws -> Response {
        guard tester.authorizes(path: request.uri.path, authorization: request.headers[.authorization]) else {
            return Response(
                status: .unauthorized,
                headers: [
                    .contentType: "text/plain; charset=utf-8",
                    .wwwAuthenticate: "Bearer realm=\"fledge-loadtester\"",
                ],
                body: ResponseBody(
                    byteBuffer: ByteBuffer(
                        string: "Unauthorized: this load tester requires Authorization: Bearer <token> on every "
                            + "path but /healthz"
                    )
                )
            )
        }
        var request = request
        let limit = tester.configuration.maximumBodyBytes
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: limit)
        } catch {
            return text(.contentTooLarge, "request body larger than \(limit) bytes", path: "")
        }
        let path = request.uri.path
        let answer = await tester.handle(method: request.method.rawValue, path: path, body: Array(buffer: body))
        return text(HTTPResponse.Status(code: answer.status), answer.body, path: path)
    }

    func text(_ status: HTTPResponse.Status, _ body: String, path: String) -> Response {
        let contentType =
            path == "/metrics" ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain; charset=utf-8"
        return Response(
            status: status,
            headers: [.contentType: contentType],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body))
        )
    }
}

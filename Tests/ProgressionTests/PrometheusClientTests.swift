import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import Progression
import Testing

/// What the fake Prometheus saw of one request.
struct SeenQuery: Sendable {
    var path: String
    var query: String?
    var authorization: String?
    var tenant: String?
}

/// A fake Prometheus that answers according to the query's text.
enum FakePrometheus {
    static func router(_ seen: Recorder<SeenQuery>) -> Router<BasicRequestContext> {
        let router = Router()
        @Sendable func handle(_ request: Request) async throws -> Response {
            let query = TestServer.queryParameter("query", in: request.uri.query)
            seen.append(
                SeenQuery(
                    path: request.uri.path,
                    query: query,
                    authorization: request.headers[.authorization],
                    tenant: request.headers.first { $0.name.canonicalName == "x-scope-orgid" }?.value
                )
            )
            let text = query ?? ""
            if text.contains("slow") {
                try await Task.sleep(for: .seconds(2))
            }
            if text.contains("trickle") {
                // The head at once, the body two seconds later.
                return Response(
                    status: .ok,
                    headers: [.contentType: "application/json"],
                    body: ResponseBody { writer in
                        try await writer.write(ByteBuffer(string: #"{"status":"success","#))
                        try await Task.sleep(for: .seconds(2))
                        try await writer.write(ByteBuffer(string: #""data":{"resultType":"scalar","result":[1,"1"]}}"#))
                        try await writer.finish(nil)
                    }
                )
            }
            if text.contains("server_error") {
                return TestServer.respond(.internalServerError, "query processing would load too many samples")
            }
            if text.contains("bad_request") {
                return TestServer.respond(
                    .badRequest,
                    #"{"status":"error","errorType":"bad_data","error":"parse error at char 5"}"#
                )
            }
            return TestServer.respond(.ok, answer(for: text))
        }
        router.get("/api/v1/query") { request, _ in try await handle(request) }
        router.get("/prefix/api/v1/query") { request, _ in try await handle(request) }
        return router
    }

    static func answer(for query: String) -> String {
        let vectorStart = #"{"status":"success","data":{"resultType":"vector","result":["#
        if query.contains("empty") { return vectorStart + "]}}" }
        if query.contains("nan") {
            return vectorStart + #"{"metric":{},"value":[1700000000.5,"NaN"]}]}}"#
        }
        if query.contains("scalar") {
            return #"{"status":"success","data":{"resultType":"scalar","result":[1700000000.5,"42.25"]}}"#
        }
        if query.contains("matrix") {
            return #"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"1"]]}]}}"#
        }
        if query.contains("garbage") { return "<html>not prometheus</html>" }
        return vectorStart
            + #"{"metric":{"deployment":"podinfo"},"value":[1700000000.5,"99.5"]},"#
            + #"{"metric":{"deployment":"other"},"value":[1700000000.5,"1"]}]}}"#
    }
}

@Suite("Prometheus client against a fake Prometheus")
struct PrometheusClientTests {
    let http = HTTPClient.shared

    @Test("sends Flagger's built-in success-rate query, whitespace collapsed, to /api/v1/query")
    func exactBuiltinQuery() async throws {
        let seen = Recorder<SeenQuery>()
        let template = try #require(
            LinkerdQueries.query(for: "request-success-rate", namespace: "default", target: "podinfo", interval: "1m")
        )
        let value = try await TestServer.with(FakePrometheus.router(seen)) { port in
            try await PrometheusClient(address: "http://127.0.0.1:\(port)", http: http).query(template)
        }
        #expect(value == 99.5)
        let request = try #require(seen.all.first)
        #expect(request.path == "/api/v1/query")
        #expect(
            request.query
                == #" sum( rate( response_total{ namespace="default", deployment=~"podinfo", "#
                + #"classification!="failure", direction="inbound" }[1m] ) ) / sum( rate( response_total{ "#
                + #"namespace="default", deployment=~"podinfo", direction="inbound" }[1m] ) ) * 100"#
        )
    }

    @Test("sends Flagger's built-in request-duration query exactly")
    func exactDurationQuery() async throws {
        let seen = Recorder<SeenQuery>()
        let template = try #require(
            LinkerdQueries.query(for: "request-duration", namespace: "default", target: "podinfo", interval: "1m")
        )
        _ = try await TestServer.with(FakePrometheus.router(seen)) { port in
            try await PrometheusClient(address: "http://127.0.0.1:\(port)/", http: http).query(template)
        }
        #expect(
            seen.all.first?.query
                == #" histogram_quantile( 0.99, sum( rate( response_latency_ms_bucket{ namespace="default", "#
                + #"deployment=~"podinfo", direction="inbound" }[1m] ) ) by (le) )"#
        )
    }

    @Test("keeps a path prefix of the address")
    func pathPrefix() async throws {
        let seen = Recorder<SeenQuery>()
        let value = try await TestServer.with(FakePrometheus.router(seen)) { port in
            try await PrometheusClient(address: "http://127.0.0.1:\(port)/prefix/", http: http).query("up")
        }
        #expect(value == 99.5)
        #expect(seen.all.map(\.path) == ["/prefix/api/v1/query"])
    }

    @Test("reads the first sample of a vector and a scalar's value")
    func results() async throws {
        let seen = Recorder<SeenQuery>()
        let (vector, scalar) = try await TestServer.with(FakePrometheus.router(seen)) { port in
            let client = PrometheusClient(address: "http://127.0.0.1:\(port)", http: http)
            return (try await client.query("sum(vector_case)"), try await client.query("scalar(x)"))
        }
        #expect(vector == 99.5)
        #expect(scalar == 42.25)
    }

    @Test(
        "maps each unusable answer to its error kind",
        arguments: [
            ("sum(empty)", MetricQueryError.Kind.noValues),
            ("sum(nan)", .noValues),
            ("rate(matrix[1m])", .badResult),
            ("garbage", .badResult),
            ("bad_request(", .http),
            ("server_error", .http),
        ]
    )
    func errors(query: String, kind: MetricQueryError.Kind) async throws {
        let seen = Recorder<SeenQuery>()
        let error = try await TestServer.with(FakePrometheus.router(seen)) { port in
            await #expect(throws: MetricQueryError.self) {
                _ = try await PrometheusClient(address: "http://127.0.0.1:\(port)", http: http).query(query)
            }
        }
        #expect(error?.kind == kind)
        if kind == .noValues { #expect(error == MetricQueryError.noValuesFound) }
    }

    @Test("an HTTP 500 carries its status, and the body text apart from the message")
    func serverErrorBody() async throws {
        let seen = Recorder<SeenQuery>()
        let error = try await TestServer.with(FakePrometheus.router(seen)) { port in
            await #expect(throws: MetricQueryError.self) {
                _ = try await PrometheusClient(address: "http://127.0.0.1:\(port)", http: http).query("server_error")
            }
        }
        #expect(error?.statusCode == 500)
        #expect(error?.message == "error response: 500 Internal Server Error")
        #expect(
            error?.messageWithAnswer
                == "error response: 500 Internal Server Error: query processing would load too many samples"
        )
    }

    @Test("sends a bearer token, basic credentials and extra headers")
    func authentication() async throws {
        let seen = Recorder<SeenQuery>()
        try await TestServer.with(FakePrometheus.router(seen)) { port in
            let address = "http://127.0.0.1:\(port)"
            _ = try await PrometheusClient(address: address, http: http, auth: .bearer("s3cr3t")).query("up")
            _ = try await PrometheusClient(
                address: address,
                http: http,
                auth: .basic(user: "flagger", password: "p@ss:word"),
                headers: ["X-Scope-OrgID": "tenant-a"]
            ).query("up")
            _ = try await PrometheusClient(address: address, http: http).query("up")
        }
        let requests = seen.all
        #expect(requests.map(\.authorization) == ["Bearer s3cr3t", "Basic ZmxhZ2dlcjpwQHNzOndvcmQ=", nil])
        #expect(requests.map(\.tenant) == [nil, "tenant-a", nil])
    }

    @Test("gives up at the timeout", arguments: ["slow", "trickle"])
    func timeout(query: String) async throws {
        let seen = Recorder<SeenQuery>()
        let error = try await TestServer.with(FakePrometheus.router(seen)) { port in
            let error = await #expect(throws: MetricQueryError.self) {
                _ = try await PrometheusClient(
                    address: "http://127.0.0.1:\(port)",
                    http: http,
                    timeout: .milliseconds(300)
                ).query(query)
            }
            return error
        }
        // The fake sleeps 2 s before answering (or before finishing the body): an answer would mean no error, and
        // any other failure another kind; only the client's own deadline gives this one.
        #expect(error?.kind == .timeout)
        #expect(error?.message.hasSuffix("timed out after 300ms") == true)
        #expect(seen.all.count == 1)
    }

    @Test("names the address it could not reach")
    func unreachable() async throws {
        // Fail fast on a refused connection instead of retrying it until the deadline (AsyncHTTPClient's default).
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        let failFast = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let error = await #expect(throws: MetricQueryError.self) {
            _ = try await PrometheusClient(address: "http://127.0.0.1:1", http: failFast, timeout: .seconds(3)).query(
                "up"
            )
        }
        try await failFast.shutdown()
        #expect(error?.kind == .unreachable)
        #expect(error?.message.contains("http://127.0.0.1:1") == true)
    }

    @Test("rejects an address that is not an http(s) URL")
    func invalidAddress() async throws {
        let error = await #expect(throws: MetricQueryError.self) {
            _ = try await PrometheusClient(address: "prometheus:9090", http: http).query("up")
        }
        #expect(error?.kind == .unreachable)
        #expect(
            error?.message
                == "prometheus address prometheus:9090 is not allowed: must be an absolute http or https URL"
        )
    }

    @Test("collapses whitespace runs like Flagger's trimQuery")
    func compact() {
        #expect(PrometheusClient.compact("\n\tsum(\n\t\trate(x[1m])\n\t) \n\t/ 2") == " sum( rate(x[1m]) ) / 2")
        #expect(PrometheusClient.compact("up") == "up")
    }
}

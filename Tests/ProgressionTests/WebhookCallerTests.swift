import AsyncHTTPClient
import CanaryModel
import Foundation
import Hummingbird
import JSONValue
import NIOCore
import Progression
import Testing

/// What the webhook receiver saw of one call.
struct SeenHook: Sendable {
    var path: String
    var contentType: String?
    var body: String
}

/// A receiver playing the load tester: the path says how to answer.
enum HookReceiver {
    static func router(_ seen: Recorder<SeenHook>) -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/{outcome}") { request, context in
            let body = try await TestServer.bodyText(request)
            let count = seen.appendCounting(
                SeenHook(path: request.uri.path, contentType: request.headers[.contentType], body: body)
            )
            switch context.parameters.get("outcome") ?? "" {
            case "approve": return TestServer.respond(.ok, "approved", contentType: "text/plain")
            case "accepted": return TestServer.respond(.accepted, "", contentType: "text/plain")
            case "non-authoritative":
                return TestServer.respond(.init(code: 203), "partial", contentType: "text/plain")
            case "fail":
                return TestServer.respond(
                    .internalServerError,
                    "load test failed: 42 errors",
                    contentType: "text/plain"
                )
            case "halt": return TestServer.respond(.forbidden, "Forbidden", contentType: "text/plain")
            case "flaky":
                // The first call fails, every later one succeeds.
                if count == 1 {
                    return TestServer.respond(.internalServerError, "warming up", contentType: "text/plain")
                }
                return TestServer.respond(.ok, "ok", contentType: "text/plain")
            case "slow":
                try await Task.sleep(for: .seconds(2))
                return TestServer.respond(.ok, "late", contentType: "text/plain")
            case "trickle":
                return Response(
                    status: .ok,
                    headers: [.contentType: "text/plain"],
                    body: ResponseBody { writer in
                        try await writer.write(ByteBuffer(string: "started"))
                        try await Task.sleep(for: .seconds(2))
                        try await writer.write(ByteBuffer(string: " and done"))
                        try await writer.finish(nil)
                    }
                )
            default:
                return TestServer.respond(.notFound, "no such gate", contentType: "text/plain")
            }
        }
        return router
    }
}

@Suite("Webhook calls against a real receiver")
struct WebhookCallerTests {
    let caller = WebhookCaller(http: HTTPClient.shared, retryWait: .milliseconds(20), outbound: .local)
    let payload = WebhookPayload(
        name: "podinfo",
        namespace: "prod",
        phase: "Progressing",
        checksum: "abc123",
        metadata: ["type": "bash", "cmd": "curl -s http://podinfo-canary.prod"]
    )

    func hook(_ port: Int, _ outcome: String, retries: Int? = nil, timeout: String? = nil) -> CanaryWebhook {
        var hook = CanaryWebhook(name: "load-test", type: "pre-rollout", url: "http://127.0.0.1:\(port)/\(outcome)")
        hook.retries = retries
        hook.timeout = timeout
        return hook
    }

    @Test("posts JSON with exactly Flagger's keys and values")
    func payloadKeys() async throws {
        let seen = Recorder<SeenHook>()
        let result = try await TestServer.with(HookReceiver.router(seen)) { port in
            await caller.call(hook(port, "approve"), payload: payload)
        }
        #expect(result.succeeded)
        #expect(result.statusCode == 200)
        let request = try #require(seen.all.first)
        #expect(request.contentType == "application/json")
        let json = try JSONValue(parsing: request.body)
        let object = try #require(json.objectValue)
        #expect(Set(object.keys) == ["name", "namespace", "phase", "checksum", "metadata"])
        #expect(json["name"] == "podinfo")
        #expect(json["namespace"] == "prod")
        #expect(json["phase"] == "Progressing")
        #expect(json["checksum"] == "abc123")
        #expect(json["metadata"] == ["type": "bash", "cmd": "curl -s http://podinfo-canary.prod"])
    }

    @Test("leaves metadata out when there is none, as Go's omitempty does")
    func emptyMetadata() throws {
        let bare = WebhookPayload(name: "podinfo", namespace: "prod", phase: "Succeeded", checksum: "c")
        #expect(bare.json.serialized() == #"{"checksum":"c","name":"podinfo","namespace":"prod","phase":"Succeeded"}"#)
        let encoded = try JSONEncoder().encode(bare)
        #expect(try JSONDecoder().decode(WebhookPayload.self, from: encoded) == bare)
    }

    @Test("a 500 is a failure carrying the status and the body text")
    func failureBody() async throws {
        let seen = Recorder<SeenHook>()
        let result = try await TestServer.with(HookReceiver.router(seen)) { port in
            await caller.call(hook(port, "fail"), payload: payload)
        }
        #expect(!result.succeeded)
        #expect(result.statusCode == 500)
        #expect(result.message.hasSuffix("/fail failed: HTTP 500 Internal Server Error: load test failed: 42 errors"))
        #expect(seen.all.count == 1)
    }

    @Test("retries: 1 recovers from a single 500")
    func retryRecovers() async throws {
        let seen = Recorder<SeenHook>()
        let result = try await TestServer.with(HookReceiver.router(seen)) { port in
            await caller.call(hook(port, "flaky", retries: 1), payload: payload)
        }
        #expect(result.succeeded)
        #expect(result.attempts == 2)
        #expect(seen.all.count == 2)
    }

    @Test("without retries the same single 500 fails")
    func noRetryFails() async throws {
        let seen = Recorder<SeenHook>()
        let result = try await TestServer.with(HookReceiver.router(seen)) { port in
            await caller.call(hook(port, "flaky"), payload: payload)
        }
        #expect(!result.succeeded)
        #expect(result.message.contains("warming up"))
        #expect(seen.all.count == 1)
    }

    @Test("a 4xx is final: retries are not spent on it")
    func noRetryOnForbidden() async throws {
        let seen = Recorder<SeenHook>()
        let result = try await TestServer.with(HookReceiver.router(seen)) { port in
            await caller.call(hook(port, "halt", retries: 3), payload: payload)
        }
        #expect(!result.succeeded)
        #expect(result.statusCode == 403)
        #expect(seen.all.count == 1)
    }

    @Test("a persistent 500 spends every retry and says so")
    func retriesExhausted() async throws {
        let seen = Recorder<SeenHook>()
        let result = try await TestServer.with(HookReceiver.router(seen)) { port in
            await caller.call(hook(port, "fail", retries: 2), payload: payload)
        }
        #expect(!result.succeeded)
        #expect(seen.all.count == 3)
        #expect(result.message.hasSuffix("load test failed: 42 errors (after 3 attempts)"))
    }

    @Test("202 succeeds and 203 fails")
    func statusBoundary() async throws {
        let seen = Recorder<SeenHook>()
        let (accepted, nonAuthoritative) = try await TestServer.with(HookReceiver.router(seen)) { port in
            (
                await caller.call(hook(port, "accepted"), payload: payload),
                await caller.call(hook(port, "non-authoritative"), payload: payload)
            )
        }
        #expect(accepted.succeeded)
        #expect(accepted.statusCode == 202)
        #expect(!nonAuthoritative.succeeded)
        #expect(nonAuthoritative.statusCode == 203)
        #expect(nonAuthoritative.message.contains("HTTP 203"))
    }

    @Test("gives up at the hook's timeout", arguments: ["slow", "trickle"])
    func timeout(outcome: String) async throws {
        let seen = Recorder<SeenHook>()
        let result = try await TestServer.with(HookReceiver.router(seen)) { port in
            await caller.call(hook(port, outcome, timeout: "300ms"), payload: payload)
        }
        // The receiver answers after 2 s: only the hook's own deadline fails the call with this message.
        #expect(!result.succeeded)
        #expect(result.message.hasSuffix("failed: timed out after 300ms"))
    }

    @Test("an unparsable timeout or URL fails without a request")
    func invalidHook() async throws {
        var badTimeout = CanaryWebhook(name: "x", url: "http://127.0.0.1:1/")
        badTimeout.timeout = "ten seconds"
        let first = await caller.call(badTimeout, payload: payload)
        #expect(!first.succeeded)
        #expect(first.attempts == 0)
        #expect(first.message.contains("invalid timeout"))
        let second = await caller.call(CanaryWebhook(name: "x", url: "loadtester/"), payload: payload)
        #expect(!second.succeeded)
        #expect(second.attempts == 0)
    }

    @Test("an unreachable hook is a failure naming its URL")
    func unreachable() async throws {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        let failFast = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        var hook = CanaryWebhook(name: "x", url: "http://127.0.0.1:1/gate")
        hook.retries = 1
        let result = await WebhookCaller(http: failFast, retryWait: .milliseconds(10), outbound: .local).call(
            hook,
            payload: payload
        )
        try await failFast.shutdown()
        #expect(!result.succeeded)
        #expect(result.attempts == 2)
        #expect(result.message.hasPrefix("POST http://127.0.0.1:1/gate failed: "))
    }

    @Test("event payloads add eventMessage, eventType and a millisecond timestamp over the hook's metadata")
    func eventPayload() async throws {
        var hook = CanaryWebhook(name: "events", type: "event", url: "http://127.0.0.1:1/")
        hook.metadata = ["team": "web", "eventType": "overridden"]
        let event = WebhookCaller.eventPayload(
            name: "podinfo",
            namespace: "prod",
            phase: "Progressing",
            checksum: "abc123",
            hook: hook,
            message: "Advance podinfo.prod canary weight 10",
            eventType: "Normal",
            now: Date(timeIntervalSince1970: 1_700_000_000.123_9)
        )
        #expect(
            event.metadata == [
                "team": "web", "eventType": "Normal", "eventMessage": "Advance podinfo.prod canary weight 10",
                "timestamp": "1700000000123",
            ]
        )
        let seen = Recorder<SeenHook>()
        let result = try await TestServer.with(HookReceiver.router(seen)) { port in
            await caller.call(self.hook(port, "approve"), payload: event)
        }
        #expect(result.succeeded)
        let received = try JSONValue(parsing: try #require(seen.all.first).body)
        #expect(received["metadata", "timestamp"] == "1700000000123")
    }

    @Test("the checksum changes with the applied spec and the tracked configs")
    func checksum() {
        let base = WebhookPayload.checksum(lastAppliedSpec: "abc", trackedConfigs: ["configmap/a": "1"])
        #expect(base == WebhookPayload.checksum(lastAppliedSpec: "abc", trackedConfigs: ["configmap/a": "1"]))
        #expect(base != WebhookPayload.checksum(lastAppliedSpec: "abd", trackedConfigs: ["configmap/a": "1"]))
        #expect(base != WebhookPayload.checksum(lastAppliedSpec: "abc", trackedConfigs: ["configmap/a": "2"]))
    }
}

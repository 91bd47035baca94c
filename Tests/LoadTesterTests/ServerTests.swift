import AsyncHTTPClient
import Foundation
import NIOHTTP1
import ServiceLifecycle
import Testing

@testable import LoadTester

@Suite("Endpoints over HTTP")
struct EndpointTests {
    @Test("healthz, approve and halt answer as Flagger's do, whatever the method")
    func fixedEndpoints() async throws {
        try await Fixture.withLoadTester { _, port async throws in
            #expect(try await Fixture.request(port, "/healthz", method: .GET) == (200, "OK"))
            #expect(
                try await Fixture.request(port, "/gate/approve", method: .POST, body: Fixture.payload()) == (200, "OK")
            )
            #expect(try await Fixture.request(port, "/gate/approve", method: .GET) == (200, "OK"))
            #expect(try await Fixture.request(port, "/gate/halt", body: Fixture.payload()) == (403, "Forbidden"))
        }
    }

    @Test("metrics are Prometheus text with task counters by type")
    func metrics() async throws {
        try await Fixture.withLoadTester { _, port async throws in
            let (status, body) = try await Fixture.request(port, "/metrics", method: .GET)
            #expect(status == 200)
            for type in ["cmd", "bash", "helm", "helmv3", "kubectl"] {
                #expect(Fixture.metric(body, "fledge_loadtester_tasks_total{type=\"\(type)\"}") == 0)
                #expect(Fixture.metric(body, "fledge_loadtester_tasks_failed_total{type=\"\(type)\"}") == 0)
            }
            #expect(body.contains("# TYPE fledge_loadtester_tasks_total counter"))
        }
    }

    @Test("bad JSON and missing metadata are 400 on every payload endpoint")
    func badRequests() async throws {
        try await Fixture.withLoadTester { _, port async throws in
            for path in ["/", "/load", "/gate/check", "/gate/open", "/rollback/close"] {
                let (status, body) = try await Fixture.post(port, path, "{not json")
                #expect(status == 400, "\(path)")
                #expect(body.hasPrefix("decoding the request body failed: "), "\(path)")
            }
            #expect(try await Fixture.post(port, "/", Fixture.payload()) == (400, "metadata not found in payload"))
            #expect(
                try await Fixture.post(port, "/", Fixture.payload(metadata: [:])) == (
                    400, "metadata not found in payload"
                )
            )
            #expect(
                try await Fixture.post(port, "/", Fixture.payload(metadata: ["type": "concord", "cmd": "x"]))
                    == (400, "unknown task type concord")
            )
            #expect(
                try await Fixture.post(port, "/", Fixture.payload(metadata: ["type": "bash"]))
                    == (400, "cmd not found in metadata")
            )
            #expect(try await Fixture.post(port, "/gate/open", Fixture.payload(name: "")).status == 400)
        }
    }

    @Test("a body over the limit is refused with 413")
    func bodyLimit() async throws {
        var configuration = Fixture.configuration()
        configuration.maximumBodyBytes = 64
        try await Fixture.withLoadTester(configuration) { _, port async throws in
            let (status, _) = try await Fixture.post(port, "/", String(repeating: "x", count: 1000))
            #expect(status == 413)
        }
    }

    @Test("a namespace outside namespaceRegexp is refused with 403 on tasks and gates alike")
    func namespaceRegexp() async throws {
        let configuration = Fixture.configuration(namespaceRegexp: "^(prod|staging)$")
        try await Fixture.withLoadTester(configuration) { _, port async throws in
            let task = Fixture.payload(namespace: "dev", metadata: ["type": "bash", "cmd": "true"])
            let (status, body) = try await Fixture.post(port, "/", task)
            #expect(status == 403)
            #expect(body == "namespace \"dev\" is not allowed: it does not match \"^(prod|staging)$\"")
            #expect(try await Fixture.post(port, "/gate/open", Fixture.payload(namespace: "dev")).status == 403)
            let allowed = Fixture.payload(namespace: "staging", metadata: ["type": "bash", "cmd": "true"])
            #expect(try await Fixture.post(port, "/", allowed).status == 200)
        }
    }

    @Test("port() tells the bound port while serving and nil once stopped")
    func portLifecycle() async throws {
        let tester = try LoadTester(configuration: Fixture.configuration(), logger: Fixture.quiet)
        let port = try await Fixture.withServices([tester]) { try #require(await tester.port()) }
        #expect(port > 0)
        #expect(await tester.port() == nil)
    }

    @Test("a graceful shutdown kills running tasks: a blocking one is answered 503 and nothing holds the shutdown")
    func shutdownKillsTasks() async throws {
        let tester = try LoadTester(configuration: Fixture.configuration(), logger: Fixture.quiet)
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [tester], logger: Fixture.quiet))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let port = try #require(await tester.port())
            #expect(try await Fixture.post(port, "/", Fixture.payload(metadata: ["cmd": "sleep 30"])).status == 202)
            async let blocking = Fixture.post(
                port,
                "/",
                Fixture.payload(metadata: ["type": "bash", "cmd": "sleep 30"])
            )
            let bothRunning = try await Fixture.eventually {
                let text = try await Fixture.request(port, "/metrics", method: .GET).body
                return Fixture.metric(text, "fledge_loadtester_tasks_running") == 2
            }
            #expect(bothRunning)
            let start = ContinuousClock.now
            await group.triggerGracefulShutdown()
            let answer = try await blocking
            #expect(answer == (503, "command sleep 30 was stopped: the load tester is shutting down"))
            try await tasks.waitForAll()
            // Well before `sleep 30` would have ended on its own: the task was killed.
            #expect(ContinuousClock.now - start < .seconds(25))
        }
    }

    @Test("handle answers in process, without a server, and ignores a query string")
    func inProcess() async throws {
        let tester = try LoadTester(configuration: Fixture.configuration(), logger: Fixture.quiet)
        #expect(await tester.handle(method: "GET", path: "/healthz", body: "") == (200, "OK"))
        #expect(
            await tester.handle(method: "POST", path: "/gate/check?x=1", body: Fixture.payload()) == (403, "Forbidden")
        )
        let bash = Fixture.payload(metadata: ["type": "bash", "cmd": "echo in-process", "returnCmdOutput": "true"])
        #expect(await tester.handle(method: "POST", path: "/", body: bash) == (200, "in-process\n"))
    }
}

@Suite("Gates")
struct GateTests {
    @Test(
        "a named gate is closed until opened, then open until closed, per canary",
        arguments: [GateKind.gate, .rollback]
    )
    func cycle(kind: GateKind) async throws {
        let base = "/\(kind.rawValue)"
        try await Fixture.withLoadTester { _, port async throws in
            let podinfo = Fixture.payload(name: "podinfo", namespace: "prod")
            let other = Fixture.payload(name: "frontend", namespace: "prod")
            #expect(try await Fixture.post(port, "\(base)/check", podinfo) == (403, "Forbidden"))
            #expect(try await Fixture.post(port, "\(base)/open", podinfo) == (202, ""))
            #expect(try await Fixture.post(port, "\(base)/check", podinfo) == (200, "Approved"))
            #expect(try await Fixture.post(port, "\(base)/check", other) == (403, "Forbidden"))
            #expect(try await Fixture.post(port, "\(base)/close", podinfo) == (202, ""))
            #expect(try await Fixture.post(port, "\(base)/check", podinfo) == (403, "Forbidden"))
        }
    }

    @Test("the approval gate and the rollback gate of one canary are independent")
    func independent() async throws {
        try await Fixture.withLoadTester { _, port async throws in
            let podinfo = Fixture.payload()
            #expect(try await Fixture.post(port, "/rollback/open", podinfo).status == 202)
            #expect(try await Fixture.post(port, "/gate/check", podinfo) == (403, "Forbidden"))
            #expect(try await Fixture.post(port, "/rollback/check", podinfo) == (200, "Approved"))
        }
    }

    @Test("gates are saved on every change and survive a restart")
    func persistence() async throws {
        let store = MemoryGateStore()
        let configuration = Fixture.configuration(gateStore: store)
        try await Fixture.withLoadTester(configuration) { _, port async throws in
            #expect(try await Fixture.post(port, "/gate/open", Fixture.payload()).status == 202)
            #expect(try await Fixture.post(port, "/rollback/open", Fixture.payload(name: "frontend")).status == 202)
            #expect(try await Fixture.post(port, "/rollback/close", Fixture.payload(name: "frontend")).status == 202)
        }
        // A closed gate is forgotten: closed is what a gate never opened reads as.
        #expect(store.gates == ["gate/prod/podinfo": true])
        #expect(store.saveCount == 3)
        try await Fixture.withLoadTester(configuration) { _, port async throws in
            #expect(try await Fixture.post(port, "/gate/check", Fixture.payload()) == (200, "Approved"))
            #expect(
                try await Fixture.post(port, "/rollback/check", Fixture.payload(name: "frontend")) == (403, "Forbidden")
            )
            #expect(try await Fixture.post(port, "/gate/close", Fixture.payload()).status == 202)
        }
        #expect(store.gates["gate/prod/podinfo"] == nil)
    }

    @Test("a gate opened in the store before start is open at once")
    func preloaded() async throws {
        let store = MemoryGateStore([GateKind.rollback.key(name: "podinfo", namespace: "prod"): true])
        try await Fixture.withLoadTester(Fixture.configuration(gateStore: store)) { _, port async throws in
            #expect(try await Fixture.post(port, "/rollback/check", Fixture.payload()) == (200, "Approved"))
        }
    }

    @Test("a store that cannot save answers 500, and one that cannot be read leaves gates closed")
    func storeFailures() async throws {
        let unwritable = Fixture.configuration(gateStore: FailingGateStore(failSave: true))
        try await Fixture.withLoadTester(unwritable) { _, port async throws in
            let (status, body) = try await Fixture.post(port, "/gate/open", Fixture.payload())
            #expect(status == 500)
            #expect(body.contains("not saved"))
        }
        let unreadable = Fixture.configuration(gateStore: FailingGateStore(failLoad: true))
        try await Fixture.withLoadTester(unreadable) { _, port async throws in
            #expect(try await Fixture.post(port, "/gate/open", Fixture.payload()).status == 500)
            #expect(try await Fixture.post(port, "/gate/check", Fixture.payload()) == (403, "Forbidden"))
        }
    }
}

import CanaryModel
import Dashboard
import JSONValue
import Logging
import Progression
import Synchronization
import Testing

@Suite("Promote, abort and retry from the dashboard and the CLI")
struct ActionTests {
    static let canaryPath = "/apis/flagger.app/v1beta1/namespaces/prod/canaries/podinfo"
    static let targetPath = "/apis/apps/v1/namespaces/prod/deployments/podinfo"

    func cluster(phase: String) -> FakeCluster {
        let cluster = FakeCluster()
        cluster.put(Self.canaryPath, canaryObject(phase: phase))
        return cluster
    }

    @Test("a promote of a progressing release sets the annotation, guarded by the version read")
    func promotes() async throws {
        let cluster = cluster(phase: "Progressing")
        let message = try await ReleaseSteering.request(.promote, namespace: "prod", name: "podinfo", cluster: cluster)
        #expect(message.contains("promote requested for canary prod/podinfo"))
        let patches = cluster.state.withLock { $0.patches }
        try #require(patches.count == 1)
        #expect(patches[0].path == Self.canaryPath)
        #expect(patches[0].patch["metadata", "annotations", "fledge.dev/action"] == "promote")
        #expect(patches[0].patch["metadata", "resourceVersion"] == "42")
    }

    @Test("a promote of a Failed Canary is refused with what to do instead, and nothing is written")
    func refusesPromoteOfFailed() async throws {
        let cluster = cluster(phase: "Failed")
        let error = await #expect(throws: SteeringError.self) {
            try await ReleaseSteering.request(.promote, namespace: "prod", name: "podinfo", cluster: cluster)
        }
        #expect(error?.kind == .inapplicable)
        #expect(error?.httpStatus == 409)
        #expect(error?.message.contains("no release is in progress (phase Failed)") == true)
        #expect(error?.message.contains("fledge retry podinfo -n prod") == true)
        #expect(cluster.state.withLock { $0.patches.isEmpty })
    }

    @Test("a promote of a Failed Canary whose target has a new revision is allowed, as the worker allows it")
    func promoteOfNewRevision() async throws {
        let cluster = cluster(phase: "Failed")
        cluster.put(
            Self.targetPath,
            ["spec": ["template": ["metadata": ["labels": ["app": "podinfo"]], "spec": ["containers": []]]]]
        )
        _ = try await ReleaseSteering.request(.promote, namespace: "prod", name: "podinfo", cluster: cluster)
        #expect(cluster.state.withLock { $0.patches.count } == 1)
    }

    @Test("the refusals follow the worker's rule for every action and phase", arguments: ReleaseAction.allCases)
    func followsWorkerRule(action: ReleaseAction) {
        for phase in CanaryPhase.allCases {
            let refusal = ReleaseSteering.refusal(action, phase: phase, newRevision: false, name: "p", namespace: "n")
            let worker = Releaser.inapplicable(action, phase: phase, newRevision: false)
            #expect((refusal == nil) == (worker == nil), "\(action) in \(phase)")
            if let worker { #expect(refusal?.contains(worker) == true) }
        }
    }

    @Test("a 403 on the patch says the user's RBAC refused it")
    func forbidden() async throws {
        let cluster = cluster(phase: "Progressing")
        cluster.state.withLock {
            $0.patchErrors = [
                ClusterError(
                    kind: .forbidden,
                    code: 403,
                    message: "canaries.flagger.app \"podinfo\" is forbidden: User \"viewer\" cannot patch resource"
                )
            ]
        }
        let error = await #expect(throws: SteeringError.self) {
            try await ReleaseSteering.request(.abort, namespace: "prod", name: "podinfo", cluster: cluster)
        }
        #expect(error?.kind == .forbidden)
        #expect(error?.httpStatus == 403)
        let message = error?.message ?? ""
        #expect(message.hasPrefix("Forbidden (403)"))
        #expect(message.contains("may not patch canaries.flagger.app \"podinfo\" in namespace prod"))
        #expect(message.contains("User \"viewer\" cannot patch"))
        #expect(message.contains("RBAC"))
    }

    @Test("a conflict reads the Canary again and judges again")
    func conflictRetries() async throws {
        let cluster = cluster(phase: "Progressing")
        cluster.state.withLock { $0.patchErrors = [ClusterError(kind: .conflict, code: 409, message: "stale")] }
        _ = try await ReleaseSteering.request(.abort, namespace: "prod", name: "podinfo", cluster: cluster)
        #expect(cluster.state.withLock { $0.patches.count } == 1)
    }

    func app(_ cluster: FakeCluster) -> DashboardApp {
        DashboardApp(
            mirror: ClusterMirror(cluster: cluster, scope: .allNamespaces, logger: Logger(label: "test")),
            cluster: cluster
        )
    }

    func post(_ path: String, header: Bool = true, host: String = "127.0.0.1:8765") -> DashboardRequest {
        var headers = ["host": host]
        if header { headers["x-fledge-dashboard"] = "1" }
        return DashboardRequest(method: "POST", path: path, headers: headers)
    }

    @Test("the action endpoint answers 403 with the RBAC message when the API server refuses")
    func endpointForbidden() async throws {
        let cluster = cluster(phase: "Progressing")
        cluster.state.withLock {
            $0.patchErrors = [ClusterError(kind: .forbidden, code: 403, message: "User \"viewer\" cannot patch")]
        }
        let reply = await app(cluster).handle(post("/api/canaries/prod/podinfo/promote"))
        guard case .body(let status, let type, let bytes) = reply else {
            Issue.record("not a body: \(reply)")
            return
        }
        #expect(status == 403)
        #expect(type == "application/json")
        let answer = try JSONValue(parsing: bytes)
        #expect(answer["kind"] == "forbidden")
        #expect(answer["ok"] == false)
        #expect(answer["message"]?.stringValue?.contains("RBAC") == true)
    }

    @Test("the action endpoint answers 200 with the request, 409 with a refusal, 404 for an unknown action")
    func endpointOutcomes() async throws {
        let progressing = cluster(phase: "Progressing")
        guard case .body(200, _, _) = await app(progressing).handle(post("/api/canaries/prod/podinfo/abort")) else {
            Issue.record("abort of a progressing release was not accepted")
            return
        }
        let failed = cluster(phase: "Failed")
        guard case .body(409, _, let bytes) = await app(failed).handle(post("/api/canaries/prod/podinfo/promote"))
        else {
            Issue.record("promote of a failed release was not refused")
            return
        }
        #expect(try JSONValue(parsing: bytes)["kind"] == "inapplicable")
        guard case .body(404, _, _) = await app(failed).handle(post("/api/canaries/prod/podinfo/launch")) else {
            Issue.record("an unknown action was not a 404")
            return
        }
    }

    @Test("an action without the dashboard's header, or for another host name, is refused before any call")
    func refusesCrossSite() async throws {
        let cluster = cluster(phase: "Progressing")
        guard
            case .body(403, _, _) = await app(cluster).handle(post("/api/canaries/prod/podinfo/promote", header: false))
        else {
            Issue.record("an action without the header was not refused")
            return
        }
        guard
            case .body(421, _, _) = await app(cluster).handle(
                post("/api/canaries/prod/podinfo/promote", host: "evil.example:8765")
            )
        else {
            Issue.record("a rebound host name was not refused")
            return
        }
        #expect(cluster.state.withLock { $0.patches.isEmpty })
    }

    @Test("loopback host names and listen addresses are told from others")
    func loopback() {
        #expect(DashboardApp.isLoopbackHost("127.0.0.1:8765"))
        #expect(DashboardApp.isLoopbackHost("localhost"))
        #expect(DashboardApp.isLoopbackHost("[::1]:80"))
        #expect(!DashboardApp.isLoopbackHost("127.0.0.1.evil.example:80"))
        #expect(!DashboardApp.isLoopbackHost(nil))
        #expect(DashboardApp.isLoopbackAddress("127.0.0.2"))
        #expect(!DashboardApp.isLoopbackAddress("0.0.0.0"))
        #expect(!DashboardApp.isLoopbackAddress("10.0.0.1"))
    }
}

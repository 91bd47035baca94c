import Admission
import CanaryModel
import JSONValue
import KubeModels
import Testing

@Suite("AdmissionReview protocol")
struct ProtocolTests {
    let service = AdmissionService()

    @Test(
        "answers in the request's API version with the request's uid",
        arguments: [
            "admission.k8s.io/v1", "admission.k8s.io/v1beta1",
        ]
    )
    func versionAndUID(_ apiVersion: String) async throws {
        for endpoint in AdmissionEndpoint.allCases {
            let answer = await service.handle(
                endpoint: endpoint,
                body: review(apiVersion: apiVersion, uid: "uid-\(endpoint.label)")
            )
            let response = try response(answer, apiVersion: apiVersion)
            #expect(response["uid"] == .string("uid-\(endpoint.label)"))
            #expect(response["allowed"] == true)
        }
    }

    @Test("routes by path and ignores the timeout query the API server appends")
    func routing() {
        #expect(AdmissionEndpoint(path: "/mutate-flagger-app-v1beta1-canary?timeout=10s") == .mutateCanary)
        #expect(AdmissionEndpoint(path: "/validate-flagger-app-v1beta1-canary") == .validateCanary)
        #expect(AdmissionEndpoint(path: "/validate-apps-v1-deployment?timeout=5s") == .validateDeployment)
        #expect(AdmissionEndpoint(path: "/validate") == nil)
    }

    @Test("the mutating webhook returns a base64 JSONPatch that adds the defaults")
    func mutationPatch() async throws {
        let answer = await service.handle(endpoint: .mutateCanary, body: review())
        let response = try response(answer)
        #expect(response["patchType"] == "JSONPatch")
        #expect(answer.verdict == "patched")
        let patched = try decodePatch(response).apply(to: seedCanary)
        #expect(patched == CanaryDefaulter().defaulted(seedCanary))
        #expect(patched["spec", "provider"] == "linkerd")
    }

    @Test("the mutating webhook sends no patch for an object that already has every default")
    func noPatchWhenDefaulted() async throws {
        let body = review(object: CanaryDefaulter().defaulted(seedCanary))
        let response = try response(await service.handle(endpoint: .mutateCanary, body: body))
        #expect(response["allowed"] == true)
        #expect(response["patch"] == nil)
    }

    @Test("the configured default provider is the one written")
    func defaultProvider() async throws {
        let gateway = AdmissionService(configuration: AdmissionConfiguration(defaultProvider: "smi:v1alpha2"))
        let response = try response(await gateway.handle(endpoint: .mutateCanary, body: review()))
        #expect(try decodePatch(response).apply(to: seedCanary)["spec", "provider"] == "smi:v1alpha2")
    }

    @Test("a bad Canary is denied by both webhooks with every field error and status code 403")
    func denial() async throws {
        var bad = seedCanary
        bad["spec"]?["analysis"]?["stepWeight"] = 150
        bad["spec"]?["analysis"]?["interval"] = "5x"
        for endpoint in [AdmissionEndpoint.mutateCanary, .validateCanary] {
            let answer = await service.handle(endpoint: endpoint, body: review(object: bad))
            let response = try response(answer)
            #expect(answer.verdict == "denied")
            #expect(response["allowed"] == false)
            #expect(response["status", "code"] == 403)
            let message = try #require(response["status", "message"]?.stringValue)
            #expect(message.hasPrefix(#"Canary.flagger.app "podinfo" is invalid: ["#))
            #expect(message.contains("spec.analysis.stepWeight: Invalid value: 150: must be between 1 and 100"))
            #expect(message.contains(#"spec.analysis.interval: Invalid value: "5x""#))
            let fields = response["status", "details", "causes"]?.arrayValue?.compactMap { $0["field"]?.stringValue }
            #expect(Set(fields ?? []) == ["spec.analysis.stepWeight", "spec.analysis.interval"])
        }
    }

    @Test("DELETE and CONNECT are allowed without looking at the object", arguments: ["DELETE", "CONNECT"])
    func deleteAllowed(_ operation: String) async throws {
        for endpoint in AdmissionEndpoint.allCases where endpoint != .validateDeployment {
            let body = review(operation: operation, object: nil, oldObject: seedCanary)
            let response = try response(await service.handle(endpoint: endpoint, body: body))
            #expect(response["allowed"] == true)
        }
    }

    @Test("warnings are cut to 120 characters")
    func warningLength() async throws {
        var canary = seedCanary
        canary["spec"]?["analysis"]?["metrics"] = [
            ["name": "request-success-rate", "threshold": 99, "interval": "1m"]
        ]
        canary["spec"]?["futureFieldWithAVeryLongNameThatKeepsGoingAndGoingAndGoingPastTheLimitOfWarnings"] = true
        let response = try response(await service.handle(endpoint: .validateCanary, body: review(object: canary)))
        let warnings = try #require(response["warnings"]?.arrayValue)
        #expect(warnings.count >= 2)
        for warning in warnings { #expect((warning.stringValue ?? "").count <= 120) }
        #expect(warnings.contains { $0.stringValue?.contains("threshold is deprecated") == true })
    }

    @Test("a Deployment sent to a Canary endpoint is refused as a misconfiguration")
    func wrongKind() async throws {
        let body = review(kind: Kind.deployment, resource: Kind.deployments, object: deployment())
        let response = try response(await service.handle(endpoint: .validateCanary, body: body))
        #expect(response["allowed"] == false)
        #expect(response["status", "message"]?.stringValue?.contains("check the rules") == true)
    }

    @Test(
        "malformed reviews get 400 with a message naming the problem",
        arguments: [
            ("not json", "request body is not JSON"),
            (#"{"apiVersion":"admission.k8s.io/v2","kind":"AdmissionReview","request":{}}"#, "admission.k8s.io/v1"),
            (#"{"apiVersion":"admission.k8s.io/v1","kind":"Pod","request":{}}"#, "expected kind AdmissionReview"),
            (#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#, "has no request"),
            (#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":[]}"#, "has no request"),
            (#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"kind":{}}}"#, "request.uid"),
            (
                #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"","kind":{"group":"","version":"v1","kind":"X"},"resource":{"group":"","version":"v1","resource":"x"},"operation":"CREATE","userInfo":{}}}"#,
                "request.uid is empty"
            ),
            (
                #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"1","kind":{"group":"","version":"v1","kind":"X"},"resource":{"group":"","version":"v1","resource":"x"},"operation":5,"userInfo":{}}}"#,
                "request.operation"
            ),
            ("[" + String(repeating: "[", count: 5000), "nesting deeper"),
            ("1e999", "out of range"),
        ]
    )
    func malformed(_ body: String, _ fragment: String) async throws {
        let answer = await service.handle(endpoint: .validateCanary, body: Array(body.utf8))
        #expect(answer.status == 400)
        let status = try JSONValue(parsing: answer.body)
        #expect(status["kind"] == "Status")
        #expect(status["code"] == 400)
        let message = status["message"]?.stringValue ?? ""
        #expect(message.contains(fragment), "\(message)")
    }
}

import Admission
import CanaryModel
import Foundation
import JSONValue
import KubeModels
import Synchronization

/// The tutorial's Canary, as JSON.
let seedCanary: JSONValue = [
    "apiVersion": "flagger.app/v1beta1",
    "kind": "Canary",
    "metadata": ["name": "podinfo", "namespace": "prod", "annotations": ["fluxcd.io/ignore": "false"]],
    "spec": [
        "targetRef": ["apiVersion": "apps/v1", "kind": "Deployment", "name": "podinfo"],
        "service": ["port": 9898],
        "analysis": [
            "interval": "10s", "maxWeight": 100, "stepWeight": 5, "threshold": 5,
            "metrics": [
                ["name": "request-success-rate", "thresholdRange": ["min": 99], "interval": "1m"],
                ["name": "request-duration", "thresholdRange": ["max": 500], "interval": "1m"],
            ],
            "webhooks": [
                [
                    "name": "acceptance-test", "type": "pre-rollout", "url": "http://flagger-loadtester.prod/",
                    "timeout": "30s",
                    "metadata": [
                        "type": "bash", "cmd": "curl -sd 'test' http://podinfo-canary.prod:9898/token | grep token",
                    ],
                ],
                [
                    "name": "load-test", "type": "rollout", "url": "http://flagger-loadtester.prod/",
                    "metadata": ["cmd": "hey -z 2m -q 10 -c 2 http://podinfo-canary.prod:9898/"],
                ],
            ],
        ],
    ],
]

func deployment(
    name: String = "podinfo",
    image: String = "stefanprodan/podinfo:3.1.0",
    replicas: Int64 = 2
)
    -> JSONValue
{
    [
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": ["name": .string(name), "namespace": "prod", "generation": 1],
        "spec": [
            "replicas": .int(replicas),
            "selector": ["matchLabels": ["app": .string(name)]],
            "template": [
                "metadata": ["labels": ["app": .string(name)]],
                "spec": ["containers": [["name": "podinfod", "image": .string(image)]]],
            ],
        ],
    ]
}

func primary(image: String = "stefanprodan/podinfo:3.1.0", replicas: Int64 = 2) -> JSONValue {
    var object = deployment(name: "podinfo-primary", image: image, replicas: replicas)
    object["metadata"]?["ownerReferences"] = [
        [
            "apiVersion": "flagger.app/v1beta1", "kind": "Canary", "name": "podinfo", "uid": "u-1",
            "controller": true, "blockOwnerDeletion": true,
        ]
    ]
    return object
}

enum Kind {
    static let canary: JSONValue = ["group": "flagger.app", "version": "v1beta1", "kind": "Canary"]
    static let canaries: JSONValue = ["group": "flagger.app", "version": "v1beta1", "resource": "canaries"]
    static let deployment: JSONValue = ["group": "apps", "version": "v1", "kind": "Deployment"]
    static let deployments: JSONValue = ["group": "apps", "version": "v1", "resource": "deployments"]
}

func review(
    apiVersion: String = "admission.k8s.io/v1",
    uid: String = "7f2b-uid",
    kind: JSONValue = Kind.canary,
    resource: JSONValue = Kind.canaries,
    operation: String = "CREATE",
    object: JSONValue? = seedCanary,
    oldObject: JSONValue? = nil,
    username: String = "kubernetes-admin",
    dryRun: Bool = false,
    subResource: String? = nil
) -> [UInt8] {
    var request: JSONValue = [
        "uid": .string(uid), "kind": kind, "resource": resource, "namespace": "prod",
        "name": object?["metadata", "name"] ?? oldObject?["metadata", "name"] ?? "podinfo",
        "operation": .string(operation),
        "userInfo": ["username": .string(username), "groups": ["system:authenticated"]],
        "object": object ?? .null, "oldObject": oldObject ?? .null, "dryRun": .bool(dryRun),
    ]
    if let subResource { request["subResource"] = .string(subResource) }
    return JSONValue.object(["apiVersion": .string(apiVersion), "kind": "AdmissionReview", "request": request])
        .serializedBytes()
}

/// The answer's `response`, after checking the envelope.
func response(_ answer: AdmissionHTTPResponse, apiVersion: String = "admission.k8s.io/v1") throws -> JSONValue {
    guard answer.status == 200 else {
        throw Failure("HTTP \(answer.status): \(String(decoding: answer.body, as: UTF8.self))")
    }
    let json = try JSONValue(parsing: answer.body)
    guard json["apiVersion"] == .string(apiVersion), json["kind"] == "AdmissionReview", let response = json["response"]
    else { throw Failure("not an AdmissionReview: \(json.serialized())") }
    return response
}

struct Failure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

func decodePatch(_ response: JSONValue) throws -> JSONPatch {
    guard let text = response["patch"]?.stringValue, let bytes = Base64.decode(text) else {
        throw Failure("no base64 patch in \(response.serialized())")
    }
    return try JSONPatch(json: try JSONValue(parsing: bytes))
}

/// A cluster held in memory, for the checks that look across objects.
final class MemoryCluster: ClusterView, Sendable {
    let objects: Mutex<Set<String>>
    let canaryList: Mutex<[String: [CanaryTarget]]>
    let failing: Bool

    init(objects: Set<String> = [], canaries: [String: [CanaryTarget]] = [:], failing: Bool = false) {
        self.objects = Mutex(objects)
        self.canaryList = Mutex(canaries)
        self.failing = failing
    }

    func canaries(in namespace: String) async throws -> [CanaryTarget] {
        if failing { throw Failure("connection refused") }
        return canaryList.withLock { $0[namespace] ?? [] }
    }

    func exists(kind: String, namespace: String, name: String) async throws -> Bool {
        if failing { throw Failure("connection refused") }
        return objects.withLock { $0.contains("\(kind)/\(namespace)/\(name)") }
    }
}

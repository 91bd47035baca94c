import CanaryModel
import Foundation
import JSONValue
import KubeModels
import Testing

/// A Canary using most of the model, with members the model does not know at every level.
let canaryWithUnknownFields = Fixture.parse(
    """
    {
      "apiVersion": "flagger.app/v1beta1",
      "kind": "Canary",
      "x-top": {"note": "kept"},
      "metadata": {"name": "podinfo", "namespace": "prod", "labels": {"app": "podinfo"}, "x-meta": 1},
      "spec": {
        "provider": "gatewayapi:v1",
        "x-spec": [1, 2.5, "three", null, true, {"deep": []}],
        "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "podinfo", "x-ref": "r"},
        "autoscalerRef": {
          "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "name": "podinfo",
          "primaryScalerReplicas": {"minReplicas": 2, "maxReplicas": 4}
        },
        "service": {
          "port": 9898, "targetPort": "http", "portName": "http", "x-service": {"a": 1},
          "gatewayRefs": [{"name": "podinfo", "kind": "Service", "group": "core", "port": 9898, "x-gateway": "g"}],
          "apex": {"labels": {"tier": "web"}, "annotations": {"a": "b"}}
        },
        "progressDeadlineSeconds": 600,
        "skipAnalysis": false,
        "analysis": {
          "interval": "1m", "threshold": 5, "iterations": 10, "primaryReadyThreshold": 100,
          "x-analysis": {"deep": {"deeper": [{}]}},
          "metrics": [
            {"name": "request-success-rate", "interval": "1m", "thresholdRange": {"min": 99.5, "x-range": "%"},
             "x-metric": 7},
            {"name": "latency", "templateRef": {"name": "latency", "namespace": "flagger", "x-template": 0},
             "templateVariables": {"quantile": "0.99"}, "thresholdRange": {"max": 500}}
          ],
          "webhooks": [
            {"name": "load-test", "type": "rollout", "url": "http://flagger-loadtester.prod/", "timeout": "15s",
             "metadata": {"cmd": "hey -z 1m http://podinfo-canary.prod:9898/"}, "retries": 2, "x-webhook": false}
          ],
          "alerts": [{"name": "on-call", "severity": "warn", "providerRef": {"name": "slack"}, "x-alert": "a"}],
          "match": [{"headers": {"x-canary": {"exact": "insider"}}}],
          "sessionAffinity": {"cookieName": "flagger-cookie", "maxAge": 86400}
        }
      },
      "status": {
        "phase": "Succeeded", "canaryWeight": 0, "failedChecks": 0, "iterations": 0,
        "lastAppliedSpec": "f717e95308c34fc8", "lastTransitionTime": "2024-05-01T10:00:00Z",
        "trackedConfigs": {"configmap/podinfo-config": "abc"},
        "conditions": [
          {"type": "Promoted", "status": "True", "reason": "Succeeded", "message": "Canary analysis completed",
           "lastUpdateTime": "2024-05-01T10:00:00Z", "lastTransitionTime": "2024-05-01T10:00:00Z", "x-condition": 1}
        ],
        "observedGeneration": 3,
        "x-status": "kept"
      }
    }
    """
)

let metricTemplateWithUnknownFields = Fixture.parse(
    """
    {
      "apiVersion": "flagger.app/v1beta1",
      "kind": "MetricTemplate",
      "metadata": {"name": "latency", "namespace": "flagger"},
      "x-top": 1,
      "spec": {
        "provider": {
          "type": "prometheus", "address": "http://prometheus.linkerd-viz:9090",
          "secretRef": {"name": "prom-auth", "x-secret": true}, "headers": {"X-Scope-OrgID": ["team-a"]},
          "insecureSkipVerify": false, "x-provider": "p"
        },
        "query": "histogram_quantile(0.99, sum(rate(latency_bucket{namespace=\\"{{ namespace }}\\"}[1m])) by (le))",
        "x-spec": {"a": [1]}
      },
      "status": {"conditions": []}
    }
    """
)

let alertProviderWithUnknownFields = Fixture.parse(
    """
    {
      "apiVersion": "flagger.app/v1beta1",
      "kind": "AlertProvider",
      "metadata": {"name": "slack", "namespace": "flagger"},
      "spec": {
        "type": "slack", "channel": "on-call", "username": "flagger", "proxy": "http://proxy:8080",
        "secretRef": {"name": "slack-url"}, "x-spec": "blue"
      },
      "status": {"ready": true}
    }
    """
)

@Suite("Model round trip")
struct ModelRoundTripTests {
    @Test("a Canary decodes and re-encodes to the same JSON, unknown fields included")
    func canaryRoundTrip() throws {
        let canary = try JSONValueDecoder().decode(Canary.self, from: canaryWithUnknownFields)
        #expect(try JSONValueEncoder().encode(canary) == canaryWithUnknownFields)
    }

    @Test("a Canary's modelled members are decoded into the model, the others kept beside them")
    func canaryMembers() throws {
        let canary = try JSONValueDecoder().decode(Canary.self, from: canaryWithUnknownFields)
        #expect(canary.unknownFields == ["x-top": ["note": "kept"]])
        #expect(canary.metadata.name == "podinfo")
        #expect(canary.metadata.unknownFields == ["x-meta": 1])
        #expect(canary.spec.provider == "gatewayapi:v1")
        #expect(canary.spec.unknownFields == ["x-spec": [1, 2.5, "three", nil, true, ["deep": []]]])
        #expect(canary.spec.targetRef.name == "podinfo")
        #expect(canary.spec.targetRef.unknownFields == ["x-ref": "r"])
        #expect(canary.spec.autoscalerRef?.primaryScalerReplicas?.maxReplicas == 4)
        let service = try #require(canary.spec.service)
        #expect(service.targetPort == .string("http"))
        #expect(service.unknownFields == ["x-service": ["a": 1]])
        #expect(service.gatewayRefs?.first?.unknownFields == ["x-gateway": "g"])
        #expect(service.apex?.labels == ["tier": "web"])
        let analysis = try #require(canary.spec.analysis)
        #expect(analysis.iterations == 10)
        #expect(analysis.unknownFields == ["x-analysis": ["deep": ["deeper": [[:]]]]])
        #expect(analysis.metrics?.first?.thresholdRange?.min == 99.5)
        #expect(analysis.metrics?.first?.thresholdRange?.unknownFields == ["x-range": "%"])
        #expect(analysis.metrics?.first?.unknownFields == ["x-metric": 7])
        #expect(analysis.metrics?.last?.templateRef?.unknownFields == ["x-template": 0])
        #expect(analysis.webhooks?.first?.retries == 2)
        #expect(analysis.webhooks?.first?.unknownFields == ["x-webhook": false])
        #expect(analysis.alerts?.first?.unknownFields == ["x-alert": "a"])
        let status = try #require(canary.status)
        #expect(status.phase == .succeeded)
        #expect(status.observedGeneration == 3)
        #expect(status.unknownFields == ["x-status": "kept"])
        #expect(status.conditions?.first?.unknownFields == ["x-condition": 1])
    }

    @Test("a change made through the model keeps the unknown fields")
    func editThroughModel() throws {
        var canary = try JSONValueDecoder().decode(Canary.self, from: canaryWithUnknownFields)
        canary.spec.analysis?.iterations = 20
        canary.status?.phase = .progressing
        let expected = try canaryWithUnknownFields.applying([
            .set("/spec/analysis/iterations", 20), .set("/status/phase", "Progressing"),
        ])
        #expect(try JSONValueEncoder().encode(canary) == expected)
    }

    @Test(
        "the seed Canary round-trips, as written and defaulted",
        arguments: [
            Sample("as written", Fixture.seed), Sample("defaulted", Fixture.defaultedSeed),
        ]
    )
    func seedRoundTrip(sample: Sample) throws {
        let canary = sample.json
        let decoded = try JSONValueDecoder().decode(Canary.self, from: canary)
        #expect(try JSONValueEncoder().encode(decoded) == canary)
    }

    @Test("a MetricTemplate round-trips, unknown fields included")
    func metricTemplateRoundTrip() throws {
        let template = try JSONValueDecoder().decode(MetricTemplate.self, from: metricTemplateWithUnknownFields)
        #expect(template.spec.provider.type == "prometheus")
        #expect(template.spec.provider.headers == ["X-Scope-OrgID": ["team-a"]])
        #expect(template.spec.provider.unknownFields == ["x-provider": "p"])
        #expect(template.spec.provider.secretRef?.unknownFields == ["x-secret": true])
        #expect(template.spec.query.hasPrefix("histogram_quantile(0.99"))
        #expect(template.spec.unknownFields == ["x-spec": ["a": [1]]])
        #expect(template.unknownFields == ["x-top": 1, "status": ["conditions": []]])
        #expect(try JSONValueEncoder().encode(template) == metricTemplateWithUnknownFields)
    }

    @Test("an AlertProvider round-trips, unknown fields included")
    func alertProviderRoundTrip() throws {
        let provider = try JSONValueDecoder().decode(AlertProvider.self, from: alertProviderWithUnknownFields)
        #expect(provider.spec.type == "slack")
        #expect(provider.spec.channel == "on-call")
        #expect(provider.spec.secretRef?.name == "slack-url")
        #expect(provider.spec.unknownFields == ["x-spec": "blue"])
        #expect(provider.unknownFields == ["status": ["ready": true]])
        #expect(try JSONValueEncoder().encode(provider) == alertProviderWithUnknownFields)
    }

    struct DecodingCase: Sendable, CustomTestStringConvertible {
        var edits: [Edit]
        var fieldPath: String
        var problem: String

        var testDescription: String { fieldPath }
    }

    @Test(
        "decoding errors carry the field path",
        arguments: [
            DecodingCase(
                edits: [.set("/spec/analysis/stepWeight", "five")],
                fieldPath: "spec.analysis.stepWeight",
                problem: "must be an integer"
            ),
            DecodingCase(
                edits: [.set("/spec/analysis/metrics/1/thresholdRange/max", "500")],
                fieldPath: "spec.analysis.metrics[1].thresholdRange.max",
                problem: "must be a number"
            ),
            DecodingCase(
                edits: [.set("/spec/analysis/webhooks/0/metadata/cmd", 1)],
                fieldPath: "spec.analysis.webhooks[0].metadata.cmd",
                problem: "must be a string"
            ),
            DecodingCase(
                edits: [.remove("/spec/targetRef/name")],
                fieldPath: "spec.targetRef.name",
                problem: "Required value"
            ),
            DecodingCase(edits: [.set("/spec/service/port", 1.5)], fieldPath: "spec.service.port", problem: "integer"),
            DecodingCase(
                edits: [.set("/spec/service/targetPort", true)],
                fieldPath: "spec.service.targetPort",
                problem: "must be an integer or a string"
            ),
            DecodingCase(
                edits: [.set("/status", ["phase": "Exploding"])],
                fieldPath: "status.phase",
                problem: "Exploding"
            ),
            DecodingCase(edits: [.set("/spec", "podinfo")], fieldPath: "spec", problem: "must be an object"),
        ]
    )
    func decodingErrorPath(_ entry: DecodingCase) throws {
        let broken = try Fixture.seed.applying(entry.edits)
        let error = try #require(throws: DecodingError.self) {
            try JSONValueDecoder().decode(Canary.self, from: broken)
        }
        #expect(error.fieldPath == entry.fieldPath)
        #expect(error.problem.contains(entry.problem), "problem: \(error.problem)")
    }
}

@Suite("Direct readers")
struct DirectReaderTests {
    @Test("the direct reader and the Codable conformance decode the same Canary")
    func sameAsCodable() throws {
        var object = Fixture.defaultedSeed
        object["status"] = [
            "phase": "Progressing", "canaryWeight": 10, "failedChecks": 1,
            "conditions": [["type": "Promoted", "status": "Unknown", "reason": "Progressing"]],
        ]
        object["metadata"]?["ownerReferences"] = [
            ["apiVersion": "v1", "kind": "X", "name": "x", "uid": "1", "controller": true]
        ]
        let direct = try JSONValueDecoder().decode(Canary.self, from: object)
        let viaCodable = try JSONDecoder().decode(Canary.self, from: Data(object.serializedBytes()))
        #expect(direct == viaCodable)
        #expect(try JSONValueEncoder().encode(direct) == object)
    }
}

import DevCluster
import JSONValue
import Testing

/// One patch applied to one object, with the object apimachinery yields.
struct StrategicPatchCase: Sendable, CustomTestStringConvertible {
    /// What the case shows, as a sentence.
    var summary: String
    /// `group/version/Kind` (core group empty) whose metadata applies; nil for none (a custom resource's shape).
    var kind: String?
    var original: String
    var patch: String
    var expected: String

    var testDescription: String { summary }

    func meta() throws -> PatchMeta? {
        guard let kind else { return nil }
        let parts = kind.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        try #require(parts.count == 3)
        let meta: PatchMeta = try #require(StrategicMergePatch.meta(group: parts[0], version: parts[1], kind: parts[2]))
        return meta
    }
}

/// One patch that apimachinery refuses, with its error message.
struct StrategicPatchRefusal: Sendable, CustomTestStringConvertible {
    var summary: String
    var kind: String?
    var original: String
    var patch: String
    var message: String

    var testDescription: String { summary }
}

/// A Deployment as the API server returns it, with two containers.
let setImageDeployment = #"""
    {"apiVersion":"apps/v1","kind":"Deployment",
     "metadata":{"name":"podinfo","namespace":"test","uid":"5b1c","resourceVersion":"1042","generation":3,
       "labels":{"app":"podinfo"},"annotations":{"deployment.kubernetes.io/revision":"3"}},
     "spec":{"replicas":2,"revisionHistoryLimit":10,"progressDeadlineSeconds":600,
       "selector":{"matchLabels":{"app":"podinfo"}},
       "strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":"25%","maxUnavailable":0}},
       "template":{
         "metadata":{"labels":{"app":"podinfo"},"annotations":{"prometheus.io/scrape":"true"}},
         "spec":{
           "containers":[
             {"name":"podinfod","image":"ghcr.io/stefanprodan/podinfo:6.0.0","imagePullPolicy":"IfNotPresent",
              "command":["./podinfo","--port=9898","--level=info"],
              "ports":[{"name":"http","containerPort":9898,"protocol":"TCP"},
                       {"name":"grpc","containerPort":9999,"protocol":"TCP"}],
              "env":[{"name":"PODINFO_UI_COLOR","value":"#34577c"}],
              "readinessProbe":{"httpGet":{"path":"/readyz","port":9898},"initialDelaySeconds":5,"periodSeconds":10},
              "resources":{"limits":{"cpu":"2","memory":"512Mi"},"requests":{"cpu":"100m","memory":"64Mi"}},
              "volumeMounts":[{"name":"data","mountPath":"/data"}],
              "terminationMessagePath":"/dev/termination-log"},
             {"name":"sidecar","image":"envoyproxy/envoy:v1.30.1","args":["-c","/etc/envoy/envoy.yaml"],
              "ports":[{"containerPort":10000,"protocol":"TCP"}],"resources":{}}],
           "volumes":[{"name":"data","emptyDir":{}}],
           "restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst"}}},
     "status":{"observedGeneration":3,"replicas":2,"readyReplicas":2,
       "conditions":[{"type":"Available","status":"True","reason":"MinimumReplicasAvailable"},
                     {"type":"Progressing","status":"True","reason":"NewReplicaSetAvailable"}]}}
    """#

@Suite("Strategic merge patch as the API server applies it")
struct StrategicMergePatchTests {
    static func apply(_ patch: String, to original: String, meta: PatchMeta?) throws -> JSONValue {
        try StrategicMergePatch.apply(JSONValue(parsing: patch), to: JSONValue(parsing: original), meta: meta)
    }

    static func deploymentMeta() throws -> PatchMeta {
        try #require(StrategicMergePatch.meta(group: "apps", version: "v1", kind: "Deployment"))
    }

    @Test("kubectl set image changes only the named container's image and keeps the sidecar and every other field")
    func kubectlSetImage() throws {
        let patch = #"""
            {"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"podinfod"},{"name":"sidecar"}],
              "containers":[{"image":"ghcr.io/stefanprodan/podinfo:6.1.0","name":"podinfod"}]}}}}
            """#
        let result = try Self.apply(patch, to: setImageDeployment, meta: try Self.deploymentMeta())
        let expected = try JSONValue(
            parsing: setImageDeployment.replacing("podinfo:6.0.0", with: "podinfo:6.1.0")
        )
        #expect(result.serialized() == expected.serialized())
        #expect(!result.serialized().contains("$setElementOrder"))
    }

    @Test("client-side apply switching the strategy to Recreate drops rollingUpdate through $retainKeys")
    func strategySwitch() throws {
        let patch = #"{"spec":{"strategy":{"$retainKeys":["type"],"rollingUpdate":null,"type":"Recreate"}}}"#
        let result = try Self.apply(patch, to: setImageDeployment, meta: try Self.deploymentMeta())
        #expect(result["spec", "strategy"] == ["type": "Recreate"])
        var expected = try JSONValue(parsing: setImageDeployment)
        var spec = try #require(expected["spec"])
        spec["strategy"] = ["type": "Recreate"]
        expected["spec"] = spec
        #expect(result == expected)
    }

    @Test("applies each patch the way apimachinery does", arguments: strategicMergeCases)
    func merges(_ testCase: StrategicPatchCase) throws {
        let result = try Self.apply(testCase.patch, to: testCase.original, meta: try testCase.meta())
        let expected = try JSONValue(parsing: testCase.expected)
        #expect(result.serialized() == expected.serialized())
    }

    @Test("refuses a bad patch with apimachinery's message", arguments: strategicMergeRefusals)
    func refuses(_ testCase: StrategicPatchRefusal) throws {
        let meta = try StrategicPatchCase(
            summary: testCase.summary,
            kind: testCase.kind,
            original: "",
            patch: "",
            expected: ""
        ).meta()
        let patch = try JSONValue(parsing: testCase.patch)
        let original = try JSONValue(parsing: testCase.original)
        let error = #expect(throws: StrategicMergeError.self) {
            try StrategicMergePatch.apply(patch, to: original, meta: meta)
        }
        #expect(error?.message == testCase.message)
        #expect(error?.description == testCase.message)
    }

    @Test(
        "knows the built-in kinds",
        arguments: [
            ("", "v1", "Pod"), ("", "v1", "Service"), ("", "v1", "Namespace"), ("", "v1", "ConfigMap"),
            ("", "v1", "Secret"), ("", "v1", "ServiceAccount"), ("", "v1", "Event"), ("", "v1", "Node"),
            ("", "v1", "PersistentVolumeClaim"), ("", "v1", "ReplicationController"), ("", "v1", "PodTemplate"),
            ("apps", "v1", "Deployment"), ("apps", "v1", "ReplicaSet"), ("apps", "v1", "StatefulSet"),
            ("apps", "v1", "DaemonSet"), ("batch", "v1", "Job"), ("batch", "v1", "CronJob"),
            ("coordination.k8s.io", "v1", "Lease"), ("events.k8s.io", "v1", "Event"),
            ("autoscaling", "v1", "HorizontalPodAutoscaler"), ("autoscaling", "v2", "HorizontalPodAutoscaler"),
        ]
    )
    func builtinKinds(group: String, version: String, kind: String) {
        #expect(StrategicMergePatch.meta(group: group, version: version, kind: kind) != nil)
    }

    @Test(
        "has no metadata for custom resources or unknown versions",
        arguments: [
            ("flagger.app", "v1beta1", "Canary"), ("fledge.dev", "v1alpha1", "Canary"),
            ("apps", "v1beta1", "Deployment"),
            ("", "v1", "Deployment"), ("", "v2", "Pod"), ("apps", "v1", "Widget"),
        ]
    )
    func unknownKinds(group: String, version: String, kind: String) {
        #expect(StrategicMergePatch.meta(group: group, version: version, kind: kind) == nil)
    }

    @Test("the Deployment metadata carries the tags of k8s.io/api")
    func deploymentTags() throws {
        let meta = try Self.deploymentMeta()
        let container = meta.member("spec")?.member("template")?.member("spec")?.member("containers")
        #expect(container == .merge(on: "name", .container))
        #expect(meta.member("spec")?.member("strategy") == .object([:], retainKeys: true))
        #expect(meta.member("status")?.member("conditions") == .merge(on: "type"))
        #expect(meta.member("metadata")?.member("finalizers") == .primitiveSet)
        #expect(meta.member("metadata")?.member("ownerReferences") == .merge(on: "uid"))
        #expect(PatchMeta.podSpec.member("volumes") == .merge(on: "name", retainKeys: true))
        #expect(PatchMeta.podSpec.member("tolerations") == nil)
        #expect(PatchMeta.container.member("volumeMounts") == .merge(on: "mountPath"))
        #expect(PatchMeta.map(.primitiveSet).member("anything") == .primitiveSet)
    }

    @Test("a patch that is not an object, or an original that is neither an object nor null, is refused")
    func documentsMustBeObjects() throws {
        #expect(throws: StrategicMergeError("invalid JSON document")) {
            try StrategicMergePatch.apply([1, 2], to: [:], meta: nil)
        }
        #expect(throws: StrategicMergeError("invalid JSON document")) {
            try StrategicMergePatch.apply([:], to: "text", meta: nil)
        }
        #expect(try StrategicMergePatch.apply(["a": 1, "b": nil], to: nil, meta: nil) == ["a": 1])
    }
}

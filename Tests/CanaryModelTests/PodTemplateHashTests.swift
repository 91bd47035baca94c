import CanaryModel
import JSONValue
import KubeModels
import Testing

@Suite("Pod template hash")
struct PodTemplateHashTests {
    static let template = """
        {"metadata": {"labels": {"app": "podinfo"}, "annotations": {"prometheus.io/scrape": "true"}},
         "spec": {"containers": [{"name": "podinfod", "image": "ghcr.io/stefanprodan/podinfo:6.0.0",
                                  "ports": [{"name": "http", "containerPort": 9898}]}]}}
        """

    static let reordered = """
        {"spec": {"containers": [{"ports": [{"containerPort": 9898, "name": "http"}],
                                  "image": "ghcr.io/stefanprodan/podinfo:6.0.0", "name": "podinfod"}]},
         "metadata": {"annotations": {"prometheus.io/scrape": "true"}, "labels": {"app": "podinfo"}}}
        """

    @Test("the same template with its members in another order hashes the same")
    func memberOrder() {
        #expect(
            PodTemplateHash.compute(Fixture.parse(Self.template))
                == PodTemplateHash.compute(Fixture.parse(Self.reordered))
        )
    }

    @Test("a changed image changes the hash")
    func changedImage() throws {
        let template = Fixture.parse(Self.template)
        let upgraded = try template.applying([
            .set("/spec/containers/0/image", "ghcr.io/stefanprodan/podinfo:6.0.1")
        ])
        #expect(PodTemplateHash.compute(template) != PodTemplateHash.compute(upgraded))
    }

    @Test("container order matters: arrays are ordered")
    func arrayOrder() {
        let one = Fixture.parse(#"{"spec": {"containers": [{"name": "a"}, {"name": "b"}]}}"#)
        let other = Fixture.parse(#"{"spec": {"containers": [{"name": "b"}, {"name": "a"}]}}"#)
        #expect(PodTemplateHash.compute(one) != PodTemplateHash.compute(other))
    }

    @Test("the hash is 16 lower-case hex digits", arguments: 0..<32)
    func format(tag: Int) throws {
        let template = try Fixture.parse(Self.template).applying([
            .set("/spec/containers/0/image", .string("ghcr.io/stefanprodan/podinfo:6.0.\(tag)"))
        ])
        let hash = PodTemplateHash.compute(template)
        #expect(hash.count == 16)
        #expect(hash.allSatisfy { "0123456789abcdef".contains($0) }, "\(hash)")
    }

    /// Values from `printf '%s' '<sorted compact JSON>' | sha256sum | cut -c1-16`: the hash is stored in
    /// `status.lastAppliedSpec`, so it must not change between versions.
    @Test(
        "the hash is the start of the SHA-256 of the sorted, compact JSON",
        arguments: [
            ("{}", "44136fa355b3678a"),
            (
                #"{"metadata":{"labels":{"app":"podinfo"}},"spec":{"containers":[{"#
                    + #""image":"ghcr.io/stefanprodan/podinfo:6.0.0","#
                    + #""name":"podinfod","ports":[{"containerPort":9898,"name":"http"}]}]}}"#,
                "f717e95308c34fc8"
            ),
        ]
    )
    func stableValue(json: String, hash: String) {
        #expect(PodTemplateHash.compute(Fixture.parse(json)) == hash)
    }

    @Test("a workload's hash is its template's; replicas do not count")
    func workload() throws {
        let template = Fixture.parse(Self.template)
        let deployment: JSONValue = [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "podinfo"],
            "spec": ["replicas": 2, "template": template],
        ]
        let scaled = try deployment.applying([.set("/spec/replicas", 5)])
        #expect(PodTemplateHash.ofWorkload(deployment) == PodTemplateHash.compute(template))
        #expect(PodTemplateHash.ofWorkload(scaled) == PodTemplateHash.ofWorkload(deployment))
        #expect(PodTemplateHash.ofWorkload(["spec": ["replicas": 1]]) == nil)
    }
}

@Suite("Typed template hash")
struct TypedTemplateHashTests {
    @Test("a typed Deployment's template hashes as its JSON does, explicit nulls and unknown members included")
    func typedEqualsJSON() throws {
        let json: JSONValue = [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "podinfo", "namespace": "prod"],
            "spec": [
                "replicas": 2,
                "selector": ["matchLabels": ["app": "podinfo"]],
                "template": [
                    "metadata": ["creationTimestamp": .null, "labels": ["app": "podinfo"]],
                    "spec": [
                        "containers": [
                            [
                                "name": "podinfod", "image": "ghcr.io/stefanprodan/podinfo:6.0.1",
                                "ports": [["name": "http", "containerPort": 9898, "protocol": "TCP"]],
                                "resources": [:], "env": [["name": "A", "value": "b"]],
                                "envFrom": [["configMapRef": ["name": "cfg"]]],
                            ]
                        ],
                        "volumes": [["name": "v", "configMap": ["name": "cfg", "defaultMode": 420]]],
                        "terminationGracePeriodSeconds": 30,
                    ],
                ],
            ],
        ]
        let typed = try JSONValueDecoder().decode(Deployment.self, from: json)
        #expect(PodTemplateHash.of(typed) == PodTemplateHash.ofWorkload(json))
        let encoded = try JSONValueEncoder().encode(typed)
        #expect(encoded == json, "\(encoded.serialized())")
    }
}

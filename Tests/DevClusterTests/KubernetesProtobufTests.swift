import JSONValue
import Testing

@testable import DevCluster

/// The exact body `kubectl create namespace prod` sends with `Content-Type: application/vnd.kubernetes.protobuf`.
let measuredNamespaceBody = Array(
    ("k8s\0\n\u{0F}\n\u{02}v1\u{12}\tNamespace\u{12}\u{1C}\n\u{14}\n\u{04}prod\u{12}\0\u{1A}\0\"\0*\02\08\0B\0"
        + "\u{12}\0\u{1A}\u{02}\n\0\u{1A}\0\"\0").utf8
)

/// Decodes `body` and checks it equals `expected` both directly and after a trip through JSON text.
func expectDecodes(
    _ body: [UInt8],
    to expected: String,
    sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let decoded = try KubernetesProtobuf.decode(body)
    let wanted = try JSONValue(parsing: expected)
    #expect(decoded == wanted, "got \(decoded.serialized())", sourceLocation: sourceLocation)
    #expect(try JSONValue(parsing: decoded.serialized()) == wanted, sourceLocation: sourceLocation)
}

@Suite("Decoding kubectl's protobuf bodies")
struct KubernetesProtobufTests {
    @Test("the measured body of kubectl create namespace prod decodes to the namespace kubectl 1.31 sent as JSON")
    func measuredNamespace() throws {
        #expect(measuredNamespaceBody.count == 55)
        try expectDecodes(
            measuredNamespaceBody,
            to: #"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"prod"},"spec":{},"status":{}}"#
        )
    }

    @Test("the test encoder lays out a namespace byte for byte as kubectl does")
    func encoderMatchesKubectl() {
        #expect(KubernetesBody.namespace == measuredNamespaceBody)
    }

    @Test("a config map keeps its string data, base64-encodes binary data and keeps immutable")
    func configMap() throws {
        try expectDecodes(
            KubernetesBody.configMap,
            to: #"""
                {"apiVersion":"v1","kind":"ConfigMap",
                 "metadata":{"name":"app-config","namespace":"prod"},
                 "data":{"greeting":"hello\nworld","mode":"prod"},
                 "binaryData":{"blob":"AAEC/w=="},
                 "immutable":true}
                """#
        )
    }

    @Test("a secret's data becomes base64 strings while stringData, type and a false immutable stay as sent")
    func secret() throws {
        try expectDecodes(
            KubernetesBody.secret,
            to: #"""
                {"apiVersion":"v1","kind":"Secret","metadata":{"name":"db"},
                 "data":{"empty":"","password":"czNjcjN0"},"stringData":{"user":"admin"},
                 "type":"Opaque","immutable":false}
                """#
        )
    }

    @Test("a service account keeps its pull secrets and explicit automount setting")
    func serviceAccount() throws {
        try expectDecodes(
            KubernetesBody.serviceAccount,
            to: #"""
                {"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"builder"},
                 "imagePullSecrets":[{"name":"registry"}],"automountServiceAccountToken":false}
                """#
        )
    }

    @Test("kubectl create deployment podinfo decodes to what kubectl 1.31 sent as JSON, without the empty status")
    func podinfoDeployment() throws {
        try expectDecodes(
            KubernetesBody.podinfo,
            to: #"""
                {"apiVersion":"apps/v1","kind":"Deployment",
                 "metadata":{"name":"podinfo","labels":{"app":"podinfo"}},
                 "spec":{"replicas":2,"selector":{"matchLabels":{"app":"podinfo"}},
                   "template":{"metadata":{"labels":{"app":"podinfo"}},
                     "spec":{"containers":[{"name":"podinfo","image":"ghcr.io/stefanprodan/podinfo:6.0.0",
                       "ports":[{"containerPort":9898}],"resources":{}}]}},
                   "strategy":{}}}
                """#
        )
    }

    @Test("every supported deployment, pod and metadata field decodes to its JSON name and form")
    func richDeployment() throws {
        let raw = KubernetesBody.wrap { raw in
            raw.message(1) { meta in
                meta.string(1, "web")
                meta.string(3, "prod")
                meta.string(5, "8d1c")
                meta.string(6, "42")
                meta.int(7, 3)
                meta.message(8) { time in
                    time.int(1, 1_700_000_000)
                    time.int(2, 5)
                }
                meta.message(9) { _ in }
                meta.int(10, 0)
                meta.stringMap(11, ["app": "web", "tier": "frontend"])
                meta.stringMap(12, ["note": "kept"])
                meta.message(13) { owner in
                    owner.string(1, "ReplicaSet")
                    owner.string(3, "web-1")
                    owner.string(4, "u1")
                    owner.string(5, "apps/v1")
                    owner.bool(6, true)
                    owner.bool(7, false)
                }
                meta.string(14, "a/b")
                meta.string(14, "c/d")
            }
            raw.message(2) { spec in
                spec.int(1, 0)
                spec.message(2) { selector in
                    selector.stringMap(1, ["app": "web"])
                    selector.message(2) { requirement in
                        requirement.string(1, "tier")
                        requirement.string(2, "In")
                        requirement.string(3, "frontend")
                        requirement.string(3, "edge")
                    }
                }
                spec.message(3) { template in
                    template.message(1) { KubernetesBody.objectMeta(&$0, name: "", labels: ["app": "web"]) }
                    template.message(2) { pod in
                        pod.message(1) { $0.string(1, "ignored-volume") }
                        pod.message(2) { container in
                            container.string(1, "web")
                            container.string(2, "nginx:1.27")
                            container.string(3, "nginx")
                            container.string(4, "-g")
                            container.string(4, "daemon off;")
                            container.string(5, "/srv")
                            container.message(6) { port in
                                port.string(1, "http")
                                port.int(2, 8080)
                                port.int(3, 80)
                                port.string(4, "TCP")
                            }
                            container.message(7) { env in
                                env.string(1, "A")
                                env.string(2, "1")
                            }
                            container.message(7) { env in
                                env.string(1, "EMPTY")
                                env.string(2, "")
                            }
                            container.message(7) { env in
                                env.string(1, "POD")
                                env.message(3) { source in
                                    source.message(1) { field in
                                        field.string(1, "v1")
                                        field.string(2, "metadata.name")
                                    }
                                }
                            }
                            container.message(7) { env in
                                env.string(1, "PASS")
                                env.message(3) { source in
                                    source.message(4) { key in
                                        key.message(1) { $0.string(1, "db") }
                                        key.string(2, "password")
                                    }
                                }
                            }
                            container.message(8) { resources in
                                resources.quantityMap(1, ["cpu": "500m", "memory": "128Mi"])
                                resources.quantityMap(2, ["cpu": "100m"])
                            }
                            container.string(13, "/dev/termination-log")
                            container.string(14, "IfNotPresent")
                            container.message(15) { security in
                                security.message(1) { $0.string(2, "ALL") }
                                security.bool(5, true)
                                security.bool(7, false)
                            }
                            container.message(19) { source in
                                source.string(1, "CFG_")
                                source.message(2) { $0.message(1) { $0.string(1, "app-config") } }
                            }
                            container.string(20, "File")
                        }
                        pod.string(3, "Always")
                        pod.int(4, 30)
                        pod.string(6, "ClusterFirst")
                        pod.stringMap(7, ["disk": "ssd"])
                        pod.string(8, "web")
                        pod.message(14) { _ in }
                        pod.string(19, "default-scheduler")
                        pod.message(20) { initContainer in
                            initContainer.string(1, "init")
                            initContainer.string(2, "busybox")
                        }
                        pod.int(25, -5)
                    }
                }
                spec.message(4) { strategy in
                    strategy.string(1, "RollingUpdate")
                    strategy.message(2) { rolling in
                        rolling.message(1) { percent in
                            percent.int(1, 1)
                            percent.int(2, 0)
                            percent.string(3, "25%")
                        }
                        rolling.message(2) { count in
                            count.int(1, 0)
                            count.int(2, 1)
                            count.string(3, "")
                        }
                    }
                }
                spec.int(5, 5)
                spec.int(6, 10)
                spec.bool(7, true)
                spec.int(9, 600)
            }
            raw.message(3) { status in
                status.int(1, 3)
                status.int(2, 1)
                status.int(7, 1)
                status.message(6) { condition in
                    condition.string(1, "Available")
                    condition.string(2, "True")
                    condition.message(6) { $0.int(1, 0) }
                    condition.message(7) { _ in }
                    condition.string(4, "MinimumReplicasAvailable")
                    condition.string(5, "")
                }
                status.int(8, 0)
            }
        }
        try expectDecodes(
            KubernetesBody.envelope(apiVersion: "apps/v1", kind: "Deployment", raw: raw),
            to: #"""
                {"apiVersion":"apps/v1","kind":"Deployment",
                 "metadata":{"name":"web","namespace":"prod","uid":"8d1c","resourceVersion":"42","generation":3,
                   "creationTimestamp":"2023-11-14T22:13:20Z","deletionTimestamp":null,
                   "deletionGracePeriodSeconds":0,
                   "labels":{"app":"web","tier":"frontend"},"annotations":{"note":"kept"},
                   "ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-1","uid":"u1",
                     "controller":true,"blockOwnerDeletion":false}],
                   "finalizers":["a/b","c/d"]},
                 "spec":{"replicas":0,
                   "selector":{"matchLabels":{"app":"web"},
                     "matchExpressions":[{"key":"tier","operator":"In","values":["frontend","edge"]}]},
                   "template":{"metadata":{"labels":{"app":"web"}},
                     "spec":{
                       "containers":[{"name":"web","image":"nginx:1.27","command":["nginx"],
                         "args":["-g","daemon off;"],"workingDir":"/srv",
                         "ports":[{"name":"http","hostPort":8080,"containerPort":80,"protocol":"TCP"}],
                         "env":[{"name":"A","value":"1"},{"name":"EMPTY"},
                           {"name":"POD","valueFrom":{"fieldRef":{"apiVersion":"v1","fieldPath":"metadata.name"}}},
                           {"name":"PASS","valueFrom":{"secretKeyRef":{"name":"db","key":"password"}}}],
                         "envFrom":[{"prefix":"CFG_","configMapRef":{"name":"app-config"}}],
                         "resources":{"limits":{"cpu":"500m","memory":"128Mi"},"requests":{"cpu":"100m"}},
                         "terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File",
                         "imagePullPolicy":"IfNotPresent",
                         "securityContext":{"capabilities":{"drop":["ALL"]},"runAsNonRoot":true,
                           "allowPrivilegeEscalation":false}}],
                       "initContainers":[{"name":"init","image":"busybox"}],
                       "restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst",
                       "nodeSelector":{"disk":"ssd"},"serviceAccountName":"web","securityContext":{},
                       "schedulerName":"default-scheduler","priority":-5}},
                   "strategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"25%","maxSurge":1}},
                   "minReadySeconds":5,"revisionHistoryLimit":10,"paused":true,"progressDeadlineSeconds":600},
                 "status":{"observedGeneration":3,"replicas":1,"readyReplicas":1,
                   "conditions":[{"type":"Available","status":"True","lastUpdateTime":"1970-01-01T00:00:00Z",
                     "reason":"MinimumReplicasAvailable"}],
                   "collisionCount":0}}
                """#
        )
    }

    @Test(
        "metav1.Time seconds format as RFC 3339 in UTC, nanoseconds dropped",
        arguments: [
            (Int64(0), "1970-01-01T00:00:00Z"),
            (-1, "1969-12-31T23:59:59Z"),
            (951_782_400, "2000-02-29T00:00:00Z"),
            (1_700_000_000, "2023-11-14T22:13:20Z"),
            (-62_167_219_200, "0000-01-01T00:00:00Z"),
            (253_402_300_799, "9999-12-31T23:59:59Z"),
        ]
    )
    func timestamps(seconds: Int64, expected: String) throws {
        let body = KubernetesBody.envelope(
            apiVersion: "v1",
            kind: "Namespace",
            raw: KubernetesBody.wrap { raw in
                raw.message(1) { meta in
                    meta.message(8) { time in
                        time.int(1, seconds)
                        time.int(2, 999_999_999)
                    }
                }
            }
        )
        let decoded = try KubernetesProtobuf.decode(body)
        #expect(decoded["metadata", "creationTimestamp"] == .string(expected))
    }

    @Test("unknown fields of every wire type are skipped at the envelope, object and nested levels")
    func unknownFieldsAreSkipped() throws {
        func noise(_ writer: inout ProtobufWriter) {
            writer.int(99, -1)
            writer.fixed64(100, 0xDEAD_BEEF_CAFE_F00D)
            writer.string(101, "ignored")
            writer.fixed32(102, 7)
            writer.message(103) { $0.string(1, "nested ignored") }
        }
        let raw = KubernetesBody.wrap { raw in
            noise(&raw)
            raw.message(1) { meta in
                meta.string(1, "cfg")
                noise(&meta)
                meta.string(15, "clusterName is gone")
                meta.message(17) { $0.string(1, "kubectl") }
            }
            raw.message(2) { entry in
                noise(&entry)
                entry.string(1, "k")
                entry.string(2, "v")
            }
            noise(&raw)
        }
        var body = KubernetesBody.envelope(apiVersion: "v1", kind: "ConfigMap", raw: raw)
        var trailer = ProtobufWriter()
        noise(&trailer)
        body += trailer.output
        try expectDecodes(
            body,
            to: #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cfg"},"data":{"k":"v"}}"#
        )
    }

    @Test("repeated occurrences merge as protobuf does: messages merge, scalars and map keys take the last value")
    func protobufMergeRules() throws {
        let raw = KubernetesBody.wrap { raw in
            raw.message(1) { meta in
                meta.string(1, "first")
                meta.stringMap(11, ["x": "1"])
                meta.string(14, "f1")
            }
            raw.message(1) { meta in
                meta.string(3, "ns")
                meta.stringMap(11, ["x": "2", "y": "3"])
                meta.string(14, "f2")
            }
            raw.message(1) { $0.string(1, "") }
            raw.message(2) { $0.string(1, "kubernetes") }
            raw.message(2) { $0.string(1, "example.com/cleanup") }
        }
        try expectDecodes(
            KubernetesBody.envelope(apiVersion: "v1", kind: "Namespace", raw: raw),
            to: #"""
                {"apiVersion":"v1","kind":"Namespace",
                 "metadata":{"namespace":"ns","labels":{"x":"2","y":"3"},"finalizers":["f1","f2"]},
                 "spec":{"finalizers":["kubernetes","example.com/cleanup"]}}
                """#
        )
    }

    @Test("varints: 32-bit fields truncate, negatives take ten bytes, packed and unpacked lists both decode")
    func varints() throws {
        let raw = KubernetesBody.wrap { raw in
            raw.message(1) { $0.int(7, -1) }
            raw.message(2) { spec in
                spec.tag(1, wireType: 0)
                spec.varint(0x1_0000_0005)
                spec.int(5, Int64(Int32.min))
                spec.message(3) { template in
                    template.message(2) { pod in
                        pod.message(14) { security in
                            security.tag(4, wireType: 2)
                            security.varint(3)
                            security.output += [1, 2, 0x7F]
                            security.int(4, 4)
                            security.int(2, Int64.min)
                        }
                    }
                }
            }
        }
        let decoded = try KubernetesProtobuf.decode(
            KubernetesBody.envelope(apiVersion: "apps/v1", kind: "Deployment", raw: raw)
        )
        #expect(decoded["metadata", "generation"] == .int(-1))
        #expect(decoded["spec", "replicas"] == .int(5))
        #expect(decoded["spec", "minReadySeconds"] == .int(Int64(Int32.min)))
        let security = decoded["spec", "template", "spec", "securityContext"]
        #expect(security?["supplementalGroups"] == [1, 2, 127, 4])
        #expect(security?["runAsUser"] == .int(Int64.min))
    }

    @Test("absent and empty IntOrString and Quantity values decode to Go's zero values")
    func zeroValues() throws {
        let raw = KubernetesBody.wrap { raw in
            raw.message(2) { spec in
                spec.message(4) { strategy in
                    strategy.message(2) { rolling in
                        rolling.message(1) { _ in }
                        rolling.message(2) { $0.int(1, 1) }
                    }
                }
                spec.message(3) { template in
                    template.message(2) { pod in
                        pod.message(2) { container in
                            container.message(8) { resources in
                                resources.message(1) { $0.string(1, "cpu") }
                                resources.message(2) { entry in
                                    entry.string(1, "memory")
                                    entry.message(2) { _ in }
                                }
                            }
                        }
                    }
                }
            }
        }
        let decoded = try KubernetesProtobuf.decode(
            KubernetesBody.envelope(apiVersion: "apps/v1", kind: "Deployment", raw: raw)
        )
        #expect(decoded["spec", "strategy", "rollingUpdate"] == ["maxUnavailable": 0, "maxSurge": ""])
        let container = try #require(decoded["spec", "template", "spec", "containers"]?[0])
        #expect(container["resources"] == ["limits": ["cpu": "0"], "requests": ["memory": "0"]])
    }

    @Test("an envelope without raw bytes decodes to just apiVersion and kind")
    func emptyObject() throws {
        var writer = ProtobufWriter()
        writer.message(1) { typeMeta in
            typeMeta.string(1, "v1")
            typeMeta.string(2, "ServiceAccount")
        }
        try expectDecodes(
            KubernetesBody.magic + writer.output,
            to: #"{"apiVersion":"v1","kind":"ServiceAccount"}"#
        )
    }

    @Test("the nesting limit stops decoding with the path where it was exceeded")
    func depthLimit() throws {
        #expect(
            throws: ProtobufDecodingError("Deployment.spec.selector.matchLabels: messages nest deeper than 3 levels")
        ) {
            try KubernetesProtobuf.decode(KubernetesBody.podinfo, maximumDepth: 3)
        }
        _ = try KubernetesProtobuf.decode(KubernetesBody.podinfo, maximumDepth: 6)
    }

    @Test("errors describe themselves with their message")
    func errorDescription() {
        #expect(ProtobufDecodingError("boom").description == "boom")
        #expect(ProtobufDecodingError("boom") != ProtobufDecodingError("bang"))
    }
}

import DevCluster
import JSONValue
import Testing

@Suite("Field selectors")
struct FieldSelectorTests {
    @Test(
        "parses terms, sorts them and renders them escaped",
        arguments: [
            ("involvedObject.name=podinfo", "involvedObject.name=podinfo"),
            ("type!=Normal,involvedObject.name==podinfo", "involvedObject.name=podinfo,type!=Normal"),
            ("metadata.name=a\\,b", "metadata.name=a\\,b"),
            ("metadata.name=a\\=b", "metadata.name=a\\=b"),
            ("metadata.name=a\\\\b", "metadata.name=a\\\\b"),
            ("metadata.name=", "metadata.name="),
            (",,", ""),
            ("", ""),
        ]
    )
    func parses(input: String, canonical: String) throws {
        #expect(try FieldSelector(parsing: input).description == canonical)
    }

    @Test("unescapes values and keeps whitespace, as kubernetes does")
    func values() throws {
        let selector = try FieldSelector(parsing: "metadata.name=a\\,b\\=c\\\\d, type != x")
        #expect(
            selector.requirements == [
                .init(field: " type ", op: .notEquals, value: " x"),
                .init(field: "metadata.name", op: .equals, value: "a,b=c\\d"),
            ]
        )
        #expect(selector.requiredValue(of: "metadata.name") == "a,b=c\\d")
        #expect(selector.requiredValue(of: " type ") == nil)
        #expect(selector.fields == [" type ", "metadata.name"])
    }

    @Test(
        "refuses what fields.ParseSelector refuses",
        arguments: [
            ("foo", "invalid selector: 'foo'; can't understand 'foo'"),
            ("a=b,c", "invalid selector: 'a=b,c'; can't understand 'c'"),
            ("a=b=c", "invalid field selector: unescaped character in value: 61"),
            ("a!==b", "invalid field selector: unescaped character in value: 61"),
            ("a=b\\x", "invalid field selector: invalid escape sequence: \\x"),
            ("a=b\\", "invalid field selector: invalid escape sequence: \\"),
        ]
    )
    func errors(input: String, message: String) {
        #expect(throws: SelectorError(message)) { try FieldSelector(parsing: input) }
    }

    @Test("matches with a missing field reading as empty")
    func matching() throws {
        let fields = ["involvedObject.name": "podinfo", "type": "Warning"]
        #expect(try FieldSelector(parsing: "involvedObject.name=podinfo").matches { fields[$0] })
        #expect(try !FieldSelector(parsing: "involvedObject.name=other").matches { fields[$0] })
        #expect(try FieldSelector(parsing: "type!=Normal").matches { fields[$0] })
        #expect(try FieldSelector(parsing: "reason=").matches { fields[$0] })
        #expect(try !FieldSelector(parsing: "reason!=").matches { fields[$0] })
        #expect(FieldSelector.everything.matches { _ in nil })
    }

    static let event: JSONValue = {
        let text = """
            {"apiVersion":"v1","kind":"Event",
             "metadata":{"name":"podinfo.17a2b","namespace":"prod"},
             "involvedObject":{"kind":"Canary","namespace":"prod","name":"podinfo","uid":"u-1",
               "apiVersion":"flagger.app/v1beta1","resourceVersion":"42","fieldPath":"spec.analysis"},
             "reason":"Synced","type":"Normal","message":"Advance podinfo.prod canary weight 20",
             "source":{"component":"flagger"},"reportingComponent":"flagger-controller"}
            """
        return (try? JSONValue(parsing: text)) ?? .null
    }()

    @Test(
        "reads every selectable field of an event",
        arguments: [
            ("metadata.name", "podinfo.17a2b"),
            ("metadata.namespace", "prod"),
            ("involvedObject.kind", "Canary"),
            ("involvedObject.namespace", "prod"),
            ("involvedObject.name", "podinfo"),
            ("involvedObject.uid", "u-1"),
            ("involvedObject.apiVersion", "flagger.app/v1beta1"),
            ("involvedObject.resourceVersion", "42"),
            ("involvedObject.fieldPath", "spec.analysis"),
            ("reason", "Synced"),
            ("reportingComponent", "flagger-controller"),
            ("source", "flagger"),
            ("type", "Normal"),
        ]
    )
    func eventFields(field: String, value: String) {
        #expect(FieldSelectorFields.value(of: field, in: Self.event, resource: "events") == value)
    }

    @Test("falls back to reportingComponent for an event's source and refuses unsupported fields")
    func eventSourceFallback() throws {
        var event = Self.event
        event["source"] = [:]
        #expect(FieldSelectorFields.value(of: "source", in: event, resource: "events") == "flagger-controller")
        #expect(FieldSelectorFields.value(of: "message", in: event, resource: "events") == nil)
        let selector = try FieldSelector(parsing: "involvedObject.name=podinfo,involvedObject.kind=Canary")
        #expect(FieldSelectorFields.matches(selector, object: Self.event, resource: "events"))
        let warnings = try FieldSelector(parsing: "type=Warning")
        #expect(!FieldSelectorFields.matches(warnings, object: event, resource: "events"))
    }

    @Test(
        "words an unsupported field as the apiserver does for that resource",
        arguments: [
            ("events", "foo=bar", "field label not supported: foo"),
            ("pods", "spec.containers=x", "field label not supported: spec.containers"),
            ("namespaces", "metadata.namespace=x", "field label not supported: metadata.namespace"),
            ("canaries", "spec.targetRef.name=x", "field label not supported: spec.targetRef.name"),
            (
                "deployments", "status.replicas=1",
                "\"status.replicas\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\""
            ),
            (
                "configmaps", "data=x",
                "\"data\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\""
            ),
        ]
    )
    func unsupported(resource: String, selector: String, message: String) throws {
        let parsed = try FieldSelector(parsing: selector)
        #expect(throws: SelectorError(message)) { try FieldSelectorFields.validated(parsed, resource: resource) }
    }

    @Test("lists the fields each resource supports")
    func supportedFields() {
        #expect(FieldSelectorFields.supported(resource: "replicasets") == ["metadata.name", "metadata.namespace"])
        #expect(FieldSelectorFields.supported(resource: "secrets") == ["metadata.name", "metadata.namespace", "type"])
        #expect(FieldSelectorFields.supported(resource: "namespaces") == ["metadata.name", "status.phase"])
        #expect(FieldSelectorFields.supported(resource: "events").contains("reportingComponent"))
        #expect(
            Set(FieldSelectorFields.supported(resource: "pods")).isSuperset(of: [
                "spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "status.phase",
                "status.podIP", "status.nominatedNodeName",
            ])
        )
    }

    @Test("rewrites a pod's legacy spec.host and reads pod fields with server defaults")
    func podFields() throws {
        let selector = try FieldSelectorFields.validated(FieldSelector(parsing: "spec.host=node-1"), resource: "pods")
        #expect(selector.description == "spec.nodeName=node-1")
        let pod: JSONValue = [
            "metadata": ["name": "web-1", "namespace": "prod"],
            "spec": ["nodeName": "node-1"],
            "status": ["podIPs": [["ip": "10.0.0.7"]]],
        ]
        #expect(FieldSelectorFields.matches(selector, object: pod, resource: "pods"))
        #expect(FieldSelectorFields.value(of: "status.phase", in: pod, resource: "pods") == "Pending")
        #expect(FieldSelectorFields.value(of: "spec.restartPolicy", in: pod, resource: "pods") == "Always")
        #expect(FieldSelectorFields.value(of: "status.podIP", in: pod, resource: "pods") == "10.0.0.7")
        #expect(FieldSelectorFields.value(of: "spec.hostNetwork", in: pod, resource: "pods") == "false")
    }

    @Test("reads secrets' type and namespaces' phase with defaults, and metadata for everything else")
    func otherResources() {
        #expect(FieldSelectorFields.value(of: "type", in: [:], resource: "secrets") == "Opaque")
        #expect(
            FieldSelectorFields.value(of: "type", in: ["type": "kubernetes.io/tls"], resource: "secrets")
                == "kubernetes.io/tls"
        )
        #expect(FieldSelectorFields.value(of: "status.phase", in: [:], resource: "namespaces") == "Active")
        let canary: JSONValue = ["metadata": ["name": "podinfo", "namespace": "prod"]]
        #expect(FieldSelectorFields.value(of: "metadata.name", in: canary, resource: "canaries") == "podinfo")
        #expect(FieldSelectorFields.value(of: "metadata.namespace", in: canary, resource: "replicasets") == "prod")
        #expect(FieldSelectorFields.value(of: "status.replicas", in: canary, resource: "replicasets") == nil)
    }
}

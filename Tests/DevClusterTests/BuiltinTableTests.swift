import DevCluster
import Foundation
import JSONValue
import Testing

@Suite("Built-in resource tables")
struct BuiltinTableTests {
    static let meta = "\"creationTimestamp\":\"2026-01-01T00:00:00Z\""

    @Test("gives every resource as many cells as columns", arguments: TableConvertor.builtinResources + ["replicasets"])
    func cellCount(resource: String) {
        let object = tableJSON(#"{"metadata":{"name":"x","creationTimestamp":"2026-01-01T00:00:00Z"}}"#)
        #expect(
            TableConvertor.builtinCells(resource: resource, object: object, now: now).count
                == TableConvertor.builtin(resource: resource).count
        )
    }

    @Test("names columns and priorities as printers.go does")
    func columns() {
        func names(_ resource: String, priority: Int) -> [String] {
            TableConvertor.builtin(resource: resource).filter { $0.priority == priority }.map(\.name)
        }
        #expect(names("namespaces", priority: 0) == ["Name", "Status", "Age"])
        #expect(names("deployments", priority: 0) == ["Name", "Ready", "Up-to-date", "Available", "Age"])
        #expect(names("deployments", priority: 1) == ["Containers", "Images", "Selector"])
        #expect(names("pods", priority: 0) == ["Name", "Ready", "Status", "Restarts", "Age"])
        #expect(names("pods", priority: 1) == ["IP", "Node", "Nominated Node", "Readiness Gates"])
        #expect(names("services", priority: 0) == ["Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age"])
        #expect(names("events", priority: 0) == ["Last Seen", "Type", "Reason", "Object", "Message"])
        #expect(names("events", priority: 1) == ["Subobject", "Source", "First Seen", "Count", "Name"])
        #expect(names("secrets", priority: 0) == ["Name", "Type", "Data", "Age"])
        #expect(
            names("horizontalpodautoscalers", priority: 0) == [
                "Name", "Reference", "Targets", "MinPods", "MaxPods", "Replicas", "Age",
            ]
        )
        #expect(names("customresourcedefinitions", priority: 0) == ["Name", "Created At"])
        #expect(names("validatingwebhookconfigurations", priority: 0) == ["Name", "Webhooks", "Age"])
        #expect(names("widgets", priority: 0) == ["Name", "Age"])
        let name = TableConvertor.builtin(resource: "pods")[0]
        #expect(name.format == "name" && name.type == "string")
        #expect(TableConvertor.builtin(resource: "events").last?.format == "name")
        #expect(TableConvertor.builtin(resource: "daemonsets")[1].type == "integer")
        #expect(TableConvertor.builtin(resource: "customresourcedefinitions")[1].type == "date")
    }

    @Test("prints a deployment's READY as ready/desired, like kubectl against a real server")
    func deployment() {
        let object = tableJSON(
            """
            {"metadata":{"name":"podinfo",\(Self.meta)},
             "spec":{"replicas":2,"selector":{"matchLabels":{"app":"podinfo"}},
                     "template":{"spec":{"containers":[{"name":"podinfod","image":"ghcr.io/stefanprodan/podinfo:6.0.0"},
                                                       {"name":"sidecar","image":"busybox"}]}}},
             "status":{"readyReplicas":1,"updatedReplicas":2,"availableReplicas":1}}
            """
        )
        let cells = TableConvertor.builtinCells(resource: "deployments", object: object, now: now)
        #expect(
            cells == [
                "podinfo", "1/2", 2, 1, "5m", "podinfod,sidecar", "ghcr.io/stefanprodan/podinfo:6.0.0,busybox",
                "app=podinfo",
            ]
        )
        let bare = TableConvertor.builtinCells(resource: "deployments", object: ["metadata": ["name": "d"]], now: now)
        #expect(bare == ["d", "0/1", 0, 0, "<unknown>", "", "", ""])
    }

    @Test(
        "prints pod status the way printPod reasons about containers",
        arguments: [
            (
                #"{"spec":{"containers":[{"name":"app"}],"nodeName":"dev"},"status":{"phase":"Running","podIP":"10.0.0.5","containerStatuses":[{"name":"app","ready":true,"restartCount":0,"state":{"running":{}}}]}}"#,
                ["1/1", "Running", "0", "10.0.0.5", "dev", "<none>", "<none>"]
            ),
            (
                #"{"spec":{"containers":[{"name":"app"}]},"status":{"phase":"Running","containerStatuses":[{"name":"app","ready":false,"restartCount":3,"state":{"waiting":{"reason":"CrashLoopBackOff"}},"lastState":{"terminated":{"exitCode":1,"finishedAt":"2026-01-01T00:04:00Z"}}}]}}"#,
                ["0/1", "CrashLoopBackOff", "3 (60s ago)", "<none>", "<none>", "<none>", "<none>"]
            ),
            (
                #"{"spec":{"initContainers":[{"name":"init"}],"containers":[{"name":"app"}]},"status":{"phase":"Pending","initContainerStatuses":[{"name":"init","restartCount":0,"state":{"running":{}}}],"containerStatuses":[{"name":"app","state":{"waiting":{"reason":"PodInitializing"}}}]}}"#,
                ["0/1", "Init:0/1", "0", "<none>", "<none>", "<none>", "<none>"]
            ),
            (
                #"{"spec":{"initContainers":[{"name":"init"}],"containers":[{"name":"app"}]},"status":{"phase":"Pending","initContainerStatuses":[{"name":"init","restartCount":2,"state":{"terminated":{"exitCode":2}}}]}}"#,
                ["0/1", "Init:ExitCode:2", "2", "<none>", "<none>", "<none>", "<none>"]
            ),
            (
                #"{"spec":{"initContainers":[{"name":"proxy","restartPolicy":"Always"}],"containers":[{"name":"app"}]},"status":{"phase":"Running","conditions":[{"type":"Initialized","status":"True"}],"initContainerStatuses":[{"name":"proxy","started":true,"ready":true,"restartCount":1,"state":{"running":{}}}],"containerStatuses":[{"name":"app","ready":true,"restartCount":0,"state":{"running":{}}}]}}"#,
                ["2/2", "Running", "1", "<none>", "<none>", "<none>", "<none>"]
            ),
            (
                #"{"spec":{"containers":[{"name":"job"}]},"status":{"phase":"Succeeded","containerStatuses":[{"name":"job","ready":false,"state":{"terminated":{"exitCode":0,"reason":"Completed"}}}]}}"#,
                ["0/1", "Completed", "0", "<none>", "<none>", "<none>", "<none>"]
            ),
            (
                #"{"metadata":{"deletionTimestamp":"2026-01-01T00:04:00Z"},"spec":{"containers":[{"name":"app"}]},"status":{"phase":"Running","containerStatuses":[{"name":"app","ready":true,"state":{"running":{}}}]}}"#,
                ["1/1", "Terminating", "0", "<none>", "<none>", "<none>", "<none>"]
            ),
            (
                #"{"spec":{"containers":[{"name":"app"}],"readinessGates":[{"conditionType":"example.com/ready"}]},"status":{"phase":"Running","podIPs":[{"ip":"10.0.0.9"}],"nominatedNodeName":"n2","conditions":[{"type":"example.com/ready","status":"True"}]}}"#,
                ["0/1", "Running", "0", "10.0.0.9", "<none>", "n2", "1/1"]
            ),
            (
                #"{"spec":{"containers":[{"name":"app"}]}}"#,
                ["0/1", "Pending", "0", "<none>", "<none>", "<none>", "<none>"]
            ),
            (
                #"{"spec":{"containers":[{"name":"a"},{"name":"b"}]},"status":{"phase":"Running","containerStatuses":[{"name":"a","restartCount":1,"state":{"waiting":{"reason":"ImagePullBackOff"}}},{"name":"b","restartCount":2,"state":{"waiting":{"reason":"CrashLoopBackOff"}}}]}}"#,
                ["0/2", "ImagePullBackOff", "3", "<none>", "<none>", "<none>", "<none>"]
            ),
        ]
    )
    func pod(body: String, expected: [String]) {
        var object = tableJSON(body)
        object["metadata"] = .object(
            (object["metadata"]?.objectValue ?? [:]).merging(
                ["name": "web", "creationTimestamp": "2026-01-01T00:00:00Z"],
                uniquingKeysWith: { _, new in new }
            )
        )
        let cells = TableConvertor.builtinCells(resource: "pods", object: object, now: now)
        let strings = cells.map { $0.stringValue ?? "?" }
        #expect(strings[0] == "web" && strings[4] == "5m")
        #expect(Array(strings[1...3]) + Array(strings[5...]) == expected)
    }

    @Test(
        "prints services with their type, addresses and ports",
        arguments: [
            (
                #"{"spec":{"clusterIP":"10.96.0.10","clusterIPs":["10.96.0.10"],"ports":[{"port":9898,"protocol":"TCP","targetPort":"http"}],"selector":{"app":"podinfo"}}}"#,
                ["ClusterIP", "10.96.0.10", "<none>", "9898/TCP", "app=podinfo"]
            ),
            (
                #"{"spec":{"type":"NodePort","clusterIP":"10.96.0.11","externalIPs":["192.0.2.1"],"ports":[{"port":80,"nodePort":30080},{"port":443,"protocol":"UDP"}]}}"#,
                ["NodePort", "10.96.0.11", "192.0.2.1", "80:30080/TCP,443/UDP", "<none>"]
            ),
            (
                #"{"spec":{"type":"LoadBalancer","clusterIP":"10.96.0.12","ports":[{"port":80,"protocol":"TCP"}]}}"#,
                ["LoadBalancer", "10.96.0.12", "<pending>", "80/TCP", "<none>"]
            ),
            (
                #"{"spec":{"type":"LoadBalancer","clusterIP":"10.96.0.12","ports":[]},"status":{"loadBalancer":{"ingress":[{"hostname":"b.example"},{"ip":"1.2.3.4"}]}}}"#,
                ["LoadBalancer", "10.96.0.12", "1.2.3.4,b.example", "<none>", "<none>"]
            ),
            (
                #"{"spec":{"type":"ExternalName","externalName":"db.example.com"}}"#,
                ["ExternalName", "<none>", "db.example.com", "<none>", "<none>"]
            ),
        ]
    )
    func service(body: String, expected: [String]) {
        var object = tableJSON(body)
        object["metadata"] = ["name": "podinfo", "creationTimestamp": "2026-01-01T00:00:00Z"]
        let cells = TableConvertor.builtinCells(resource: "services", object: object, now: now)
        #expect(cells[0] == "podinfo" && cells[5] == "5m")
        #expect(Array(cells[1...4]) + [cells[6]] == expected.map { JSONValue.string($0) })
    }

    @Test("prints events with last/first seen, object, source and count")
    func events() {
        let classic = tableJSON(
            """
            {"metadata":{"name":"podinfo.17a","namespace":"prod",\(Self.meta)},
             "involvedObject":{"kind":"Deployment","name":"podinfo","namespace":"prod"},
             "reason":"ScalingReplicaSet","message":"Scaled up replica set podinfo-abc to 2\\n","type":"Normal",
             "source":{"component":"deployment-controller"},
             "firstTimestamp":"2026-01-01T00:01:00Z","lastTimestamp":"2026-01-01T00:04:00Z","count":3}
            """
        )
        #expect(
            TableConvertor.builtinCells(resource: "events", object: classic, now: now) == [
                "60s", "Normal", "ScalingReplicaSet", "deployment/podinfo", "", "deployment-controller",
                "Scaled up replica set podinfo-abc to 2", "4m", 3, "podinfo.17a",
            ]
        )
        let modern = tableJSON(
            """
            {"metadata":{"name":"podinfo.18b","namespace":"prod"},
             "involvedObject":{"kind":"Canary","name":"podinfo","fieldPath":"spec.analysis"},
             "reason":"Synced","message":"Advance podinfo.prod canary weight 20","type":"Warning",
             "firstTimestamp":null,"lastTimestamp":null,"eventTime":"2026-01-01T00:03:19.5Z",
             "reportingComponent":"flagger","reportingInstance":"flagger-1"}
            """
        )
        #expect(
            TableConvertor.builtinCells(resource: "events", object: modern, now: now) == [
                "100s", "Warning", "Synced", "canary/podinfo", "spec.analysis", "flagger, flagger-1",
                "Advance podinfo.prod canary weight 20", "100s", 1, "podinfo.18b",
            ]
        )
        var series = modern
        series["series"] = ["count": 5, "lastObservedTime": "2026-01-01T00:04:50.000000Z"]
        series["involvedObject"] = ["kind": "Node"]
        let cells = TableConvertor.builtinCells(resource: "events", object: series, now: now)
        #expect(cells[0] == "10s" && cells[3] == "node" && cells[8] == 5)
    }

    @Test("prints namespaces, secrets, config maps, service accounts, leases and webhook configurations")
    func simpleResources() {
        func cells(_ resource: String, _ body: String) -> [JSONValue] {
            var object = tableJSON(body)
            object["metadata"] = ["name": "x", "creationTimestamp": "2026-01-01T00:00:00Z"]
            return TableConvertor.builtinCells(resource: resource, object: object, now: now)
        }
        #expect(cells("namespaces", "{}") == ["x", "Active", "5m"])
        #expect(cells("namespaces", #"{"status":{"phase":"Terminating"}}"#) == ["x", "Terminating", "5m"])
        #expect(
            cells("secrets", #"{"type":"kubernetes.io/tls","data":{"tls.crt":"","tls.key":""}}"#) == [
                "x", "kubernetes.io/tls", 2, "5m",
            ]
        )
        #expect(cells("secrets", #"{"data":{"a":"eA=="},"stringData":{"a":"y","b":"z"}}"#) == ["x", "Opaque", 2, "5m"])
        #expect(cells("configmaps", #"{"data":{"a":"1","b":"2"},"binaryData":{"c":"AA=="}}"#) == ["x", 3, "5m"])
        #expect(cells("serviceaccounts", #"{"secrets":[{"name":"token"}]}"#) == ["x", 1, "5m"])
        #expect(cells("serviceaccounts", "{}") == ["x", 0, "5m"])
        #expect(cells("leases", #"{"spec":{"holderIdentity":"fledge-1"}}"#) == ["x", "fledge-1", "5m"])
        #expect(cells("leases", "{}") == ["x", "", "5m"])
        #expect(cells("mutatingwebhookconfigurations", #"{"webhooks":[{"name":"a"},{"name":"b"}]}"#) == ["x", 2, "5m"])
        #expect(cells("validatingwebhookconfigurations", "{}") == ["x", 0, "5m"])
        #expect(cells("replicasets", "{}") == ["x", "5m"])
        #expect(
            TableConvertor.builtinCells(resource: "namespaces", object: ["metadata": ["name": "y"]], now: now)[2]
                == "<unknown>"
        )
    }

    @Test("prints a daemon set's counts, node selector and selector")
    func daemonSet() {
        let object = tableJSON(
            """
            {"metadata":{"name":"agent",\(Self.meta)},
             "spec":{"selector":{"matchLabels":{"app":"agent"}},
                     "template":{"spec":{"nodeSelector":{"kubernetes.io/os":"linux"},
                                         "containers":[{"name":"agent","image":"agent:1"}]}}},
             "status":{"desiredNumberScheduled":3,"currentNumberScheduled":3,"numberReady":2,
                       "updatedNumberScheduled":3,"numberAvailable":2}}
            """
        )
        #expect(
            TableConvertor.builtinCells(resource: "daemonsets", object: object, now: now) == [
                "agent", 3, 3, 2, 3, 2, "kubernetes.io/os=linux", "5m", "agent", "agent:1", "app=agent",
            ]
        )
    }

    @Test("prints HPA references, targets and replica bounds")
    func horizontalPodAutoscaler() {
        let v2 = tableJSON(
            """
            {"metadata":{"name":"podinfo",\(Self.meta)},
             "spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"podinfo"},
                     "minReplicas":2,"maxReplicas":4,
                     "metrics":[{"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":50}}}]},
             "status":{"currentReplicas":2,
                       "currentMetrics":[{"type":"Resource","resource":{"name":"cpu","current":{"averageUtilization":10}}}]}}
            """
        )
        #expect(
            TableConvertor.builtinCells(resource: "horizontalpodautoscalers", object: v2, now: now) == [
                "podinfo", "Deployment/podinfo", "cpu: 10%/50%", "2", 4, 2, "5m",
            ]
        )
        let many = tableJSON(
            """
            {"metadata":{"name":"m"},"spec":{"scaleTargetRef":{"kind":"Deployment","name":"m"},"maxReplicas":3,"metrics":[
              {"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":50}}},
              {"type":"Resource","resource":{"name":"memory","target":{"type":"AverageValue","averageValue":"500Mi"}}},
              {"type":"Pods","pods":{"metric":{"name":"rps"},"target":{"type":"AverageValue","averageValue":"10"}}}]}}
            """
        )
        #expect(
            TableConvertor.builtinCells(resource: "horizontalpodautoscalers", object: many, now: now)[2]
                == "cpu: <unknown>/50%, memory: <unknown>/500Mi + 1 more..."
        )
        let v1 = tableJSON(
            """
            {"metadata":{"name":"old"},"spec":{"scaleTargetRef":{"kind":"Deployment","name":"old"},"maxReplicas":5,
             "targetCPUUtilizationPercentage":70},"status":{"currentReplicas":1,"currentCPUUtilizationPercentage":35}}
            """
        )
        let cells = TableConvertor.builtinCells(resource: "horizontalpodautoscalers", object: v1, now: now)
        #expect(cells[2] == "cpu: 35%/70%" && cells[3] == "1" && cells[4] == 5)
    }

    @Test("prints a CRD's creation time in UTC RFC 3339")
    func customResourceDefinition() {
        let crd = tableJSON(
            #"{"metadata":{"name":"canaries.flagger.app","creationTimestamp":"2026-01-01T01:00:00+01:00"}}"#
        )
        #expect(
            TableConvertor.builtinCells(resource: "customresourcedefinitions", object: crd, now: now) == [
                "canaries.flagger.app", "2026-01-01T00:00:00Z",
            ]
        )
    }
}

@Suite("Table documents")
struct TableDocumentTests {
    static let object = tableJSON(
        """
        {"apiVersion":"flagger.app/v1beta1","kind":"Canary",
         "metadata":{"name":"podinfo","namespace":"prod","uid":"c-1","resourceVersion":"119","labels":{"app":"podinfo"}},
         "spec":{"x":1}}
        """
    )

    @Test("builds a meta.k8s.io/v1 Table with headers and PartialObjectMetadata rows")
    func fullTable() throws {
        let columns = TableConvertor.builtin(resource: "canaries")
        let table = TableConvertor.table(
            columns: columns,
            rows: [(cells: ["podinfo", "5m"], object: Self.object)],
            resourceVersion: "119",
            continue: "token",
            includeHeaders: true
        )
        #expect(table["kind"] == "Table")
        #expect(table["apiVersion"] == "meta.k8s.io/v1")
        #expect(table["metadata"] == ["resourceVersion": "119", "continue": "token"])
        let definitions = try #require(table["columnDefinitions"]?.arrayValue)
        #expect(definitions.count == 2)
        #expect(
            definitions[1] == [
                "name": "Age", "type": "string", "format": "", "description": .string(columns[1].description),
                "priority": 0,
            ]
        )
        let row = try #require(table["rows"]?[0])
        #expect(row["cells"] == ["podinfo", "5m"])
        #expect(
            row["object"] == [
                "kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                "metadata": Self.object["metadata"] ?? .null,
            ]
        )
        #expect(table.serialized().contains(#""format":"","name":"Age","priority":0"#))
    }

    @Test("leaves out headers for later watch events and honours includeObject")
    func variants() {
        let rows: [(cells: [JSONValue], object: JSONValue)] = [(cells: ["podinfo"], object: Self.object)]
        let noHeaders = TableConvertor.table(
            columns: [TableColumn(name: "Name", type: "string", format: "name")],
            rows: rows,
            resourceVersion: "",
            includeHeaders: false
        )
        #expect(noHeaders["columnDefinitions"] == nil)
        #expect(noHeaders["metadata"] == [:])
        #expect(noHeaders["rows"]?[0]?["object"]?["kind"] == "PartialObjectMetadata")
        let bare = TableConvertor.table(
            columns: [],
            rows: rows,
            resourceVersion: "1",
            includeHeaders: true,
            includeObject: .none
        )
        #expect(bare["rows"]?[0]?["object"] == nil)
        let whole = TableConvertor.table(
            columns: [],
            rows: rows,
            resourceVersion: "1",
            includeHeaders: true,
            includeObject: .object
        )
        #expect(whole["rows"]?[0]?["object"] == Self.object)
        let empty = TableConvertor.table(columns: [], rows: [], resourceVersion: "1", includeHeaders: true)
        #expect(empty["rows"] == [])
    }
}

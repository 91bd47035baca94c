import Foundation
import JSONValue
import KubeModels

/// Server-side printing: the `meta.k8s.io/v1` Tables kubectl asks for with
/// `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`.
///
/// Built-in resources follow kubernetes' `pkg/printers/internalversion/printers.go`, printed the way the apiserver
/// prints them (every column, wide ones included; kubectl hides priority > 0 unless `-o wide`). Custom resources
/// follow apiextensions-apiserver's `tableconvertor`. Ages are `HumanDuration` strings; a missing creation time is
/// `<unknown>`.
public enum TableConvertor {
    /// The resources with a printer of their own; anything else gets `Name` and `Age`.
    public static let builtinResources: [String] = [
        "namespaces", "deployments", "pods", "services", "configmaps", "secrets", "events", "serviceaccounts",
        "daemonsets", "leases", "horizontalpodautoscalers", "customresourcedefinitions",
        "mutatingwebhookconfigurations", "validatingwebhookconfigurations",
    ]

    /// Columns for a built-in resource (plural, lower case, e.g. `deployments`), following kubernetes' printers.go
    /// names, types, priorities and wording; unknown resources get `Name` and `Age`.
    public static func builtin(resource: String) -> [TableColumn] {
        let name = TableColumn(name: "Name", type: "string", format: "name", description: ColumnDoc.name)
        let age = TableColumn(name: "Age", type: "string", description: ColumnDoc.creationTimestamp)
        let containers = TableColumn(name: "Containers", type: "string", description: ColumnDoc.containers, priority: 1)
        let images = TableColumn(name: "Images", type: "string", description: ColumnDoc.images, priority: 1)
        func column(_ title: String, _ type: String = "string", _ doc: String, priority: Int = 0) -> TableColumn {
            TableColumn(name: title, type: type, description: doc, priority: priority)
        }
        switch resource {
        case "namespaces":
            return [name, column("Status", "string", "The status of the namespace"), age]
        case "deployments":
            return [
                name, column("Ready", "string", "Number of the pod with ready state"),
                column("Up-to-date", "string", ColumnDoc.deploymentUpdated),
                column("Available", "string", ColumnDoc.deploymentAvailable), age, containers, images,
                column("Selector", "string", ColumnDoc.deploymentSelector, priority: 1),
            ]
        case "pods":
            return [
                name, column("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
                column("Status", "string", "The aggregate status of the containers in this pod."),
                column(
                    "Restarts",
                    "string",
                    "The number of times the containers in this pod have been restarted and when the last container "
                        + "in this pod has restarted."
                ),
                age, column("IP", "string", ColumnDoc.podIP, priority: 1),
                column("Node", "string", ColumnDoc.nodeName, priority: 1),
                column("Nominated Node", "string", ColumnDoc.nominatedNodeName, priority: 1),
                column("Readiness Gates", "string", ColumnDoc.readinessGates, priority: 1),
            ]
        case "services":
            return [
                name, column("Type", "string", ColumnDoc.serviceType),
                column("Cluster-IP", "string", ColumnDoc.clusterIP),
                column("External-IP", "string", ColumnDoc.externalIPs),
                column("Port(s)", "string", ColumnDoc.servicePorts), age,
                column("Selector", "string", ColumnDoc.serviceSelector, priority: 1),
            ]
        case "configmaps":
            return [name, column("Data", "string", ColumnDoc.configMapData), age]
        case "secrets":
            return [
                name, column("Type", "string", ColumnDoc.secretType), column("Data", "string", ColumnDoc.secretData),
                age,
            ]
        case "events":
            return [
                column("Last Seen", "string", ColumnDoc.eventLastSeen), column("Type", "string", ColumnDoc.eventType),
                column("Reason", "string", ColumnDoc.eventReason), column("Object", "string", ColumnDoc.eventObject),
                column("Subobject", "string", ColumnDoc.eventSubobject, priority: 1),
                column("Source", "string", ColumnDoc.eventSource, priority: 1),
                column("Message", "string", ColumnDoc.eventMessage),
                column("First Seen", "string", ColumnDoc.eventFirstSeen, priority: 1),
                column("Count", "string", ColumnDoc.eventCount, priority: 1),
                TableColumn(name: "Name", type: "string", format: "name", description: ColumnDoc.name, priority: 1),
            ]
        case "serviceaccounts":
            return [name, column("Secrets", "string", ColumnDoc.serviceAccountSecrets), age]
        case "daemonsets":
            return [
                name, column("Desired", "integer", ColumnDoc.daemonSetDesired),
                column("Current", "integer", ColumnDoc.daemonSetCurrent),
                column("Ready", "integer", ColumnDoc.daemonSetReady),
                column("Up-to-date", "integer", ColumnDoc.daemonSetUpdated),
                column("Available", "integer", ColumnDoc.daemonSetAvailable),
                column("Node Selector", "string", ColumnDoc.nodeSelector), age, containers, images,
                column("Selector", "string", ColumnDoc.daemonSetSelector, priority: 1),
            ]
        case "leases":
            return [name, column("Holder", "string", ColumnDoc.leaseHolder), age]
        case "horizontalpodautoscalers":
            return [
                name, column("Reference", "string", ColumnDoc.hpaReference),
                column("Targets", "string", ColumnDoc.hpaMetrics),
                column("MinPods", "string", ColumnDoc.hpaMinReplicas),
                column("MaxPods", "string", ColumnDoc.hpaMaxReplicas),
                column("Replicas", "string", ColumnDoc.hpaCurrentReplicas), age,
            ]
        case "customresourcedefinitions":
            return [name, column("Created At", "date", ColumnDoc.creationTimestamp)]
        case "mutatingwebhookconfigurations", "validatingwebhookconfigurations":
            return [name, column("Webhooks", "integer", ColumnDoc.webhooks), age]
        default:
            return [name, age]
        }
    }

    /// The cells of one object of a built-in resource, one per ``builtin(resource:)`` column, wide ones included.
    ///
    /// Defaults the apiserver would have filled in are assumed where the object lacks them (a deployment's one
    /// replica, a service's `ClusterIP` type and `TCP` protocol, a namespace's `Active` phase, a secret's `Opaque`
    /// type, a pod's `Pending` phase).
    public static func builtinCells(resource: String, object: JSONValue, now: Date) -> [JSONValue] {
        let name = JSONValue.string(object["metadata", "name"]?.stringValue ?? "")
        let age = JSONValue.string(ageString(object, now: now))
        switch resource {
        case "namespaces":
            let phase = nonEmpty(object["status", "phase"]) ?? "Active"
            return [name, .string(phase), age]
        case "deployments":
            return deploymentCells(object, name: name, age: age)
        case "pods":
            return PodPrinter.cells(object, now: now)
        case "services":
            return serviceCells(object, name: name, age: age)
        case "configmaps":
            let count = (object["data"]?.objectValue?.count ?? 0) + (object["binaryData"]?.objectValue?.count ?? 0)
            return [name, .int(Int64(count)), age]
        case "secrets":
            let type = nonEmpty(object["type"]) ?? "Opaque"
            var keys = Set(object["data"]?.objectValue?.keys.map { $0 } ?? [])
            keys.formUnion(object["stringData"]?.objectValue?.keys.map { $0 } ?? [])
            return [name, .string(type), .int(Int64(keys.count)), age]
        case "events":
            return eventCells(object, now: now)
        case "serviceaccounts":
            return [name, .int(Int64(object["secrets"]?.arrayValue?.count ?? 0)), age]
        case "daemonsets":
            return daemonSetCells(object, name: name, age: age)
        case "leases":
            return [name, .string(object["spec", "holderIdentity"]?.stringValue ?? ""), age]
        case "horizontalpodautoscalers":
            return HPAPrinter.cells(object, name: name, age: age)
        case "customresourcedefinitions":
            let created = object["metadata", "creationTimestamp"]?.stringValue.flatMap(RFC3339.parse)
            return [name, .string(created.map(RFC3339.format) ?? "0001-01-01T00:00:00Z")]
        case "mutatingwebhookconfigurations", "validatingwebhookconfigurations":
            return [name, .int(Int64(object["webhooks"]?.arrayValue?.count ?? 0)), age]
        default:
            return [name, age]
        }
    }

    /// The printer columns of one entry of a CRD's `spec.versions`, from its `additionalPrinterColumns`.
    ///
    /// A version without any gets the apiserver's default: one `Age` column of type `date` on
    /// `.metadata.creationTimestamp`.
    public static func printerColumns(fromCRDVersion version: JSONValue) -> [PrinterColumn] {
        let columns = (version["additionalPrinterColumns"]?.arrayValue ?? []).compactMap { entry -> PrinterColumn? in
            guard let name = entry["name"]?.stringValue else { return nil }
            return PrinterColumn(
                name: name,
                type: entry["type"]?.stringValue ?? "string",
                format: entry["format"]?.stringValue ?? "",
                description: entry["description"]?.stringValue ?? "",
                priority: Int(entry["priority"]?.intValue ?? 0),
                jsonPath: entry["jsonPath"]?.stringValue ?? entry["JSONPath"]?.stringValue ?? ""
            )
        }
        if !columns.isEmpty { return columns }
        return [
            PrinterColumn(
                name: "Age",
                type: "date",
                description: ColumnDoc.creationTimestamp,
                jsonPath: ".metadata.creationTimestamp"
            )
        ]
    }

    /// The Table columns of a custom resource: `Name` (format `name`) first, then each printer column with its
    /// description, or `Custom resource definition column (in JSONPath format): <path>` when it has none.
    public static func columns(for printerColumns: [PrinterColumn]) -> [TableColumn] {
        var columns = [TableColumn(name: "Name", type: "string", format: "name", description: ColumnDoc.name)]
        for column in printerColumns {
            let description =
                column.description.isEmpty
                ? "Custom resource definition column (in JSONPath format): " + column.jsonPath : column.description
            columns.append(
                TableColumn(
                    name: column.name,
                    type: column.type,
                    format: column.format,
                    description: description,
                    priority: column.priority
                )
            )
        }
        return columns
    }

    /// The cells of one custom resource: its name, then one cell per printer column.
    ///
    /// As apiextensions-apiserver does: only the first value the JSONPath selects is shown; `string` columns hold
    /// the printed value as a string (`"20"`, lists and maps as compact JSON such as `"[10,20]"`); `integer`,
    /// `number` and `boolean` columns hold typed values; `date` columns hold the age of the timestamp (`5m`,
    /// `<invalid>` if unparsable); a path that selects nothing, or a value of the wrong type, gives `null`.
    public static func customCells(_ columns: [PrinterColumn], object: JSONValue, now: Date) -> [JSONValue] {
        var cells: [JSONValue] = [.string(object["metadata", "name"]?.stringValue ?? "")]
        for column in columns {
            guard let path = try? JSONPathExpression(column.jsonPath), let value = path.evaluate(object).first else {
                cells.append(.null)
                continue
            }
            if column.type == "string" {
                cells.append(.string(GoFormat.print(value)))
            } else {
                cells.append(typedCell(column.type, value, now: now))
            }
        }
        return cells
    }

    /// A whole `meta.k8s.io/v1` Table.
    ///
    /// `metadata` carries `resourceVersion` (and `continue` when given); `columnDefinitions` is left out when
    /// `includeHeaders` is false, as for watch events after the first; each row's `object` is a
    /// `PartialObjectMetadata` holding the object's full metadata unless `includeObject` says otherwise.
    public static func table(
        columns: [TableColumn],
        rows: [(cells: [JSONValue], object: JSONValue)],
        resourceVersion: String,
        continue continueToken: String? = nil,
        includeHeaders: Bool,
        includeObject: TableIncludeObject = .metadata
    ) -> JSONValue {
        var metadata: [String: JSONValue] = [:]
        if !resourceVersion.isEmpty { metadata["resourceVersion"] = .string(resourceVersion) }
        if let continueToken, !continueToken.isEmpty { metadata["continue"] = .string(continueToken) }
        var table: [String: JSONValue] = [
            "kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": .object(metadata),
            "rows": .array(
                rows.map { row in
                    var entry: [String: JSONValue] = ["cells": .array(row.cells)]
                    switch includeObject {
                    case .none: break
                    case .metadata: entry["object"] = partialObjectMetadata(of: row.object)
                    case .object: entry["object"] = row.object
                    }
                    return .object(entry)
                }
            ),
        ]
        if includeHeaders { table["columnDefinitions"] = .array(columns.map(\.json)) }
        return .object(table)
    }

    /// `{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{…}}` for an object.
    public static func partialObjectMetadata(of object: JSONValue) -> JSONValue {
        [
            "kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
            "metadata": object["metadata"] ?? .object([:]),
        ]
    }

    // MARK: - Cells

    static func typedCell(_ type: String, _ value: JSONValue, now: Date) -> JSONValue {
        switch (type, value) {
        case ("integer", .int): return value
        case ("integer", .double(let double)):
            guard double.isFinite, Swift.abs(double) < 9.2e18 else { return .null }
            return .int(Int64(double.rounded(.towardZero)))
        case ("number", .int(let int)): return .double(Double(int))
        case ("number", .double): return value
        case ("boolean", .bool): return value
        case ("date", .string(let text)):
            if text.isEmpty || text == "null" { return "<unknown>" }
            guard let date = RFC3339.parse(text) else { return "<invalid>" }
            if date == zeroTime { return "<unknown>" }
            return .string(HumanDuration.string(since: date, now: now))
        default: return .null
        }
    }

    /// Go's zero `time.Time`, which `metav1.Time` treats as unset.
    static let zeroTime = Date(timeIntervalSince1970: Double(RFC3339.daysFromCivil(year: 1, month: 1, day: 1) * 86_400))

    static func nonEmpty(_ value: JSONValue?) -> String? {
        guard let text = value?.stringValue, !text.isEmpty else { return nil }
        return text
    }

    /// `translateTimestampSince`: the age of a timestamp, `<unknown>` when it is missing.
    static func since(_ value: JSONValue?, now: Date) -> String {
        guard let text = nonEmpty(value), let date = RFC3339.parse(text), date != zeroTime else { return "<unknown>" }
        return HumanDuration.string(since: date, now: now)
    }

    static func ageString(_ object: JSONValue, now: Date) -> String {
        since(object["metadata", "creationTimestamp"], now: now)
    }

    static func int(_ value: JSONValue?) -> Int64 { value?.intValue ?? 0 }

    /// `labels.FormatLabels`: `a=b,c=d` sorted by key, or `<none>`.
    static func formatLabels(_ value: JSONValue?) -> String {
        let members = value?.objectValue ?? [:]
        let text = members.keys.sorted(by: GoFormat.byteOrder)
            .map { $0 + "=" + (members[$0]?.stringValue ?? "") }
            .joined(separator: ",")
        return text.isEmpty ? "<none>" : text
    }

    /// `metav1.LabelSelectorAsSelector(sel).String()`, or `nil` when the selector is invalid.
    static func selectorString(_ value: JSONValue?) -> String? {
        guard let value, !value.isNull else { return "" }
        return (try? LabelSelector(json: value))?.description
    }

    /// `layoutContainerCells`: names and images of the template's containers, comma-separated.
    static func containerCells(_ template: JSONValue?) -> (JSONValue, JSONValue) {
        let containers = template?["spec", "containers"]?.arrayValue ?? []
        let names = containers.map { $0["name"]?.stringValue ?? "" }.joined(separator: ",")
        let images = containers.map { $0["image"]?.stringValue ?? "" }.joined(separator: ",")
        return (.string(names), .string(images))
    }

    static func deploymentCells(_ object: JSONValue, name: JSONValue, age: JSONValue) -> [JSONValue] {
        let desired = object["spec", "replicas"]?.intValue ?? 1
        let ready = int(object["status", "readyReplicas"])
        let (names, images) = containerCells(object["spec", "template"])
        return [
            name, .string("\(ready)/\(desired)"), .int(int(object["status", "updatedReplicas"])),
            .int(int(object["status", "availableReplicas"])), age, names, images,
            .string(selectorString(object["spec", "selector"]) ?? "<invalid>"),
        ]
    }

    static func daemonSetCells(_ object: JSONValue, name: JSONValue, age: JSONValue) -> [JSONValue] {
        let status = object["status"]
        let (names, images) = containerCells(object["spec", "template"])
        let selector: String
        if let text = selectorString(object["spec", "selector"]) {
            selector = text.isEmpty ? "<none>" : text
        } else {
            selector = "<error>"
        }
        return [
            name, .int(int(status?["desiredNumberScheduled"])), .int(int(status?["currentNumberScheduled"])),
            .int(int(status?["numberReady"])), .int(int(status?["updatedNumberScheduled"])),
            .int(int(status?["numberAvailable"])),
            .string(formatLabels(object["spec", "template", "spec", "nodeSelector"])),
            age, names, images, .string(selector),
        ]
    }

    static func serviceCells(_ object: JSONValue, name: JSONValue, age: JSONValue) -> [JSONValue] {
        let spec = object["spec"]
        let type = nonEmpty(spec?["type"]) ?? "ClusterIP"
        let clusterIP = nonEmpty(spec?["clusterIPs"]?[0]) ?? nonEmpty(spec?["clusterIP"]) ?? "<none>"
        let externalIPs = (spec?["externalIPs"]?.arrayValue ?? []).compactMap(\.stringValue)
        let external: String
        switch type {
        case "ClusterIP", "NodePort":
            external = externalIPs.isEmpty ? "<none>" : externalIPs.joined(separator: ",")
        case "LoadBalancer":
            var ingress = Set<String>()
            for entry in object["status", "loadBalancer", "ingress"]?.arrayValue ?? [] {
                if let ip = nonEmpty(entry["ip"]) {
                    ingress.insert(ip)
                } else if let hostname = nonEmpty(entry["hostname"]) {
                    ingress.insert(hostname)
                }
            }
            let balancers = ingress.sorted(by: GoFormat.byteOrder)
            if !externalIPs.isEmpty {
                external = (balancers + externalIPs).joined(separator: ",")
            } else {
                external = balancers.isEmpty ? "<pending>" : balancers.joined(separator: ",")
            }
        case "ExternalName":
            external = spec?["externalName"]?.stringValue ?? ""
        default:
            external = "<unknown>"
        }
        let ports = (spec?["ports"]?.arrayValue ?? []).map { port -> String in
            let number = int(port["port"])
            let proto = nonEmpty(port["protocol"]) ?? "TCP"
            let nodePort = int(port["nodePort"])
            return nodePort > 0 ? "\(number):\(nodePort)/\(proto)" : "\(number)/\(proto)"
        }
        let portText = ports.isEmpty ? "<none>" : ports.joined(separator: ",")
        return [
            name, .string(type), .string(clusterIP), .string(external), .string(portText), age,
            .string(formatLabels(spec?["selector"])),
        ]
    }

    static func eventCells(_ event: JSONValue, now: Date) -> [JSONValue] {
        var firstSeen = since(event["firstTimestamp"], now: now)
        if nonEmpty(event["firstTimestamp"]) == nil { firstSeen = since(event["eventTime"], now: now) }
        var lastSeen = since(event["lastTimestamp"], now: now)
        if nonEmpty(event["lastTimestamp"]) == nil { lastSeen = firstSeen }
        var count = int(event["count"])
        if let series = event["series"], !series.isNull {
            lastSeen = since(series["lastObservedTime"], now: now)
            count = int(series["count"])
        } else if count == 0 {
            count = 1
        }
        let kind = (event["involvedObject", "kind"]?.stringValue ?? "").lowercased()
        let target: String
        if let objectName = nonEmpty(event["involvedObject", "name"]) {
            target = kind + "/" + objectName
        } else {
            target = kind
        }
        let component = nonEmpty(event["source", "component"]) ?? event["reportingComponent"]?.stringValue ?? ""
        let instance = nonEmpty(event["source", "host"]) ?? event["reportingInstance"]?.stringValue ?? ""
        let source = instance.isEmpty ? component : component + ", " + instance
        let message = (event["message"]?.stringValue ?? "").trimmingWhitespace()
        return [
            .string(lastSeen), .string(event["type"]?.stringValue ?? ""), .string(event["reason"]?.stringValue ?? ""),
            .string(target), .string(event["involvedObject", "fieldPath"]?.stringValue ?? ""), .string(source),
            .string(message), .string(firstSeen), .int(count), .string(event["metadata", "name"]?.stringValue ?? ""),
        ]
    }
}

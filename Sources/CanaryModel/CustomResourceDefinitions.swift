import JSONValue
import KubeModels

/// The CustomResourceDefinitions Fledge installs (`manifests/crds/`), generated from ``CanarySchema`` so the cluster
/// and the admission gate enforce the same schema.
public enum CustomResourceDefinitions {
    /// Every CRD, with the file name it is written to under `manifests/crds/`.
    public static var all: [(file: String, crd: JSONValue)] {
        [
            ("canary.yaml", canary),
            ("metrictemplate.yaml", metricTemplate),
            ("alertprovider.yaml", alertProvider),
            ("trafficsplit.yaml", trafficSplit),
        ]
    }

    /// What the playground and the tests install: ``all`` plus a minimal Gateway API `HTTPRoute` (v1 and v1beta1,
    /// spec kept as written) so the `gatewayapi` providers work without the upstream Gateway API CRDs. Real clusters
    /// install those from the Gateway API project (Linkerd ships them).
    public static var playground: [JSONValue] { all.map(\.crd) + [httpRoute] }

    /// A minimal `httproutes.gateway.networking.k8s.io`: the spec is kept as written, without the upstream schema.
    public static var httpRoute: JSONValue {
        let schema = StructuralSchema.object([
            "apiVersion": .string(), "kind": .string(), "metadata": .objectMeta(),
            "spec": .freeForm("Gateway API HTTPRouteSpec (kept as written)"),
            "status": .freeForm(),
        ])
        let columns = [column("Hostnames", "string", ".spec.hostnames")]
        return definition(
            group: "gateway.networking.k8s.io",
            kind: "HTTPRoute",
            plural: "httproutes",
            singular: "httproute",
            categories: ["gateway-api"],
            versions: [
                version("v1", schema: schema, storage: true, columns: columns),
                version("v1beta1", schema: schema, storage: false, columns: columns),
            ]
        )
    }

    static func column(_ name: String, _ type: String, _ path: String, priority: Int = 0) -> JSONValue {
        var column: JSONValue = ["name": .string(name), "type": .string(type), "jsonPath": .string(path)]
        if priority > 0 { column["priority"] = .int(Int64(priority)) }
        return column
    }

    static func definition(
        group: String,
        kind: String,
        plural: String,
        singular: String,
        shortNames: [String] = [],
        categories: [String] = ["all"],
        versions: [JSONValue]
    ) -> JSONValue {
        var names: JSONValue = [
            "kind": .string(kind),
            "listKind": .string(kind + "List"),
            "plural": .string(plural),
            "singular": .string(singular),
        ]
        if !shortNames.isEmpty { names["shortNames"] = .array(shortNames.map { .string($0) }) }
        if !categories.isEmpty { names["categories"] = .array(categories.map { .string($0) }) }
        return [
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": ["name": .string("\(plural).\(group)")],
            "spec": [
                "group": .string(group),
                "names": names,
                "scope": "Namespaced",
                "versions": .array(versions),
            ],
        ]
    }

    static func version(
        _ name: String,
        schema: StructuralSchema,
        storage: Bool = true,
        columns: [JSONValue],
        statusSubresource: Bool = true
    ) -> JSONValue {
        var version: JSONValue = [
            "name": .string(name),
            "served": true,
            "storage": .bool(storage),
            "schema": ["openAPIV3Schema": schema.json],
            "additionalPrinterColumns": .array(columns),
        ]
        if statusSubresource { version["subresources"] = ["status": [:]] }
        return version
    }

    /// `canaries.flagger.app`, with Flagger's printer columns.
    public static var canary: JSONValue {
        definition(
            group: "flagger.app",
            kind: "Canary",
            plural: "canaries",
            singular: "canary",
            versions: [
                version(
                    "v1beta1",
                    schema: CanarySchema.canary,
                    columns: [
                        column("Status", "string", ".status.phase"),
                        column("Weight", "string", ".status.canaryWeight"),
                        column("Suspended", "boolean", ".spec.suspend", priority: 1),
                        column("FailedChecks", "string", ".status.failedChecks", priority: 1),
                        column("Interval", "string", ".spec.analysis.interval", priority: 1),
                        column("Mirror", "boolean", ".spec.analysis.mirror", priority: 1),
                        column("StepWeight", "string", ".spec.analysis.stepWeight", priority: 1),
                        column("StepWeights", "string", ".spec.analysis.stepWeights", priority: 1),
                        column("MaxWeight", "string", ".spec.analysis.maxWeight", priority: 1),
                        column("LastTransitionTime", "string", ".status.lastTransitionTime"),
                        // Not in Flagger: why the release waits or stands where it does (the Promoted condition).
                        column("Message", "string", #".status.conditions[?(@.type=="Promoted")].message"#),
                    ]
                )
            ]
        )
    }

    /// `metrictemplates.flagger.app`.
    public static var metricTemplate: JSONValue {
        definition(
            group: "flagger.app",
            kind: "MetricTemplate",
            plural: "metrictemplates",
            singular: "metrictemplate",
            versions: [
                version(
                    "v1beta1",
                    schema: CanarySchema.metricTemplate,
                    columns: [column("Provider", "string", ".spec.provider.type")]
                )
            ]
        )
    }

    /// `alertproviders.flagger.app`.
    public static var alertProvider: JSONValue {
        definition(
            group: "flagger.app",
            kind: "AlertProvider",
            plural: "alertproviders",
            singular: "alertprovider",
            versions: [
                version(
                    "v1beta1",
                    schema: CanarySchema.alertProvider,
                    columns: [column("Type", "string", ".spec.type")]
                )
            ]
        )
    }

    static func trafficSplitSchema(weight: StructuralSchema, matches: Bool) -> StructuralSchema {
        var specProperties: [(String, StructuralSchema)] = [
            ("service", .string("The apex service of this split.")),
            (
                "backends",
                .array(
                    of: StructuralSchema(
                        type: .object,
                        properties: [("service", .string()), ("weight", weight)],
                        required: ["service", "weight"]
                    ),
                    maxItems: 64
                )
            ),
        ]
        if matches {
            specProperties.append(
                (
                    "matches",
                    .array(
                        of: StructuralSchema(
                            type: .object,
                            properties: [
                                ("apiGroup", .string()), ("kind", .string(enum: ["HTTPRouteGroup"])),
                                ("name", .string()),
                            ],
                            required: ["kind", "name"]
                        ),
                        maxItems: 64
                    )
                )
            )
        }
        return StructuralSchema(
            type: .object,
            properties: [
                ("apiVersion", .string()), ("kind", .string()), ("metadata", .objectMeta()),
                (
                    "spec",
                    StructuralSchema(type: .object, properties: specProperties, required: ["service", "backends"])
                ),
            ]
        )
    }

    /// `trafficsplits.split.smi-spec.io` (v1alpha1 with quantity weights as storage, v1alpha2 and v1alpha3 with
    /// integer weights), for clusters without linkerd-smi.
    public static var trafficSplit: JSONValue {
        let columns = [column("Service", "string", ".spec.service")]
        return definition(
            group: "split.smi-spec.io",
            kind: "TrafficSplit",
            plural: "trafficsplits",
            singular: "trafficsplit",
            shortNames: ["ts"],
            categories: [],
            versions: [
                version(
                    "v1alpha1",
                    schema: trafficSplitSchema(weight: .intOrString(), matches: false),
                    storage: true,
                    columns: columns,
                    statusSubresource: false
                ),
                version(
                    "v1alpha2",
                    schema: trafficSplitSchema(weight: .integer(minimum: 0), matches: false),
                    storage: false,
                    columns: columns,
                    statusSubresource: false
                ),
                version(
                    "v1alpha3",
                    schema: trafficSplitSchema(weight: .integer(minimum: 0), matches: true),
                    storage: false,
                    columns: columns,
                    statusSubresource: false
                ),
            ]
        )
    }
}

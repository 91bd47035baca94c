import JSONValue
import KubeModels

/// The OpenAPI v3 schemas of Fledge's CustomResourceDefinitions, the single source for the CRD manifests and for the
/// structural half of validation.
///
/// They accept every Canary Flagger 1.44's CRD accepts that Fledge can drive, and are stricter where Flagger's is
/// loose: counts and weights are integers, not numbers.
public enum CanarySchema {
    static let durationPattern = "^[0-9]+(m|s)"
    static let durationMeaning = "a duration in seconds or minutes such as 30s, 1m or 1m30s"
    static let dns1123Label = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
    static let kindPattern = "^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$"

    static let stringMap = StructuralSchema.map(of: .string())
    static let customMetadata = StructuralSchema.object([
        "labels": stringMap,
        "annotations": stringMap,
    ])

    /// `{exact|prefix|regex}` string matches, at most one of them (Istio `StringMatch`).
    static func stringMatch(withSuffix: Bool = false) -> StructuralSchema {
        var properties: [(String, StructuralSchema)] = [("exact", .string()), ("prefix", .string())]
        if withSuffix { properties.append(("suffix", .string())) }
        properties.append(("regex", .string()))
        return StructuralSchema(type: .object, properties: properties, maxProperties: 1)
    }

    static let objectReference = StructuralSchema.object(
        required: ["apiVersion", "kind", "name"],
        [
            "apiVersion": .string(),
            "kind": .string(),
            "name": .string(),
        ]
    )

    static func reference(kinds: [String], namespaced: Bool = false) -> StructuralSchema {
        var properties: [(String, StructuralSchema)] = [
            ("apiVersion", .string()), ("kind", .string(enum: kinds)), ("name", .string()),
        ]
        if namespaced { properties.append(("namespace", .string())) }
        return StructuralSchema(type: .object, properties: properties, required: ["apiVersion", "kind", "name"])
    }

    static let nameReference = StructuralSchema.object(
        required: ["name"],
        [
            "name": .string(),
            "namespace": .string(),
        ]
    )

    static let headerOperations = StructuralSchema.object([
        "add": stringMap,
        "set": stringMap,
        "remove": .array(of: .string(), maxItems: 64),
    ])

    static let gatewayReference = StructuralSchema.object(
        required: ["name"],
        [
            "group": .string(maxLength: 253),
            "kind": .string(pattern: kindPattern, minLength: 1, maxLength: 63),
            "name": .string(minLength: 1, maxLength: 253),
            "namespace": .string(pattern: dns1123Label, minLength: 1, maxLength: 63),
            "sectionName": .string(minLength: 1, maxLength: 253),
            "port": .integer(minimum: 1, maximum: 65535, format: "int32"),
        ]
    )

    /// Istio's `HTTPMatchRequest`, as Flagger's CRD types it.
    static let httpMatchRequest = StructuralSchema.object([
        "name": .string(),
        "uri": stringMatch(),
        "scheme": stringMatch(),
        "method": stringMatch(),
        "authority": stringMatch(),
        "headers": .map(of: stringMatch()),
        "queryParams": .map(of: stringMatch()),
        "withoutHeaders": .map(of: stringMatch()),
        "ignoreUriCase": .boolean(),
        "port": .integer(minimum: 1, maximum: 65535, format: "int32"),
        "gateways": .array(of: .string(), maxItems: 64),
        "sourceLabels": stringMap,
        "sourceNamespace": .string(),
    ])

    /// A Gateway API mirror target (`service.mirror[]`).
    static let mirror = StructuralSchema.object(
        required: ["backendRef"],
        [
            "backendRef": .object(
                required: ["name"],
                [
                    "group": .string(maxLength: 253),
                    "kind": .string(pattern: kindPattern, minLength: 1, maxLength: 63),
                    "name": .string(minLength: 1, maxLength: 253),
                    "namespace": .string(pattern: dns1123Label, minLength: 1, maxLength: 63),
                    "port": .integer(minimum: 1, maximum: 65535, format: "int32"),
                ]
            )
        ]
    )

    static let corsPolicy = StructuralSchema.object([
        "allowOrigin": .array(of: .string(), maxItems: 64),
        "allowOrigins": .array(of: stringMatch(), maxItems: 64),
        "allowMethods": .array(of: .string(), maxItems: 64),
        "allowHeaders": .array(of: .string(), maxItems: 64),
        "exposeHeaders": .array(of: .string(), maxItems: 64),
        "maxAge": .string(),
        "allowCredentials": .boolean(),
    ])

    static let int32 = StructuralSchema.integer(format: "int32")

    /// Istio's `TrafficPolicy`, as Flagger's CRD types it.
    static let trafficPolicy = StructuralSchema.object([
        "connectionPool": .object([
            "http": .object([
                "h2UpgradePolicy": .string(enum: ["DEFAULT", "DO_NOT_UPGRADE", "UPGRADE"]),
                "http1MaxPendingRequests": int32,
                "http2MaxRequests": int32,
                "maxRequestsPerConnection": int32,
                "maxRetries": int32,
                "idleTimeout": .string(),
            ])
        ]),
        "loadBalancer": .object([
            "simple": .string(enum: ["ROUND_ROBIN", "LEAST_CONN", "RANDOM", "PASSTHROUGH", "LEAST_REQUEST"]),
            "consistentHash": StructuralSchema(
                type: .object,
                properties: [
                    ("httpHeaderName", .string()),
                    (
                        "httpCookie",
                        .object(["name": .string(), "path": .string(), "ttl": .string()])
                    ),
                    ("useSourceIp", .boolean()),
                    ("httpQueryParameterName", .string()),
                    ("minimumRingSize", .integer(minimum: 0)),
                ]
            ),
            "localityLbSetting": .object([
                "distribute": .array(
                    of: .object(["from": .string(), "to": .map(of: .integer(minimum: 0))]),
                    maxItems: 64
                ),
                "failover": .array(of: .object(["from": .string(), "to": .string()]), maxItems: 64),
                "enabled": .boolean(),
            ]),
            "warmupDurationSecs": .string(),
        ]),
        "outlierDetection": .object([
            "consecutiveErrors": int32,
            "consecutive5xxErrors": .integer(minimum: 0),
            "consecutiveGatewayErrors": int32,
            "consecutiveLocalOriginFailures": int32,
            "splitExternalLocalOriginErrors": .boolean(),
            "interval": .string(),
            "baseEjectionTime": .string(),
            "maxEjectionPercent": int32,
            "minHealthPercent": int32,
        ]),
        "tls": .object([
            "mode": .string(enum: ["DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"]),
            "clientCertificate": .string(),
            "privateKey": .string(),
            "caCertificates": .string(),
            "subjectAltNames": .array(of: .string(), maxItems: 64),
            "sni": .string(),
        ]),
    ])

    static let service = StructuralSchema.object(
        "The services and routing the controller creates for the release.",
        required: ["port"],
        [
            "name": .string("Apex service name; defaults to targetRef.name."),
            "port": .integer("Container port the services expose.", minimum: 1, maximum: 65535, format: "int32"),
            "portName": .string(),
            "targetPort": .intOrString(),
            "appProtocol": .string(),
            "portDiscovery": .boolean(),
            "headless": .boolean(),
            "trafficDistribution": .string(enum: ["PreferClose", "PreferSameZone", "PreferSameNode"]),
            "timeout": .string(),
            "backendTimeout": .string(),
            "meshName": .string(),
            "backends": .array(of: .string(), maxItems: 64),
            "hosts": .array(of: .string(), maxItems: 64),
            "gateways": .array(of: .string(), maxItems: 64),
            "delegation": .boolean(),
            "gatewayRefs": .array(of: gatewayReference, maxItems: 32),
            "match": .array(of: httpMatchRequest, maxItems: 64),
            "retries": .object([
                "attempts": .integer(format: "int32"),
                "perTryTimeout": .string(),
                "retryOn": .string(),
            ]),
            "rewrite": .object([
                "uri": .string(),
                "authority": .string(),
                "type": .string(),
            ]),
            "mirror": .array(of: mirror, maxItems: 16),
            "headers": .object([
                "request": headerOperations,
                "response": headerOperations,
            ]),
            "corsPolicy": corsPolicy,
            "trafficPolicy": trafficPolicy,
            "apex": customMetadata,
            "primary": customMetadata,
            "canary": customMetadata,
            "unmanagedMetadata": .object([
                "annotations": .array(of: .string(), maxItems: 64),
                "labels": .array(of: .string(), maxItems: 64),
            ]),
        ]
    )

    static let metric = StructuralSchema.object(
        required: ["name"],
        [
            "name": .string(),
            "interval": .string(pattern: durationPattern, patternDescription: durationMeaning),
            "threshold": .number("Deprecated: use thresholdRange."),
            "thresholdRange": .object([
                "min": .number(),
                "max": .number(),
            ]),
            "query": .string(),
            "templateRef": nameReference,
            "templateVariables": stringMap,
        ]
    )

    /// The webhook types Flagger calls, plus `""` (meaning `rollout`).
    public static let webhookTypes = [""] + WebhookType.allCases.map(\.rawValue)

    /// Alert severities, plus `""` (meaning `info`).
    public static let alertSeverities = [""] + AlertSeverity.allCases.map(\.rawValue)

    static let webhook = StructuralSchema.object(
        required: ["name", "url"],
        [
            "name": .string(),
            "type": .string(enum: webhookTypes),
            "url": .string(format: "url"),
            "timeout": .string(pattern: durationPattern, patternDescription: durationMeaning),
            "muteAlert": .boolean(),
            "retries": .integer(minimum: 0),
            "disableTLS": .boolean(),
            "metadata": stringMap,
        ]
    )

    static let alert = StructuralSchema.object(
        required: ["name", "providerRef"],
        [
            "name": .string(),
            "severity": .string(enum: alertSeverities),
            "providerRef": nameReference,
        ]
    )

    static let analysisShapes: JSONValue = [
        "oneOf": [
            ["required": ["interval", "threshold", "iterations"]],
            ["required": ["interval", "threshold", "stepWeight"]],
            ["required": ["interval", "threshold", "stepWeights"]],
        ]
    ]

    static let analysis = StructuralSchema.object(
        "How traffic moves to the canary and what is checked at each step.",
        renderedOnly: analysisShapes.objectValue!,
        [
            "interval": .string(
                "Time between steps, a Go duration such as 1m.",
                pattern: durationPattern,
                patternDescription: durationMeaning
            ),
            "iterations": .integer(minimum: 0),
            "threshold": .integer("Failed checks tolerated before rollback.", minimum: 0),
            "maxWeight": .integer(minimum: 0, maximum: 100),
            "stepWeight": .integer(minimum: 0, maximum: 100),
            "stepWeights": .array(of: .integer(minimum: 0, maximum: 100), maxItems: 100),
            "stepWeightPromotion": .integer(minimum: 0, maximum: 100),
            "mirror": .boolean(),
            "mirrorWeight": .integer(minimum: 0, maximum: 100),
            "primaryReadyThreshold": .integer(minimum: 0, maximum: 100),
            "canaryReadyThreshold": .integer(minimum: 0, maximum: 100),
            "match": .array(
                of: .object([
                    "headers": .map(of: stringMatch(withSuffix: true)),
                    "queryParams": .map(of: stringMatch()),
                    "sourceLabels": stringMap,
                ]),
                maxItems: 64
            ),
            "metrics": .array(of: metric, maxItems: 64),
            "webhooks": .array(of: webhook, maxItems: 64),
            "alerts": .array(of: alert, maxItems: 64),
            "sessionAffinity": .object(
                required: ["cookieName"],
                [
                    "cookieName": .string(),
                    "primaryCookieName": .string(),
                    "domain": .string(),
                    "httpOnly": .boolean(),
                    "maxAge": .integer(minimum: 0),
                    "partitioned": .boolean(),
                    "path": .string(),
                    "sameSite": .string(enum: ["Strict", "Lax", "None"]),
                    "secure": .boolean(),
                ]
            ),
        ]
    )

    /// Every provider name Flagger's CRD knows; ``CanaryValidator`` refuses those Fledge does not drive.
    public static let flaggerProviders = [
        "apisix", "appmesh", "appmesh:v1beta2", "contour", "gatewayapi:v1", "gatewayapi:v1beta1", "gloo", "istio",
        "knative", "kubernetes", "kuma", "linkerd", "nginx", "osm", "skipper", "smi:v1alpha1", "smi:v1alpha2",
        "smi:v1alpha3", "traefik",
    ]

    static let phases = [""] + CanaryPhase.allCases.map(\.rawValue)

    static let status = StructuralSchema.object(
        "Written by the controller.",
        [
            "phase": .string(enum: phases),
            "failedChecks": .integer(),
            "canaryWeight": .integer(),
            "iterations": .integer(),
            "previousIterations": .integer(),
            "trackedConfigs": stringMap,
            "lastAppliedSpec": .string(),
            "lastPromotedSpec": .string(),
            "lastTrackedRevision": .string(),
            "lastTransitionTime": .string(format: "date-time"),
            "observedGeneration": .integer(format: "int64"),
            "sessionAffinityCookie": .string(),
            "primarySessionAffinityCookie": .string(),
            "previousSessionAffinityCookie": .string(),
            "conditions": .array(
                of: .object(
                    required: ["type", "status"],
                    [
                        "type": .string(),
                        "status": .string(),
                        "reason": .string(),
                        "message": .string(),
                        "lastUpdateTime": .string(format: "date-time"),
                        "lastTransitionTime": .string(format: "date-time"),
                    ]
                ),
                maxItems: 16
            ),
        ]
    )

    /// The Canary's `openAPIV3Schema`.
    public static let canary = StructuralSchema.object(
        required: ["spec"],
        [
            "apiVersion": .string(),
            "kind": .string(),
            "metadata": .objectMeta(),
            "spec": .object(
                required: ["targetRef", "analysis"],
                [
                    "provider": .string("Traffic provider; the controller's --default-provider when empty."),
                    "metricsServer": .string("Prometheus address overriding the controller's default."),
                    "targetRef": reference(kinds: ["Deployment", "DaemonSet"]),
                    "autoscalerRef": .object(
                        required: ["apiVersion", "kind", "name"],
                        [
                            "apiVersion": .string(),
                            "kind": .string(enum: ["HorizontalPodAutoscaler", "ScaledObject"]),
                            "name": .string(),
                            "primaryScalerQueries": stringMap,
                            "primaryScalerReplicas": .object([
                                "minReplicas": .integer(minimum: 1, format: "int32"),
                                "maxReplicas": .integer(minimum: 1, format: "int32"),
                            ]),
                        ]
                    ),
                    "ingressRef": reference(kinds: ["Ingress"]),
                    "routeRef": reference(kinds: ["ApisixRoute"]),
                    "upstreamRef": reference(kinds: ["Upstream"], namespaced: true),
                    "service": service,
                    "analysis": analysis,
                    "progressDeadlineSeconds": .integer(minimum: 0, format: "int32"),
                    "skipAnalysis": .boolean(),
                    "revertOnDeletion": .boolean(),
                    "suspend": .boolean(),
                ]
            ),
            "status": status,
        ]
    )

    /// The MetricTemplate's `openAPIV3Schema`.
    public static let metricTemplate = StructuralSchema.object(
        required: ["spec"],
        [
            "apiVersion": .string(),
            "kind": .string(),
            "metadata": .objectMeta(),
            "spec": .object(
                required: ["provider", "query"],
                [
                    "provider": .object(
                        required: ["type"],
                        [
                            "type": .string(enum: [
                                "prometheus", "influxdb", "datadog", "externalmetrics", "stackdriver", "cloudwatch",
                                "newrelic", "graphite", "dynatrace", "keptn", "splunk",
                            ]),
                            "address": .string(),
                            "region": .string(),
                            "insecureSkipVerify": .boolean(),
                            "headers": .map(of: .array(of: .string(), maxItems: 64)),
                            "secretRef": .object(required: ["name"], ["name": .string()]),
                        ]
                    ),
                    "query": .string(),
                ]
            ),
            "status": .freeForm(),
        ]
    )

    /// The AlertProvider's `openAPIV3Schema`.
    public static let alertProvider = StructuralSchema.object(
        required: ["spec"],
        [
            "apiVersion": .string(),
            "kind": .string(),
            "metadata": .objectMeta(),
            "spec": .object(
                required: ["type"],
                renderedOnly: [
                    "oneOf": [["required": ["type", "address"]], ["required": ["type", "secretRef"]]]
                ],
                [
                    "type": .string(enum: ["slack", "msteams", "discord", "rocket", "gchat"]),
                    "channel": .string(),
                    "username": .string(),
                    "address": .string(),
                    "proxy": .string(),
                    "secretRef": .object(required: ["name"], ["name": .string()]),
                ]
            ),
            "status": .freeForm(),
        ]
    )
}

import JSONValue
import KubeModels

// Direct readers for the types the admission gate decodes on every review (see `JSONObjectDecodable`). Each reads
// exactly the members its `CodingKeys` lists; `JSONValueDecoder` keeps the rest in `unknownFields`.

extension Canary: JSONObjectDecodable {
    public init(reading object: JSONObjectReader) throws {
        apiVersion = try object.optional("apiVersion")
        kind = try object.optional("kind")
        metadata = try object.required("metadata")
        spec = try object.required("spec")
        status = try object.optional("status")
    }
}

extension CanarySpec: JSONObjectDecodable {
    public init(reading object: JSONObjectReader) throws {
        provider = try object.optional("provider")
        metricsServer = try object.optional("metricsServer")
        targetRef = try object.required("targetRef")
        ingressRef = try object.optional("ingressRef")
        routeRef = try object.optional("routeRef")
        upstreamRef = try object.optional("upstreamRef")
        autoscalerRef = try object.optional("autoscalerRef")
        service = try object.optional("service")
        analysis = try object.optional("analysis")
        canaryAnalysis = try object.optional("canaryAnalysis")
        progressDeadlineSeconds = try object.optional("progressDeadlineSeconds")
        skipAnalysis = try object.optional("skipAnalysis")
        revertOnDeletion = try object.optional("revertOnDeletion")
        suspend = try object.optional("suspend")
    }
}

extension LocalObjectReference: JSONObjectDecodable {
    public init(reading object: JSONObjectReader) throws {
        apiVersion = try object.optional("apiVersion")
        kind = try object.optional("kind")
        name = try object.required("name")
    }
}

extension CanaryService: JSONObjectDecodable {
    public init(reading object: JSONObjectReader) throws {
        name = try object.optional("name")
        port = try object.optional("port")
        portName = try object.optional("portName")
        targetPort = try object.optional("targetPort")
        appProtocol = try object.optional("appProtocol")
        portDiscovery = try object.optional("portDiscovery")
        timeout = try object.optional("timeout")
        hosts = try object.optional("hosts")
        gateways = try object.optional("gateways")
        gatewayRefs = try object.optional("gatewayRefs")
        delegation = try object.optional("delegation")
        trafficPolicy = try object.optional("trafficPolicy")
        match = try object.optional("match")
        rewrite = try object.optional("rewrite")
        retries = try object.optional("retries")
        headers = try object.optional("headers")
        mirror = try object.optional("mirror")
        corsPolicy = try object.optional("corsPolicy")
        backends = try object.optional("backends")
        apex = try object.optional("apex")
        primary = try object.optional("primary")
        canary = try object.optional("canary")
    }
}

extension CanaryAnalysis: JSONObjectDecodable {
    public init(reading object: JSONObjectReader) throws {
        interval = try object.optional("interval")
        iterations = try object.optional("iterations")
        mirror = try object.optional("mirror")
        mirrorWeight = try object.optional("mirrorWeight")
        maxWeight = try object.optional("maxWeight")
        stepWeight = try object.optional("stepWeight")
        stepWeights = try object.optional("stepWeights")
        stepWeightPromotion = try object.optional("stepWeightPromotion")
        threshold = try object.optional("threshold")
        primaryReadyThreshold = try object.optional("primaryReadyThreshold")
        canaryReadyThreshold = try object.optional("canaryReadyThreshold")
        alerts = try object.optional("alerts")
        metrics = try object.optional("metrics")
        webhooks = try object.optional("webhooks")
        match = try object.optional("match")
        sessionAffinity = try object.optional("sessionAffinity")
    }
}

extension CanaryMetric: JSONObjectDecodable {
    public init(reading object: JSONObjectReader) throws {
        name = try object.required("name")
        interval = try object.optional("interval")
        threshold = try object.optional("threshold")
        thresholdRange = try object.optional("thresholdRange")
        query = try object.optional("query")
        templateRef = try object.optional("templateRef")
        templateVariables = try object.optional("templateVariables")
    }
}

extension ThresholdRange: JSONObjectDecodable {
    public init(reading object: JSONObjectReader) throws {
        min = try object.optional("min")
        max = try object.optional("max")
    }
}

extension CrossNamespaceReference: JSONObjectDecodable {
    public init(reading object: JSONObjectReader) throws {
        name = try object.required("name")
        namespace = try object.optional("namespace")
    }
}

extension CanaryWebhook: JSONObjectDecodable {
    public init(reading object: JSONObjectReader) throws {
        name = try object.required("name")
        type = try object.optional("type")
        url = try object.required("url")
        timeout = try object.optional("timeout")
        muteAlert = try object.optional("muteAlert")
        retries = try object.optional("retries")
        disableTLS = try object.optional("disableTLS")
        metadata = try object.optional("metadata")
    }
}

extension CanaryAlert: JSONObjectDecodable {
    public init(reading object: JSONObjectReader) throws {
        name = try object.required("name")
        severity = try object.optional("severity")
        providerRef = try object.required("providerRef")
    }
}

extension CanaryStatus: JSONObjectDecodable {
    public init(reading object: JSONObjectReader) throws {
        phase = try object.optional("phase")
        failedChecks = try object.optional("failedChecks")
        canaryWeight = try object.optional("canaryWeight")
        iterations = try object.optional("iterations")
        previousIterations = try object.optional("previousIterations")
        trackedConfigs = try object.optional("trackedConfigs")
        lastAppliedSpec = try object.optional("lastAppliedSpec")
        lastPromotedSpec = try object.optional("lastPromotedSpec")
        lastTransitionTime = try object.optional("lastTransitionTime")
        conditions = try object.optional("conditions")
        observedGeneration = try object.optional("observedGeneration")
    }
}

extension CanaryCondition: JSONObjectDecodable {
    public init(reading object: JSONObjectReader) throws {
        type = try object.required("type")
        status = try object.required("status")
        lastUpdateTime = try object.optional("lastUpdateTime")
        lastTransitionTime = try object.optional("lastTransitionTime")
        reason = try object.optional("reason")
        message = try object.optional("message")
    }
}

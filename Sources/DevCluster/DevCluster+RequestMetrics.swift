import Foundation
import Synchronization

/// The labels kube-apiserver puts on `apiserver_request_total`.
struct RequestMetricLabels: Hashable {
    var verb: String
    var dryRun: String
    var group: String
    var version: String
    var resource: String
    var subresource: String
    var scope: String
    var code: Int

    /// The labels in exposition order (alphabetical, as kube-apiserver prints them).
    var pairs: [(String, String)] {
        [
            ("code", String(code)), ("component", "apiserver"), ("dry_run", dryRun), ("group", group),
            ("resource", resource), ("scope", scope), ("subresource", subresource), ("verb", verb),
            ("version", version),
        ]
    }
}

extension DevCluster {
    /// At most this many label sets are kept; further ones are counted under `resource="other"`, so clients asking
    /// for made-up paths cannot grow the table without bound.
    static let maximumRequestSeries = 4096

    /// The labels of one answered request, cleaned as kube-apiserver cleans them: `LIST`/`WATCH`/`APPLY`/
    /// `DELETECOLLECTION` verbs, `scope` of `resource`, `namespace` or `cluster`, and the path as `subresource` for
    /// non-resource requests (discovery, OpenAPI, health).
    func requestMetricLabels(_ target: APITarget?, _ request: APIRequest, code: Int) -> RequestMetricLabels {
        let knownMethods: Set<String> = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
        var labels = RequestMetricLabels(
            verb: knownMethods.contains(request.method) ? request.method : "other",
            dryRun: request.isDryRun ? "All" : "",
            group: "",
            version: "",
            resource: "",
            subresource: "",
            scope: "",
            code: code
        )
        switch target {
        case .resource(let path):
            guard let type = registry.lookup(group: path.group, version: path.version, resource: path.resource) else {
                labels.subresource = "other"
                return labels
            }
            labels.group = type.group
            labels.version = type.version
            labels.resource = type.resource
            labels.subresource = path.subresource ?? ""
            labels.scope =
                path.name != nil ? "resource" : (type.namespaced && path.namespace != nil ? "namespace" : "cluster")
            let watch = request.query["watch"] == "true" || request.query["watch"] == "1"
            switch (request.method, path.name) {
            case ("GET", _) where watch: labels.verb = "WATCH"
            case ("GET", nil): labels.verb = "LIST"
            case ("DELETE", nil): labels.verb = "DELETECOLLECTION"
            case ("PATCH", _) where request.contentType == "application/apply-patch+yaml": labels.verb = "APPLY"
            default: break
            }
        case .version: labels.subresource = "/version"
        case .health(let name): labels.subresource = "/\(name)"
        case .apiVersions: labels.subresource = "/api"
        case .apiGroupList, .apiGroup: labels.subresource = "/apis"
        case .resourceList(let group, _): labels.subresource = group.isEmpty ? "/api" : "/apis"
        case .openAPIV3Root, .openAPIV3: labels.subresource = "/openapi/v3"
        case .openAPIV2: labels.subresource = "/openapi/v2"
        case .metrics: labels.subresource = "/metrics"
        case nil: labels.subresource = "other"
        }
        return labels
    }

    func countRequest(_ target: APITarget?, _ request: APIRequest, code: Int) {
        var labels = requestMetricLabels(target, request, code: code)
        requestCounts.withLock { counts in
            if counts[labels] == nil, counts.count >= Self.maximumRequestSeries {
                labels = RequestMetricLabels(
                    verb: labels.verb,
                    dryRun: "",
                    group: "",
                    version: "",
                    resource: "other",
                    subresource: "",
                    scope: "",
                    code: code
                )
            }
            let count = counts[labels, default: 0]
            counts[labels] = count == Int.max ? count : count + 1
        }
    }

    /// `apiserver_request_total` in Prometheus text exposition format, one line per label set, in a stable order.
    public func requestMetricsExposition() -> String {
        let counts = requestCounts.withLock { $0 }
        var text = """
            # HELP apiserver_request_total Requests the API server answered, by verb, dry run, group, version, \
            resource, subresource, scope, component and HTTP status code.
            # TYPE apiserver_request_total counter

            """
        let lines = counts.map { labels, count in
            let rendered = labels.pairs.map { "\($0.0)=\"\(Self.escapedLabelValue($0.1))\"" }.joined(separator: ",")
            return "apiserver_request_total{\(rendered)} \(count)\n"
        }
        for line in lines.sorted() { text += line }
        return text
    }

    static func escapedLabelValue(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    func metricsResponse(_ request: APIRequest) throws -> APIResponse {
        guard request.method == "GET" else { throw APIError.methodNotAllowed }
        return APIResponse(
            status: 200,
            contentType: "text/plain; version=0.0.4; charset=utf-8",
            body: .bytes(Array(requestMetricsExposition().utf8))
        )
    }
}

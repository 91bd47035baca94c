import JSONValue
import KubeModels

/// Flagger's request matches (`service.match[]`, `analysis.match[]`: Istio's HTTPMatchRequest shape) as Gateway API
/// `HTTPRouteMatch` objects. Gateway API matches paths exactly, by prefix or by regex, methods exactly, and headers
/// and query parameters exactly or by regex; anything else cannot be expressed and is a field error.
public enum GatewayRouteMatches {
    /// A selector Gateway API cannot express, with the field that holds it.
    public struct Problem: Sendable, Equatable {
        public var path: FieldPath
        public var value: JSONValue
        public var message: String
    }

    /// The converted matches and the selectors that could not be converted (left out of the result).
    ///
    /// - Parameter analysis: whether these are `analysis.match` selections, which add headers and query parameters
    ///   to the service's path and method (as Flagger merges them): a `uri` or `method` there would be dropped, so it
    ///   is a problem.
    public static func convert(
        _ matches: [JSONValue],
        at path: FieldPath,
        analysis: Bool = false
    ) -> (
        matches: [JSONValue], problems: [Problem]
    ) {
        var converted: [JSONValue] = []
        var problems: [Problem] = []
        for (index, request) in matches.enumerated() {
            let here = path.index(index)
            var match: [String: JSONValue] = [:]
            let problemsBefore = problems.count
            for key in (request.objectValue ?? [:]).keys.sorted() where !supported.contains(key) {
                problems.append(
                    Problem(
                        path: here.child(key),
                        value: request[key] ?? .null,
                        message: "Gateway API cannot match requests on \(key); match on uri, method, headers or "
                            + "queryParams, or remove it"
                    )
                )
            }
            for key in ["uri", "method"] where analysis && request[key] != nil {
                problems.append(
                    Problem(
                        path: here.child(key),
                        value: request[key] ?? .null,
                        message: "an A/B selection adds headers and queryParams to the route's matches; put the "
                            + "\(key == "uri" ? "path" : "method") in spec.service.match"
                    )
                )
            }
            // As Flagger: the first non-empty of exact, prefix, regex.
            if let uri = request["uri"]?.objectValue {
                if let exact = nonEmpty(uri["exact"]) {
                    match["path"] = ["type": "Exact", "value": exact]
                } else if let prefix = nonEmpty(uri["prefix"]) {
                    match["path"] = ["type": "PathPrefix", "value": prefix]
                } else if let regex = nonEmpty(uri["regex"]) {
                    match["path"] = ["type": "RegularExpression", "value": regex]
                } else {
                    problems.append(
                        Problem(
                            path: here.child("uri"),
                            value: .object(uri),
                            message: "Gateway API matches a path by exact, prefix or regex"
                        )
                    )
                }
            }
            if let method = request["method"]?.objectValue {
                if let exact = nonEmpty(method["exact"]) {
                    match["method"] = exact
                } else {
                    problems.append(
                        Problem(
                            path: here.child("method"),
                            value: .object(method),
                            message: "Gateway API matches a method exactly; use exact"
                        )
                    )
                }
            }
            for (field, key) in [("headers", "headers"), ("queryParams", "queryParams")] {
                guard let selectors = request[field]?.objectValue, !selectors.isEmpty else { continue }
                var converted: [JSONValue] = []
                for name in selectors.keys.sorted() {
                    let selector = selectors[name]?.objectValue ?? [:]
                    if let exact = nonEmpty(selector["exact"]) {
                        converted.append(["name": .string(name), "type": "Exact", "value": exact])
                    } else if let regex = nonEmpty(selector["regex"]) {
                        converted.append(["name": .string(name), "type": "RegularExpression", "value": regex])
                    } else {
                        let kind = selector.keys.sorted().first { nonEmpty(selector[$0]) != nil } ?? "an empty selector"
                        problems.append(
                            Problem(
                                path: here.child(field).key(name),
                                value: .object(selector),
                                message: "Gateway API matches \(field == "headers" ? "a header" : "a query parameter") "
                                    + "exactly or by regex, not by \(kind); use exact or regex (a prefix p is the "
                                    + "regex ^p.*)"
                            )
                        )
                    }
                }
                if !converted.isEmpty { match[key] = .array(converted) }
            }
            if !match.isEmpty {
                converted.append(.object(match))
            } else if problems.count == problemsBefore {
                problems.append(
                    Problem(
                        path: here,
                        value: request,
                        message: "selects no requests; give it a uri, method, header or query parameter, or remove it"
                    )
                )
            }
        }
        return (converted, problems)
    }

    /// The members of an Istio HTTPMatchRequest that have a Gateway API equivalent (`name` only labels the match).
    static let supported: Set<String> = ["name", "uri", "method", "headers", "queryParams"]

    /// A selector's value when it is a non-empty string (Flagger skips empty ones); other types are kept for the
    /// schema to refuse.
    static func nonEmpty(_ value: JSONValue?) -> JSONValue? {
        guard let value, !value.isNull else { return nil }
        if let text = value.stringValue, text.isEmpty { return nil }
        return value
    }

    /// Every analysis match combined with every service match: the service's path (and method) with the
    /// analysis's headers and query parameters, as Flagger merges them.
    public static func merge(analysis: [JSONValue], service: [JSONValue]) -> [JSONValue] {
        if analysis.isEmpty { return service }
        if service.isEmpty { return analysis }
        var merged: [JSONValue] = []
        for condition in analysis {
            for base in service {
                var combined = base
                if let headers = condition["headers"] { combined.setMember(["headers"], headers) }
                if let query = condition["queryParams"] { combined.setMember(["queryParams"], query) }
                merged.append(combined)
            }
        }
        return merged
    }
}

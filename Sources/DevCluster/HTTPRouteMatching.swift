import Foundation
import JSONValue

/// Which rule of a Gateway API `HTTPRoute` a request takes, as a mesh or gateway decides it: among the rules with a
/// match the request satisfies, an exact path beats the longest path prefix, then more header matches, then more
/// query parameter matches; ties go to the earlier rule. A rule without matches matches every request.
enum HTTPRouteMatching {
    static func rule(of route: JSONValue, for request: MeshRequestInfo) -> JSONValue? {
        let (path, query) = split(request.path)
        var best: (rule: JSONValue, rank: [Int])?
        for rule in route["spec", "rules"]?.arrayValue ?? [] {
            let matches = rule["matches"]?.arrayValue ?? []
            for match in matches.isEmpty ? [JSONValue.object([:])] : matches {
                guard let rank = rank(match, path: path, query: query, request: request) else { continue }
                if best.map({ rank.lexicographicallyPrecedes($0.rank) == false && rank != $0.rank }) ?? true {
                    best = (rule, rank)
                }
            }
        }
        return best?.rule
    }

    /// How specific a satisfied match is, or nil when the request does not satisfy it.
    static func rank(_ match: JSONValue, path: String, query: [String: String], request: MeshRequestInfo) -> [Int]? {
        var pathRank = 1
        if let pathMatch = match["path"] {
            let value = pathMatch["value"]?.stringValue ?? "/"
            switch pathMatch["type"]?.stringValue ?? "PathPrefix" {
            case "Exact":
                guard path == value else { return nil }
                pathRank = 100_000
            case "RegularExpression":
                guard whole(value, path) else { return nil }
                pathRank = 2
            default:
                let prefix = value.hasSuffix("/") && value != "/" ? String(value.dropLast()) : value
                guard prefix == "/" || path == prefix || path.hasPrefix(prefix + "/") else { return nil }
                pathRank = 2 + prefix.count
            }
        }
        if let method = match["method"]?.stringValue, method != request.method { return nil }
        let headers = match["headers"]?.arrayValue ?? []
        for header in headers {
            let name = header["name"]?.stringValue?.lowercased() ?? ""
            let value = header["value"]?.stringValue ?? ""
            let actual = request.headers.first { $0.name.lowercased() == name }?.value
            guard let actual, matches(header["type"]?.stringValue, value, actual) else { return nil }
        }
        let parameters = match["queryParams"]?.arrayValue ?? []
        for parameter in parameters {
            let value = parameter["value"]?.stringValue ?? ""
            guard let actual = query[parameter["name"]?.stringValue ?? ""],
                matches(parameter["type"]?.stringValue, value, actual)
            else { return nil }
        }
        return [pathRank, headers.count, parameters.count]
    }

    static func matches(_ type: String?, _ expected: String, _ actual: String) -> Bool {
        type == "RegularExpression" ? whole(expected, actual) : expected == actual
    }

    static func whole(_ pattern: String, _ text: String) -> Bool {
        guard let regex = try? NSRegularExpression(pattern: "^(?:" + pattern + ")$") else { return false }
        return regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    static func split(_ target: String) -> (path: String, query: [String: String]) {
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var query: [String: String] = [:]
        if parts.count == 2 {
            for pair in parts[1].split(separator: "&") {
                let keyValue = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = String(keyValue[0]).removingPercentEncoding ?? String(keyValue[0])
                if query[key] == nil {
                    query[key] = keyValue.count == 2 ? String(keyValue[1]).removingPercentEncoding ?? "" : ""
                }
            }
        }
        return (String(parts.first ?? "/"), query)
    }
}

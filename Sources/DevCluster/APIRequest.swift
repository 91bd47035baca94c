import Foundation
import JSONValue

/// One HTTP request to the embedded API server, independent of the transport.
public struct APIRequest: Sendable {
    public var method: String
    public var path: String
    public var query: [String: String]
    /// Header values by lower-cased name.
    public var headers: [String: String]
    public var body: [UInt8]

    public init(
        method: String,
        path: String,
        query: [String: String] = [:],
        headers: [String: String] = [:],
        body: [UInt8] = []
    ) {
        self.method = method.uppercased()
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    var accept: String { headers["accept"] ?? "" }
    /// The media type of the body without parameters, lower-cased.
    var contentType: String {
        let raw = headers["content-type"] ?? "application/json"
        return raw.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
    }
    /// Whether the client asked for a server-side Table (`kubectl get`).
    var wantsTable: Bool { accept.contains("as=Table") }
    var isDryRun: Bool { query["dryRun"] == "All" }
}

/// The answer: a complete body, or a stream of chunks for watches.
public struct APIResponse: Sendable {
    public enum Body: Sendable {
        case bytes([UInt8])
        case watch(WatchBody)
    }

    public var status: Int
    public var contentType: String
    /// Extra headers (e.g. `Warning`).
    public var headers: [(String, String)]
    public var body: Body

    public init(status: Int, contentType: String = "application/json", headers: [(String, String)] = [], body: Body) {
        self.status = status
        self.contentType = contentType
        self.headers = headers
        self.body = body
    }

    static func json(_ value: JSONValue, status: Int = 200, warnings: [String] = []) -> APIResponse {
        APIResponse(
            status: status,
            headers: warnings.map { ("Warning", "299 - \"\($0.replacingOccurrences(of: "\"", with: "\\\""))\"") },
            body: .bytes(value.serializedBytes())
        )
    }

    static func error(_ error: APIError) -> APIResponse { json(error.json, status: error.code) }

    /// The body as bytes; empty for streams.
    public var bytes: [UInt8] {
        if case .bytes(let bytes) = body { return bytes }
        return []
    }
}

/// What a request path addresses.
enum APITarget: Equatable {
    case version
    case health(String)
    case apiVersions
    case apiGroupList
    case apiGroup(String)
    case resourceList(group: String, version: String)
    case openAPIV3Root
    case openAPIV3(group: String, version: String)
    case openAPIV2
    case metrics
    case resource(ResourcePath)
}

/// `/apis/{group}/{version}[/namespaces/{ns}]/{resource}[/{name}[/{subresource}]]` taken apart.
struct ResourcePath: Equatable {
    var group: String
    var version: String
    var namespace: String?
    var resource: String
    var name: String?
    var subresource: String?

    /// Parses a request path as kube-apiserver's request-info factory does.
    static func parse(_ path: String) -> APITarget? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard let first = parts.first else { return nil }
        switch first {
        case "version": return parts.count == 1 ? .version : nil
        case "metrics": return parts.count == 1 ? .metrics : nil
        case "healthz", "readyz", "livez": return .health(first)
        case "openapi":
            if parts.count == 2, parts[1] == "v2" { return .openAPIV2 }
            guard parts.count >= 2, parts[1] == "v3" else { return nil }
            if parts.count == 2 { return .openAPIV3Root }
            if parts.count == 4, parts[2] == "api" { return .openAPIV3(group: "", version: parts[3]) }
            if parts.count == 5, parts[2] == "apis" { return .openAPIV3(group: parts[3], version: parts[4]) }
            return nil
        case "api":
            if parts.count == 1 { return .apiVersions }
            if parts.count == 2 { return .resourceList(group: "", version: parts[1]) }
            return resource(group: "", version: parts[1], rest: Array(parts.dropFirst(2)))
        case "apis":
            if parts.count == 1 { return .apiGroupList }
            if parts.count == 2 { return .apiGroup(parts[1]) }
            if parts.count == 3 { return .resourceList(group: parts[1], version: parts[2]) }
            return resource(group: parts[1], version: parts[2], rest: Array(parts.dropFirst(3)))
        default:
            return nil
        }
    }

    private static func resource(group: String, version: String, rest: [String]) -> APITarget? {
        var rest = rest
        var namespace: String?
        if rest.first == "namespaces", rest.count > 2, rest[2] != "status", rest[2] != "finalize" {
            namespace = rest[1]
            rest.removeFirst(2)
        }
        guard !rest.isEmpty, rest.count <= 3 else { return nil }
        return .resource(
            ResourcePath(
                group: group,
                version: version,
                namespace: namespace,
                resource: rest[0],
                name: rest.count > 1 ? rest[1] : nil,
                subresource: rest.count > 2 ? rest[2] : nil
            )
        )
    }
}

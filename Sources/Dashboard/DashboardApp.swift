import Foundation
import JSONValue
import Progression

/// One HTTP request, as the dashboard reads it.
public struct DashboardRequest: Sendable {
    public var method: String
    /// The path, without the query.
    public var path: String
    public var query: [String: String]
    /// Header names in lower case.
    public var headers: [String: String]

    public init(method: String, path: String, query: [String: String] = [:], headers: [String: String] = [:]) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
    }
}

/// What the dashboard answers: a whole body, or a server-sent event stream for one Canary (or none).
public enum DashboardReply: Sendable, Equatable {
    case body(status: Int, contentType: String, bytes: [UInt8])
    case stream(canary: CanaryKey?)
}

/// A Canary's namespace and name.
public struct CanaryKey: Sendable, Equatable, Hashable {
    public var namespace: String
    public var name: String

    public init(namespace: String, name: String) {
        self.namespace = namespace
        self.name = name
    }

    /// `prod/podinfo`.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        self.init(namespace: String(parts[0]), name: String(parts[1]))
    }
}

/// The dashboard's routes, apart from the HTTP server: the page, the list and detail JSON, the event stream and the
/// promote/abort/retry actions.
///
/// Requests from other sites are refused: the Host header must name a loopback address (against DNS rebinding)
/// unless `allowAnyHost`, and an action needs the `X-Fledge-Dashboard` header, which a cross-site form cannot send
/// and a cross-site script can only send after a CORS preflight this server never allows.
public final class DashboardApp: Sendable {
    let mirror: ClusterMirror
    let cluster: any DashboardCluster
    let metrics: MetricHistory?
    let allowAnyHost: Bool
    let heartbeat: Duration

    public init(
        mirror: ClusterMirror,
        cluster: any DashboardCluster,
        metrics: MetricHistory? = nil,
        allowAnyHost: Bool = false,
        heartbeat: Duration = .seconds(15)
    ) {
        self.mirror = mirror
        self.cluster = cluster
        self.metrics = metrics
        self.allowAnyHost = allowAnyHost
        self.heartbeat = heartbeat
    }

    /// Headers every answer carries: the page loads only its own script and style, and no other site may frame it.
    public static let securityHeaders: [(String, String)] = [
        (
            "Content-Security-Policy",
            "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; "
                + "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
        ),
        ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"), ("Cache-Control", "no-store"),
    ]

    public func handle(_ request: DashboardRequest) async -> DashboardReply {
        if !allowAnyHost, !Self.isLoopbackHost(request.headers["host"]) {
            return text(
                421,
                "this dashboard answers only requests for 127.0.0.1, localhost or [::1] (Host: "
                    + "\(request.headers["host"] ?? "none")); start it with --listen-any to serve other names"
            )
        }
        let segments = request.path.split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) }
        switch (request.method, segments.first) {
        case ("GET", nil), ("GET", .some("index.html")):
            return .body(status: 200, contentType: "text/html; charset=utf-8", bytes: DashboardAssets.indexHTML)
        case ("GET", .some("app.js")):
            return .body(status: 200, contentType: "text/javascript; charset=utf-8", bytes: DashboardAssets.appJS)
        case ("GET", .some("app.css")):
            return .body(status: 200, contentType: "text/css; charset=utf-8", bytes: DashboardAssets.appCSS)
        case ("GET", .some("healthz")):
            return text(200, "ok")
        case ("GET", .some("api")):
            return await read(Array(segments.dropFirst()), query: request.query)
        case ("POST", .some("api")):
            return await act(Array(segments.dropFirst()), headers: request.headers)
        case (_, .some("api")), (_, nil), (_, .some("app.js")), (_, .some("app.css")), (_, .some("healthz")):
            return json(405, ["error": .string("method \(request.method) is not allowed here")])
        default:
            return json(404, ["error": .string("no such page \(request.path)")])
        }
    }

    func read(_ segments: [String], query: [String: String]) async -> DashboardReply {
        switch segments.count {
        case 1 where segments[0] == "canaries":
            return .body(status: 200, contentType: "application/json", bytes: Array(listSnapshot().utf8))
        case 1 where segments[0] == "stream":
            return .stream(canary: query["canary"].flatMap(CanaryKey.init))
        case 3 where segments[0] == "canaries":
            let key = CanaryKey(namespace: segments[1], name: segments[2])
            guard mirror.canary(namespace: key.namespace, name: key.name) != nil else {
                return json(
                    404,
                    ["error": .string("no canary \(key.namespace)/\(key.name) in what the dashboard can read")]
                )
            }
            return .body(status: 200, contentType: "application/json", bytes: Array(await detailSnapshot(key).utf8))
        default:
            return json(404, ["error": "no such API path"])
        }
    }

    func act(_ segments: [String], headers: [String: String]) async -> DashboardReply {
        guard headers["x-fledge-dashboard"] == "1" else {
            return json(
                403,
                [
                    "kind": "csrf",
                    "message": .string(
                        "refused: actions need the X-Fledge-Dashboard header the page sends (requests from other "
                            + "sites cannot)"
                    ),
                ]
            )
        }
        guard segments.count == 4, segments[0] == "canaries" else { return json(404, ["error": "no such API path"]) }
        guard let action = ReleaseAction(rawValue: segments[3]) else {
            return json(
                404,
                ["kind": "unknown", "message": .string("no action \(segments[3]); use promote, abort or retry")]
            )
        }
        do {
            let message = try await ReleaseSteering.request(
                action,
                namespace: segments[1],
                name: segments[2],
                cluster: cluster
            )
            return json(200, ["ok": true, "kind": "requested", "message": .string(message)])
        } catch {
            return json(
                error.httpStatus,
                ["ok": false, "kind": .string(error.kind.rawValue), "message": .string(error.message)]
            )
        }
    }

    // MARK: - Snapshots

    struct ListSnapshot: Codable, Equatable {
        var canaries: [CanarySummary]
        var feeds: [String: ClusterMirror.Feed]
        var scope: String
    }

    /// The list as JSON: every Canary with its last Event, and the state of the feeds.
    public func listSnapshot() -> String {
        let canaries = mirror.canaries.map { canary in
            TimelineBuilder.summary(
                canary: canary,
                events: mirror.events(
                    namespace: canary["metadata", "namespace"]?.stringValue ?? "",
                    name: canary["metadata", "name"]?.stringValue ?? ""
                )
            )
        }
        let feeds = mirror.feeds
        return encode(
            ListSnapshot(canaries: canaries, feeds: feeds, scope: feeds["canaries"]?.scope ?? "")
        )
    }

    /// One Canary's detail as JSON, with measured values when a metrics source is set.
    public func detailSnapshot(_ key: CanaryKey) async -> String {
        guard let canary = mirror.canary(namespace: key.namespace, name: key.name) else {
            return encode(["missing": "canary \(key.namespace)/\(key.name) is not there (deleted, or not readable)"])
        }
        let events = mirror.events(namespace: key.namespace, name: key.name)
        var detail = TimelineBuilder.detail(
            canary: canary,
            events: events,
            measurements: "only failed checks carry a value (from their events); give --metrics-server to read the "
                + "values of passed checks from Prometheus"
        )
        if let metrics { detail.measurements = await metrics.annotate(&detail, canary: canary) }
        return encode(detail)
    }

    /// Writes the event stream: the list (and the detail of `canary`) at once and after every change that alters
    /// them, and a comment every ``heartbeat`` so idle connections stay open. Returns when `write` throws (the
    /// browser went away) or the task is cancelled.
    public func stream(canary: CanaryKey?, write: (String) async throws -> Void) async throws {
        let changes = mirror.changes()
        let (signals, continuation) = AsyncStream<Bool>.makeStream(bufferingPolicy: .bufferingNewest(8))
        let heartbeat = self.heartbeat
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in changes { continuation.yield(true) }
                continuation.finish()
            }
            group.addTask {
                while !Task.isCancelled {
                    try await Task.sleep(for: heartbeat)
                    continuation.yield(false)
                }
            }
            var lastList = ""
            var lastDetail = ""
            func send() async throws {
                let list = listSnapshot()
                var frames = ""
                if list != lastList { frames += ServerSentEvents.frame(event: "canaries", data: list) }
                lastList = list
                if let canary {
                    let detail = await detailSnapshot(canary)
                    if detail != lastDetail { frames += ServerSentEvents.frame(event: "detail", data: detail) }
                    lastDetail = detail
                }
                if !frames.isEmpty { try await write(frames) }
            }
            try await write(ServerSentEvents.retry(milliseconds: 2000))
            try await send()
            for await changed in signals {
                if changed { try await send() } else { try await write(ServerSentEvents.comment("keep-alive")) }
            }
            group.cancelAll()
        }
    }

    // MARK: - Helpers

    /// Whether a Host header names this machine: 127.0.0.0/8, localhost or [::1], with any port.
    public static func isLoopbackHost(_ header: String?) -> Bool {
        guard let header, !header.isEmpty else { return false }
        var host = Substring(header.lowercased())
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return false }
            host = host[host.index(after: host.startIndex)..<close]
            return host == "::1"
        }
        if let colon = host.lastIndex(of: ":") { host = host[..<colon] }
        return isLoopbackAddress(String(host))
    }

    /// Whether a listen address stays on this machine.
    public static func isLoopbackAddress(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        if bare == "localhost" || bare == "::1" { return true }
        let octets = bare.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    func encode(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    func json(_ status: Int, _ body: JSONValue) -> DashboardReply {
        .body(status: status, contentType: "application/json", bytes: body.serializedBytes())
    }

    func text(_ status: Int, _ body: String) -> DashboardReply {
        .body(status: status, contentType: "text/plain; charset=utf-8", bytes: Array((body + "\n").utf8))
    }
}

/// The page, its script and its style, compiled into the binary: the page works without network.
enum DashboardAssets {
    static let indexHTML: [UInt8] = PackageResources.index_html
    static let appJS: [UInt8] = PackageResources.app_js
    static let appCSS: [UInt8] = PackageResources.app_css
}

import AsyncHTTPClient
import CanaryModel
import Foundation
import JSONValue
import KubeModels
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOSSL
import ServerGuards

/// The JSON body Flagger POSTs to every webhook: `{"name", "namespace", "phase", "checksum", "metadata"}`.
///
/// `metadata` is left out when empty, as Flagger's `omitempty` does.
public struct WebhookPayload: Sendable, Hashable, Codable {
    /// The Canary's name.
    public var name: String
    /// The Canary's namespace.
    public var namespace: String
    /// The phase the hook is called for (`Progressing`, `Succeeded`, `Failed`, …).
    public var phase: String
    /// A fingerprint of the revision under analysis (see ``checksum(lastAppliedSpec:trackedConfigs:)``).
    public var checksum: String
    /// The hook's `metadata`, plus the event fields for `event` hooks.
    public var metadata: [String: String]

    /// Creates a payload.
    public init(name: String, namespace: String, phase: String, checksum: String, metadata: [String: String] = [:]) {
        self.name = name
        self.namespace = namespace
        self.phase = phase
        self.checksum = checksum
        self.metadata = metadata
    }

    enum CodingKeys: String, CodingKey { case name, namespace, phase, checksum, metadata }

    /// Decodes a payload; a missing `phase` or `checksum` is empty and a missing `metadata` is `[:]`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        namespace = try container.decode(String.self, forKey: .namespace)
        phase = try container.decodeIfPresent(String.self, forKey: .phase) ?? ""
        checksum = try container.decodeIfPresent(String.self, forKey: .checksum) ?? ""
        metadata = try container.decodeIfPresent([String: String].self, forKey: .metadata) ?? [:]
    }

    /// Encodes Flagger's keys, leaving `metadata` out when it is empty.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(namespace, forKey: .namespace)
        try container.encode(phase, forKey: .phase)
        try container.encode(checksum, forKey: .checksum)
        if !metadata.isEmpty { try container.encode(metadata, forKey: .metadata) }
    }

    /// The payload as a JSON tree (keys sorted when serialised).
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "name": .string(name), "namespace": .string(namespace), "phase": .string(phase),
            "checksum": .string(checksum),
        ]
        if !metadata.isEmpty { object["metadata"] = .object(metadata.mapValues { .string($0) }) }
        return .object(object)
    }

    /// The revision fingerprint sent as `checksum`: a hash of `status.lastAppliedSpec` and
    /// `status.trackedConfigs`, so a receiver can tell two releases apart (Flagger hashes the same two fields).
    public static func checksum(lastAppliedSpec: String?, trackedConfigs: [String: String]?) -> String {
        let fields: JSONValue = [
            "lastAppliedSpec": lastAppliedSpec.map { .string($0) } ?? .null,
            "trackedConfigs": trackedConfigs.map { .object($0.mapValues { .string($0) }) } ?? .null,
        ]
        return PodTemplateHash.compute(fields)
    }
}

/// The load testers that require a bearer token, and the token: sent only to hooks at one of these origins.
public struct LoadTesterCredentials: Sendable {
    /// `scheme://host[:port]` of each load tester, as ``OutboundURL/origin`` writes it.
    public var origins: Set<String>
    /// The token file (re-read as it rotates).
    public var token: BearerTokenFile

    /// Credentials for the load testers at `urls` (each an http(s) URL; its path is ignored).
    public init(urls: [String], token: BearerTokenFile) throws(OutboundURLError) {
        var origins: Set<String> = []
        for url in urls { origins.insert(try OutboundURL(url, allowQuery: false).origin) }
        self.origins = origins
        self.token = token
    }

    /// The token for a hook at `url`, or nil when it is not one of the load testers.
    func token(for url: OutboundURL) -> [UInt8]? {
        origins.contains(url.origin) ? token.token : nil
    }
}

/// The outcome of one webhook call, retries included.
public struct WebhookResult: Sendable, Hashable {
    /// Whether the hook answered a status of 202 or less.
    public var succeeded: Bool
    /// What happened, e.g. `POST http://loadtester/ failed: HTTP 500 Internal Server Error: boom`.
    public var message: String
    /// ``message`` without the answer's body (`POST http://loadtester/ failed: HTTP 500 Internal Server Error`), for
    /// places every reader of the Canary sees.
    public var summary: String
    /// The last HTTP status received, if any.
    public var statusCode: Int?
    /// How many requests were made.
    public var attempts: Int

    /// Creates a result.
    public init(succeeded: Bool, message: String, summary: String? = nil, statusCode: Int? = nil, attempts: Int = 1) {
        self.succeeded = succeeded
        self.message = message
        self.summary = summary ?? message
        self.statusCode = statusCode
        self.attempts = attempts
    }
}

/// Calls Canary webhooks the way Flagger does.
///
/// A call is a JSON `POST` with `Content-Type: application/json`; success is an HTTP status of 202 or less. Each
/// attempt is bounded by the hook's `timeout` (Go duration, default `10s`). A hook with `retries: N` makes up to N
/// more attempts after a connection error, a timeout, a 429 or a 5xx other than 501 (go-retryablehttp's policy, which
/// Flagger uses), waiting `retryWait`, then twice that, and so on, capped at 30 s. `disableTLS` skips certificate
/// verification. The failure message carries the status and the response body, since load testers explain
/// themselves there.
public final class WebhookCaller: Sendable {
    let http: HTTPClient
    let retryWait: Duration

    /// The timeout of a hook without one.
    public static let defaultTimeout = Duration.seconds(10)
    /// The most a response body read.
    static let maximumBodySize = 1 << 20

    /// Creates a caller over the shared `http` client, which it never shuts down.
    ///
    /// - Parameter retryWait: the wait before the first retry (Flagger: 1 s); it doubles each retry.
    /// `rewrite` maps a hook URL to the address actually called (the playground sends cluster names through its
    /// simulated mesh); identity by default.
    /// `outbound` says which hosts may be called; a hook URL it refuses fails without a request. `loadTester`
    /// names the load testers that require a bearer token (`fledge loadtester --token-file`) and the file holding
    /// it: the token goes only to hooks at exactly those origins (scheme, host, port), never to any other URL a
    /// Canary's author writes.
    public init(
        http: HTTPClient,
        retryWait: Duration = .seconds(1),
        rewrite: @escaping @Sendable (String) -> String = { $0 },
        outbound: OutboundPolicy = .cluster,
        loadTester: LoadTesterCredentials? = nil
    ) {
        self.http = http
        self.retryWait = retryWait
        self.rewrite = rewrite
        self.outbound = outbound
        self.loadTester = loadTester
    }

    let rewrite: @Sendable (String) -> String
    let outbound: OutboundPolicy
    let loadTester: LoadTesterCredentials?

    /// POSTs `payload` to `hook.url` and reports whether the hook approved.
    public func call(_ hook: CanaryWebhook, payload: WebhookPayload) async -> WebhookResult {
        var timeout = Self.defaultTimeout
        if let text = hook.timeout, text.count >= 2 {
            guard let parsed = HTTPText.duration(fromGo: text), parsed > .zero else {
                return WebhookResult(
                    succeeded: false,
                    message: "POST \(hook.url) failed: invalid timeout \"\(text)\"",
                    attempts: 0
                )
            }
            timeout = parsed
        }
        let url: OutboundURL
        do {
            url = try outbound.url(hook.url, allowQuery: true)
        } catch {
            return WebhookResult(
                succeeded: false,
                message: "POST \(hook.url) not sent: the URL \(error.message)",
                attempts: 0
            )
        }
        // Retries are bounded whatever the Canary says (admission refuses more than the limit).
        let retries = min(max(hook.retries ?? 0, 0), CanaryLimits.webhookRetries)
        if timeout > .nanoseconds(CanaryLimits.webhookTimeout.nanoseconds) {
            timeout = .nanoseconds(CanaryLimits.webhookTimeout.nanoseconds)
        }
        var request = HTTPClientRequest(url: rewrite(hook.url))
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: payload.json.serializedBytes()))
        if let token = loadTester?.token(for: url) {
            request.headers.add(name: "Authorization", value: "Bearer \(String(decoding: token, as: UTF8.self))")
        }
        if hook.disableTLS == true {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.certificateVerification = .none
            request.tlsConfiguration = tls
        }

        let attempts = 1 + retries
        var attempt = 0
        var last = WebhookResult(succeeded: false, message: "POST \(hook.url) failed: not attempted", attempts: 0)
        while attempt < attempts {
            if attempt > 0 {
                do {
                    try await Task.sleep(for: backoff(before: attempt))
                } catch {
                    break
                }
            }
            attempt += 1
            let outcome = await attemptOnce(request, url: hook.url, timeout: timeout)
            last = outcome.result
            last.attempts = attempt
            if last.succeeded || !outcome.retryable { break }
        }
        if !last.succeeded, last.attempts > 1 {
            last.message += " (after \(last.attempts) attempts)"
            last.summary += " (after \(last.attempts) attempts)"
        }
        return last
    }

    /// The payload of an `event` hook: the Canary's identity and phase, with `eventMessage`, `eventType` and
    /// `timestamp` (milliseconds since 1970, as a string) in `metadata` over the hook's own metadata.
    ///
    /// - Parameters:
    ///   - eventType: `Normal` or `Warning`, the Kubernetes event type.
    ///   - now: the event's time (injected so tests and simulated clocks control it).
    public static func eventPayload(
        name: String,
        namespace: String,
        phase: String,
        checksum: String,
        hook: CanaryWebhook,
        message: String,
        eventType: String,
        now: Date = Date()
    ) -> WebhookPayload {
        var metadata = hook.metadata ?? [:]
        metadata["eventMessage"] = message
        metadata["eventType"] = eventType
        metadata["timestamp"] = String(Int64((now.timeIntervalSince1970 * 1000).rounded(.down)))
        return WebhookPayload(name: name, namespace: namespace, phase: phase, checksum: checksum, metadata: metadata)
    }

    func backoff(before attempt: Int) -> Duration {
        let factor = 1 << min(attempt - 1, 16)
        return min(retryWait * factor, .seconds(30))
    }

    func attemptOnce(
        _ request: HTTPClientRequest,
        url: String,
        timeout: Duration
    ) async -> (result: WebhookResult, retryable: Bool) {
        do {
            let (status, body) = try await HTTPText.fetch(
                request,
                with: http,
                timeout: timeout,
                maximumBodySize: Self.maximumBodySize
            )
            let text = HTTPText.excerpt(String(buffer: body))
            let summary = "HTTP \(status.code) \(status.reasonPhrase)" + (text.isEmpty ? "" : ": \(text)")
            let succeeded = status.code <= 202
            let outcome = "POST \(url) \(succeeded ? "succeeded" : "failed")"
            let result = WebhookResult(
                succeeded: succeeded,
                message: "\(outcome): \(summary)",
                summary: "\(outcome): HTTP \(status.code) \(status.reasonPhrase)",
                statusCode: Int(status.code)
            )
            // go-retryablehttp's policy: retry 429 and 5xx except 501 Not Implemented.
            let retryable = !succeeded && (status.code == 429 || (status.code >= 500 && status.code != 501))
            return (result, retryable)
        } catch {
            if HTTPText.isTimeout(error) {
                let message = "POST \(url) failed: timed out after \(HTTPText.goDuration(timeout))"
                return (WebhookResult(succeeded: false, message: message), true)
            }
            return (WebhookResult(succeeded: false, message: "POST \(url) failed: \(error)"), true)
        }
    }
}

import AsyncHTTPClient
import CanaryModel
import Foundation
import JSONValue
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// Why an alert was not delivered.
public struct AlertError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A one-line description, e.g. `sending notification failed: HTTP 500 Internal Server Error: boom`.
    public var message: String

    /// Creates an error described by `message`.
    public init(_ message: String) { self.message = message }

    /// The ``message``.
    public var description: String { message }
}

/// Sends release alerts to chat services in the payload shapes of Flagger's notifiers.
///
/// `slack`, `discord` and `rocket` get a Slack message with one attachment (Discord's address gains `/slack`, its
/// Slack-compatible endpoint, unless it already ends so); `msteams` gets a MessageCard; `gchat` a card. The username
/// defaults to `flagger` and the channel to `general`, as in Flagger. A post must answer 200 within the timeout
/// (Flagger: 5 s).
public final class AlertSender: Sendable {
    let http: HTTPClient
    let timeout: Duration

    /// The provider types this sender formats.
    public static let supportedTypes: Set<String> = ["slack", "msteams", "discord", "rocket", "gchat"]

    /// Creates a sender over the shared `http` client, which it never shuts down.
    public init(http: HTTPClient, timeout: Duration = .seconds(5)) {
        self.http = http
        self.timeout = timeout
    }

    /// Posts one alert.
    ///
    /// - Parameters:
    ///   - provider: the AlertProvider; its `type`, `username` and `channel` shape the payload.
    ///   - address: the hook URL, from `spec.address` or the `address` key of the provider's Secret.
    ///   - canary: the Canary's name.
    ///   - namespace: the Canary's namespace.
    ///   - message: the alert text, e.g. `Canary analysis failed`.
    ///   - severity: `info`, `warn` or `error`; `error` turns the colour red.
    ///   - fields: titled facts shown with the message, in order (Flagger: Target, Failed checks threshold, …).
    /// - Throws: ``AlertError`` for an unsupported type, an invalid address, a transport failure or a status other
    ///   than 200.
    public func send(
        provider: AlertProvider,
        address: String,
        canary: String,
        namespace: String,
        message: String,
        severity: String,
        fields: [(String, String)]
    ) async throws {
        let type = provider.spec.type
        guard Self.supportedTypes.contains(type) else { throw AlertError("provider \(type) not supported") }
        guard let url = Self.endpoint(type: type, address: address) else {
            throw AlertError("invalid \(type) hook URL \(address)")
        }
        let payload = Self.payload(
            type: type,
            username: provider.spec.username,
            channel: provider.spec.channel,
            canary: canary,
            namespace: namespace,
            message: message,
            severity: severity,
            fields: fields
        )
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: payload.serializedBytes()))
        let status: HTTPResponseStatus
        let body: ByteBuffer
        do {
            (status, body) = try await HTTPText.fetch(request, with: http, timeout: timeout, maximumBodySize: 1 << 20)
        } catch {
            if HTTPText.isTimeout(error) {
                throw AlertError("sending notification failed: timed out after \(HTTPText.goDuration(timeout))")
            }
            throw AlertError("sending notification failed: \(error)")
        }
        guard status.code == 200 else {
            let text = HTTPText.excerpt(String(buffer: body))
            throw AlertError(
                "sending notification failed: HTTP \(status.code) \(status.reasonPhrase)"
                    + (text.isEmpty ? "" : ": \(text)")
            )
        }
    }

    /// Whether an alert configured at `alertSeverity` receives an event of `eventSeverity`.
    ///
    /// Severities order `info` < `warn` < `error`; an alert receives events at or above its level. A missing or
    /// unknown alert severity is `info` (everything); an unknown event severity counts as `info`.
    public static func shouldSend(alertSeverity: String?, eventSeverity: String) -> Bool {
        rank(eventSeverity) >= rank(alertSeverity ?? "info")
    }

    static func rank(_ severity: String) -> Int {
        switch severity {
        case "warn": return 1
        case "error": return 2
        default: return 0
        }
    }

    /// The URL to post to: the address itself, or for Discord its `/slack` endpoint. `nil` for an address that is
    /// not an `http(s)://` URL with a host.
    public static func endpoint(type: String, address: String) -> String? {
        guard let schemeEnd = address.range(of: "://"),
            ["http", "https"].contains(address[..<schemeEnd.lowerBound].lowercased()),
            let host = address[schemeEnd.upperBound...].split(separator: "/").first, !host.isEmpty
        else { return nil }
        guard type == "discord", !address.hasSuffix("/slack") else { return address }
        // Join "slack" onto the path, keeping any query or fragment after it.
        let suffixStart = address[schemeEnd.upperBound...].firstIndex { $0 == "?" || $0 == "#" } ?? address.endIndex
        var path = address[..<suffixStart]
        while path.hasSuffix("/") { path = path.dropLast() }
        return path + "/slack" + address[suffixStart...]
    }

    /// The JSON body for provider `type`.
    ///
    /// - Parameters:
    ///   - username: the provider's `username`; `flagger` when empty.
    ///   - channel: the provider's `channel`; `general` when empty.
    public static func payload(
        type: String,
        username: String?,
        channel: String?,
        canary: String,
        namespace: String,
        message: String,
        severity: String,
        fields: [(String, String)]
    ) -> JSONValue {
        let subject = "\(canary).\(namespace)"
        let isError = severity == "error"
        switch type {
        case "msteams":
            return [
                "@type": "MessageCard",
                "@context": "http://schema.org/extensions",
                "themeColor": .string(isError ? "FF0000" : "0076D7"),
                "summary": .string(subject),
                "sections": [
                    [
                        "activityTitle": .string(message),
                        "activitySubtitle": .string(subject),
                        "facts": .array(fields.map { ["name": .string($0.0), "value": .string($0.1)] }),
                    ]
                ],
            ]
        case "gchat":
            var sections: [JSONValue] = [
                [
                    "widgets": [
                        ["textParagraph": ["text": .string("<font color=#848484><strong>\(message)</strong></font>")]]
                    ]
                ]
            ]
            for (name, value) in fields {
                let text = "\(name)<br><font color=#848484><strong>\(value)</strong></font>"
                sections.append(["widgets": [["textParagraph": ["text": .string(text)]]]])
            }
            return [
                "cards": [
                    [
                        "header": [
                            "title": "Flagger", "subtitle": .string(subject),
                            "imageUrl": "https://flagger.app/favicon.png",
                        ],
                        "sections": .array(sections),
                    ]
                ]
            ]
        default:
            // slack, discord (Slack-compatible endpoint) and rocket share Slack's attachment format.
            let color: String
            if type == "rocket" {
                color = isError ? "#FF0000" : "#0076D7"
            } else {
                color = isError ? "danger" : "good"
            }
            let attachment: JSONValue = [
                "color": .string(color),
                "author_name": .string(subject),
                "text": .string(message),
                "mrkdwn_in": ["text"],
                "fields": .array(fields.map { ["title": .string($0.0), "value": .string($0.1), "short": false] }),
            ]
            return [
                "channel": .string(channel.flatMap { $0.isEmpty ? nil : $0 } ?? "general"),
                "username": .string(username.flatMap { $0.isEmpty ? nil : $0 } ?? "flagger"),
                "icon_url": "",
                "icon_emoji": ":rocket:",
                "attachments": [attachment],
            ]
        }
    }
}

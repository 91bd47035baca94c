import AsyncHTTPClient
import CanaryModel
import Hummingbird
import JSONValue
import Progression
import Testing

@Suite("Alerts in each provider's payload shape")
struct AlertsTests {
    let sender = AlertSender(http: HTTPClient.shared)
    let fields = [("Target", "Deployment/podinfo.prod"), ("Failed checks threshold", "5")]

    static func receiver(_ seen: Recorder<SeenHook>) -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/**") { request, _ in
            let body = try await TestServer.bodyText(request)
            seen.append(SeenHook(path: request.uri.path, contentType: request.headers[.contentType], body: body))
            if request.uri.path.hasPrefix("/broken") {
                return TestServer.respond(.internalServerError, "invalid_payload", contentType: "text/plain")
            }
            return TestServer.respond(.ok, "ok", contentType: "text/plain")
        }
        return router
    }

    static func provider(_ type: String, username: String? = nil, channel: String? = nil) throws -> AlertProvider {
        var spec: [String: JSONValue] = ["type": .string(type)]
        if let username { spec["username"] = .string(username) }
        if let channel { spec["channel"] = .string(channel) }
        let json: JSONValue = [
            "apiVersion": "flagger.app/v1beta1", "kind": "AlertProvider",
            "metadata": ["name": "on-call", "namespace": "flagger"], "spec": .object(spec),
        ]
        return try JSONValueDecoder().decode(AlertProvider.self, from: json)
    }

    /// Sends one alert through `type` to the receiver and returns what arrived.
    func deliver(
        _ type: String,
        path: String,
        severity: String = "info",
        username: String? = nil,
        channel: String? = nil
    ) async throws -> SeenHook {
        let seen = Recorder<SeenHook>()
        try await TestServer.with(Self.receiver(seen)) { port in
            try await sender.send(
                provider: try Self.provider(type, username: username, channel: channel),
                address: "http://127.0.0.1:\(port)\(path)",
                canary: "podinfo",
                namespace: "prod",
                message: "Canary analysis failed",
                severity: severity,
                fields: fields
            )
        }
        let all = seen.all
        #expect(all.count == 1)
        return try #require(all.first)
    }

    @Test("slack: one attachment with fields, username and channel defaults, danger on error")
    func slack() async throws {
        let seen = try await deliver("slack", path: "/services/T000/B000", severity: "error")
        #expect(seen.path == "/services/T000/B000")
        #expect(seen.contentType == "application/json")
        let expected: JSONValue = [
            "channel": "general", "username": "flagger", "icon_url": "", "icon_emoji": ":rocket:",
            "attachments": [
                [
                    "color": "danger", "author_name": "podinfo.prod", "text": "Canary analysis failed",
                    "mrkdwn_in": ["text"],
                    "fields": [
                        ["title": "Target", "value": "Deployment/podinfo.prod", "short": false],
                        ["title": "Failed checks threshold", "value": "5", "short": false],
                    ],
                ]
            ],
        ]
        #expect(try JSONValue(parsing: seen.body) == expected)
    }

    @Test("discord: Slack format posted to the /slack endpoint, good colour below error")
    func discord() async throws {
        let seen = try await deliver("discord", path: "/api/webhooks/1/abc", username: "bot", channel: "releases")
        #expect(seen.path == "/api/webhooks/1/abc/slack")
        let json = try JSONValue(parsing: seen.body)
        #expect(json["username"] == "bot")
        #expect(json["channel"] == "releases")
        #expect(json["attachments"]?[0]?["color"] == "good")
        let already = try await deliver("discord", path: "/api/webhooks/1/abc/slack")
        #expect(already.path == "/api/webhooks/1/abc/slack")
    }

    @Test("rocket: Slack format with hex colours")
    func rocket() async throws {
        let info = try JSONValue(parsing: try await deliver("rocket", path: "/hooks/x").body)
        #expect(info["attachments"]?[0]?["color"] == "#0076D7")
        #expect(info["icon_emoji"] == ":rocket:")
        let error = try JSONValue(parsing: try await deliver("rocket", path: "/hooks/x", severity: "error").body)
        #expect(error["attachments"]?[0]?["color"] == "#FF0000")
    }

    @Test("msteams: a MessageCard with facts, red on error")
    func msteams() async throws {
        let seen = try await deliver("msteams", path: "/webhookb2/x", severity: "error")
        let expected: JSONValue = [
            "@type": "MessageCard", "@context": "http://schema.org/extensions", "themeColor": "FF0000",
            "summary": "podinfo.prod",
            "sections": [
                [
                    "activityTitle": "Canary analysis failed", "activitySubtitle": "podinfo.prod",
                    "facts": [
                        ["name": "Target", "value": "Deployment/podinfo.prod"],
                        ["name": "Failed checks threshold", "value": "5"],
                    ],
                ]
            ],
        ]
        #expect(try JSONValue(parsing: seen.body) == expected)
    }

    @Test("gchat: a card with the message and one section per field")
    func gchat() async throws {
        let seen = try await deliver("gchat", path: "/v1/spaces/x/messages")
        let expected: JSONValue = [
            "cards": [
                [
                    "header": [
                        "title": "Flagger", "subtitle": "podinfo.prod", "imageUrl": "https://flagger.app/favicon.png",
                    ],
                    "sections": [
                        [
                            "widgets": [
                                [
                                    "textParagraph": [
                                        "text": "<font color=#848484><strong>Canary analysis failed</strong></font>"
                                    ]
                                ]
                            ]
                        ],
                        [
                            "widgets": [
                                [
                                    "textParagraph": [
                                        "text":
                                            "Target<br><font color=#848484><strong>Deployment/podinfo.prod</strong></font>"
                                    ]
                                ]
                            ]
                        ],
                        [
                            "widgets": [
                                [
                                    "textParagraph": [
                                        "text":
                                            "Failed checks threshold<br><font color=#848484><strong>5</strong></font>"
                                    ]
                                ]
                            ]
                        ],
                    ],
                ]
            ]
        ]
        #expect(try JSONValue(parsing: seen.body) == expected)
    }

    @Test("a non-200 answer, an unsupported type and a bad address are errors")
    func failures() async throws {
        let seen = Recorder<SeenHook>()
        try await TestServer.with(Self.receiver(seen)) { port in
            let error = await #expect(throws: AlertError.self) {
                try await sender.send(
                    provider: try Self.provider("slack"),
                    address: "http://127.0.0.1:\(port)/broken",
                    canary: "podinfo",
                    namespace: "prod",
                    message: "m",
                    severity: "info",
                    fields: []
                )
            }
            #expect(error?.message == "sending notification failed: HTTP 500 Internal Server Error: invalid_payload")
        }
        let unsupported = await #expect(throws: AlertError.self) {
            try await sender.send(
                provider: try Self.provider("pagerduty"),
                address: "http://127.0.0.1:1/",
                canary: "podinfo",
                namespace: "prod",
                message: "m",
                severity: "info",
                fields: []
            )
        }
        #expect(unsupported?.message == "provider pagerduty not supported")
        let badAddress = await #expect(throws: AlertError.self) {
            try await sender.send(
                provider: try Self.provider("slack"),
                address: "hooks.slack.com/services/x",
                canary: "podinfo",
                namespace: "prod",
                message: "m",
                severity: "info",
                fields: []
            )
        }
        #expect(badAddress?.message == "invalid slack hook URL hooks.slack.com/services/x")
    }

    @Test(
        "alert severity filters events: info < warn < error",
        arguments: [
            (nil, "info", true), (nil, "error", true), ("info", "warn", true), ("warn", "info", false),
            ("warn", "warn", true), ("warn", "error", true), ("error", "warn", false), ("error", "error", true),
            ("", "info", true),
        ] as [(String?, String, Bool)]
    )
    func severity(alert: String?, event: String, sent: Bool) {
        #expect(AlertSender.shouldSend(alertSeverity: alert, eventSeverity: event) == sent)
    }

    @Test("discord's endpoint keeps a query string after /slack")
    func discordEndpoint() {
        #expect(
            AlertSender.endpoint(type: "discord", address: "https://discord.com/api/webhooks/1/abc?wait=true")
                == "https://discord.com/api/webhooks/1/abc/slack?wait=true"
        )
        #expect(
            AlertSender.endpoint(type: "slack", address: "https://hooks.slack.com/x") == "https://hooks.slack.com/x"
        )
        #expect(AlertSender.endpoint(type: "slack", address: "ftp://x/y") == nil)
    }
}

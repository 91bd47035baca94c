import ArgumentParser
import KubeModels
import ServerGuards

/// The flags that protect a server from slow or numerous clients, shared by `serve` and `loadtester`.
struct ServerGuardOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Longest wait for a complete request head, from the connection opening (TLS handshake included) or the "
                + "first bytes of a later request.",
            valueName: "duration"
        )
    )
    var headerTimeout = "10s"

    @Option(
        help: ArgumentHelp("Longest wait for a request body, from its head to its last byte.", valueName: "duration")
    )
    var bodyTimeout = "30s"

    @Option(help: "Most connections open at once; further ones are closed as soon as they are accepted.")
    var maxConnections = 1000

    func validate() throws {
        _ = try configuration()
    }

    func configuration() throws -> ServerGuardsConfiguration {
        let configuration = ServerGuardsConfiguration(
            headerTimeout: try FlagDuration.parse(headerTimeout, flag: "--header-timeout"),
            bodyTimeout: try FlagDuration.parse(bodyTimeout, flag: "--body-timeout"),
            maximumConnections: maxConnections
        )
        if configuration.maximumConnections < 1 {
            throw ValidationError("--max-connections \(maxConnections) must be at least 1")
        }
        return configuration
    }
}

/// A duration flag: a number of seconds (`10`, `0.5`) or a Go duration (`10s`, `1m30s`, `500ms`).
enum FlagDuration {
    /// Parses `text`; throws naming the flag unless it is a positive duration (or zero when `allowZero`).
    static func parse(_ text: String, flag: String, allowZero: Bool = false) throws -> Duration {
        let duration: Duration
        if let seconds = Double(text), seconds.isFinite, abs(seconds) < 1e9 {
            duration = .nanoseconds(Int64(seconds * 1e9))
        } else if let parsed = GoDuration(text) {
            duration = parsed.duration
        } else {
            throw ValidationError("\(flag) \(text) is not a duration; use seconds (10) or a Go duration (10s, 1m30s)")
        }
        guard duration > .zero || (allowZero && duration == .zero) else {
            throw ValidationError("\(flag) \(text) must be \(allowZero ? "zero or more" : "positive")")
        }
        return duration
    }
}

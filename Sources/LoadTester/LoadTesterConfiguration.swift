import ServerGuards

/// Settings of the load tester; built by the executable from flags, handed to ``LoadTester``.
public struct LoadTesterConfiguration: Sendable {
    /// The commands allowed when none are configured: the tools Flagger's documentation runs from its load tester.
    public static let defaultAllow: [String] = [
        "^hey( |$)",
        "^curl( |$)",
        "^helm(v3)? test( |$)",
        "^kubectl( |$)",
        "^grpc_health_probe( |$)",
    ]

    /// The address to listen on.
    public var host: String
    /// The port to listen on; 0 picks a free one (tests), and ``LoadTester/port()`` tells which.
    public var port: Int
    /// Regular expressions; a task runs only when its whole command line matches one of them.
    ///
    /// The line checked is the `cmd` as written for `cmd` and `bash` tasks, and `helm <cmd>` or `kubectl <cmd>` for
    /// those types. Patterns are searched, not anchored: anchor them with `^` as the defaults do.
    public var allow: [String]
    /// Flagger's `-namespace-regexp`: when set, a payload whose namespace does not match is refused with 403.
    public var namespaceRegexp: String?
    /// How long any task may run before it is killed.
    public var timeout: Duration
    /// Where gates are kept across restarts; `nil` keeps them in memory only, as Flagger does.
    public var gateStore: (any GateStore)?
    /// Run `hey` commands with the built-in ``LoadGenerator`` even when a `hey` binary is on `PATH`.
    ///
    /// When `false`, the built-in generator is used only if no `hey` executable is found.
    public var preferBuiltinHey: Bool
    /// Request bodies larger than this are refused with 413.
    public var maximumBodyBytes: Int
    /// At most this much of a command's combined output is kept (the end of it) for logs and responses.
    public var maximumOutputBytes: Int
    /// An HTTP proxy for commands, as `http_proxy` (the playground routes cluster names such as
    /// `podinfo-canary.prod` through its simulated mesh this way).
    public var httpProxy: (host: String, port: Int)?
    /// Maps the built-in load generator's target URLs to the address requested (identity by default).
    public var rewriteURL: @Sendable (String) -> String
    /// Header and body timeouts and the connection limit of the HTTP server.
    public var guards: ServerGuardsConfiguration
    /// Connections idle this long between requests are closed.
    public var idleTimeout: Duration

    /// Creates a configuration; every argument has Flagger's default.
    public init(
        host: String = "0.0.0.0",
        port: Int = 9090,
        allow: [String] = LoadTesterConfiguration.defaultAllow,
        namespaceRegexp: String? = nil,
        timeout: Duration = .seconds(3600),
        gateStore: (any GateStore)? = nil,
        preferBuiltinHey: Bool = true,
        maximumBodyBytes: Int = 1 << 20,
        maximumOutputBytes: Int = 1 << 20,
        httpProxy: (host: String, port: Int)? = nil,
        rewriteURL: @escaping @Sendable (String) -> String = { $0 },
        guards: ServerGuardsConfiguration = ServerGuardsConfiguration(),
        idleTimeout: Duration = .seconds(90)
    ) {
        self.guards = guards
        self.idleTimeout = idleTimeout
        self.httpProxy = httpProxy
        self.rewriteURL = rewriteURL
        self.host = host
        self.port = port
        self.allow = allow
        self.namespaceRegexp = namespaceRegexp
        self.timeout = timeout
        self.gateStore = gateStore
        self.preferBuiltinHey = preferBuiltinHey
        self.maximumBodyBytes = maximumBodyBytes
        self.maximumOutputBytes = maximumOutputBytes
    }
}

/// An error in the load tester's own configuration, found when it is created.
public struct LoadTesterError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of problem it is.
    public enum Code: String, Sendable, Equatable {
        /// An allow-list entry or the namespace pattern is not a valid regular expression.
        case invalidPattern
        /// A number in the configuration is out of range.
        case invalidValue
    }

    /// What kind of problem it is.
    public var code: Code
    /// A message naming the setting and the problem.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The message.
    public var description: String { message }
}

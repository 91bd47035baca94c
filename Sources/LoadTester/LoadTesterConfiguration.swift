import ServerGuards

/// Settings of the load tester; built by the executable from flags, handed to ``LoadTester``.
public struct LoadTesterConfiguration: Sendable {
    /// The pattern the tutorial's acceptance test needs as a `bash` task, for ``allowBash``.
    ///
    /// It matches `curl -sd 'test' http://podinfo-canary.prod:9898/token | grep token` and lines of exactly that
    /// shape: `curl -sd` with a body in single quotes that does not start a file name (no `@`), an `http://` URL whose
    /// host is an in-cluster name (`service`, `service.namespace`, optionally `.svc` or `.svc.cluster.local`), an
    /// optional port and a plain path, piped to `grep` and one word. Nothing else can appear: no `;`, `&`, `$`,
    /// backquote, redirection, second pipe, option to grep or quote outside the body.
    public static let tutorialBashPattern =
        #"^curl -sd '[^'@\p{Cc}]*' http://[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)?"#
        + #"(\.svc(\.cluster\.local)?)?(:[0-9]{1,5})?(/[-A-Za-z0-9._/]*)? \| grep [A-Za-z0-9_][-A-Za-z0-9_.]*$"#

    /// The address to listen on.
    public var host: String
    /// The port to listen on; 0 picks a free one (tests), and ``LoadTester/port()`` tells which.
    public var port: Int
    /// The programs admitted by their built-in argument policy (all of them by default); see ``BuiltinProgram``.
    public var programs: Set<BuiltinProgram>
    /// Regular expressions on the canonical line of a `cmd`, `helm`, `helmv3` or `kubectl` task's argument vector;
    /// a command runs when its program's built-in policy admits it or when its canonical line matches one of these.
    ///
    /// The canonical line is the argument vector that runs (`helm …` and `kubectl …` for those types), each argument
    /// single-quoted when it holds anything but `[A-Za-z0-9_@%+=:,./-]` (see ``ArgumentSplitter/render(_:)``).
    /// Patterns are searched, not anchored: anchor them with `^` and `$`. None by default.
    public var allow: [String]
    /// Regular expressions a `bash` task's whole script (what `bash -c` receives) must match; none by default, so no
    /// `bash` task runs. ``tutorialBashPattern`` admits the tutorial's acceptance test.
    public var allowBash: [String]
    /// Flagger's `-namespace-regexp`: when set, a payload whose namespace does not match is refused with 403.
    public var namespaceRegexp: String?
    /// How long any task may run before it is killed.
    public var timeout: Duration
    /// Where gates are kept across restarts; `nil` keeps them in memory only, as Flagger does.
    public var gateStore: (any GateStore)?
    /// The most gates that may be open at once (closing a gate forgets it); opening another is answered 507.
    public var maximumGates: Int
    /// Run `hey` commands with the built-in ``LoadGenerator`` even when a `hey` binary is on `PATH`.
    ///
    /// When `false`, the built-in generator is used only if no `hey` executable is found.
    public var preferBuiltinHey: Bool
    /// Request bodies larger than this are refused with 413.
    public var maximumBodyBytes: Int
    /// At most this much of a command's combined output is kept (the end of it) for logs and responses.
    public var maximumOutputBytes: Int
    /// The most tasks that may run at once, blocking and background together (a background task counts from the
    /// moment it is accepted); beyond it a task is answered 429. A background command already running for the same
    /// canary is skipped (202) before the count is consulted, as in Flagger.
    public var maximumConcurrentTasks: Int
    /// A file holding a bearer token: when set, every request but `/healthz` must carry `Authorization: Bearer
    /// <token>` or is answered 401. The file is read again at most every ``tokenRecheckInterval``.
    public var tokenFile: String?
    /// How often the token file is read again, so that a rotated token takes effect without a restart.
    public var tokenRecheckInterval: Duration
    /// An HTTP proxy for commands, as `http_proxy` (the playground routes cluster names such as
    /// `podinfo-canary.prod` through its simulated mesh this way).
    public var httpProxy: (host: String, port: Int)?
    /// Maps the built-in load generator's target URLs to the address requested (identity by default).
    public var rewriteURL: @Sendable (String) -> String
    /// Header and body timeouts and the connection limit of the HTTP server.
    public var guards: ServerGuardsConfiguration
    /// Connections idle this long between requests are closed.
    public var idleTimeout: Duration

    /// Creates a configuration; every argument has Flagger's default, except that commands are admitted by the
    /// built-in program policies rather than by a list of prefixes, and `bash` tasks not at all.
    public init(
        host: String = "0.0.0.0",
        port: Int = 9090,
        programs: Set<BuiltinProgram> = Set(BuiltinProgram.allCases),
        allow: [String] = [],
        allowBash: [String] = [],
        namespaceRegexp: String? = nil,
        timeout: Duration = .seconds(3600),
        gateStore: (any GateStore)? = nil,
        maximumGates: Int = 1024,
        preferBuiltinHey: Bool = true,
        maximumBodyBytes: Int = 1 << 20,
        maximumOutputBytes: Int = 1 << 20,
        maximumConcurrentTasks: Int = 8,
        tokenFile: String? = nil,
        tokenRecheckInterval: Duration = .seconds(2),
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
        self.programs = programs
        self.allow = allow
        self.allowBash = allowBash
        self.namespaceRegexp = namespaceRegexp
        self.timeout = timeout
        self.gateStore = gateStore
        self.maximumGates = maximumGates
        self.preferBuiltinHey = preferBuiltinHey
        self.maximumBodyBytes = maximumBodyBytes
        self.maximumOutputBytes = maximumOutputBytes
        self.maximumConcurrentTasks = maximumConcurrentTasks
        self.tokenFile = tokenFile
        self.tokenRecheckInterval = tokenRecheckInterval
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

import Hummingbird
import KubeModels
import Logging
import Prometheus
import ServerGuards
import ServiceLifecycle
import Synchronization

/// Flagger's load tester: the service that Canary webhooks point at to run load tests and acceptance tests and to
/// hold manual approval gates.
///
/// Endpoints, as Flagger 1.44's: `/healthz`; `/metrics`; `/gate/approve` (200) and `/gate/halt` (403);
/// `/gate/check|open|close` and `/rollback/check|open|close`, named gates per canary, checks answering 403 until
/// opened; any other path starts a task from the payload's `metadata`. Unlike Flagger, a task runs only when the
/// argument vector that runs is admitted (``CommandPolicy``: built-in program policies, the operator's patterns, and
/// for `bash` its own patterns), `cmd` tasks run without a shell, every task is killed at
/// ``LoadTesterConfiguration/timeout``, `hey` runs in the built-in ``LoadGenerator``, and gates are kept in a
/// ``GateStore``.
///
/// Background (`cmd`) tasks run only while ``run()`` runs; submitted before, they wait for it.
public final class LoadTester: Service, Sendable {
    /// The configuration the load tester was created with.
    public let configuration: LoadTesterConfiguration
    let logger: Logger
    let planner: TaskPlanner
    let namespacePattern: Pattern?
    let gates: GateBook
    let metrics: LoadTesterMetrics
    let slots: TaskSlots
    /// The token every request but `/healthz` must carry, when one is configured.
    let token: BearerTokenFile?
    let queue: BackgroundQueue
    let generator: LoadGenerator

    /// Extra environment for commands: the HTTP proxy, when one is configured.
    var proxyEnvironment: [String: String] {
        guard let proxy = configuration.httpProxy else { return [:] }
        let address = "http://\(proxy.host):\(proxy.port)"
        return [
            "http_proxy": address, "HTTP_PROXY": address, "no_proxy": "localhost,127.0.0.1",
            "NO_PROXY": "localhost,127.0.0.1",
        ]
    }
    let announcer = PortAnnouncer()

    /// Creates a load tester; throws when an allow-list entry or the namespace pattern is not a regular expression,
    /// or a limit is not positive.
    public init(
        configuration: LoadTesterConfiguration,
        logger: Logger,
        registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()
    ) throws(LoadTesterError) {
        guard configuration.timeout > .zero else {
            throw LoadTesterError(
                .invalidValue,
                "timeout: must be positive, got \(Self.text(configuration.timeout))"
            )
        }
        if let problem = configuration.guards.problems.first {
            throw LoadTesterError(.invalidValue, problem)
        }
        guard configuration.idleTimeout > .zero else {
            throw LoadTesterError(.invalidValue, "idleTimeout: must be positive, got \(configuration.idleTimeout)")
        }
        guard configuration.maximumBodyBytes > 0, configuration.maximumOutputBytes >= 0 else {
            throw LoadTesterError(
                .invalidValue,
                "maximumBodyBytes must be positive and maximumOutputBytes not negative"
            )
        }
        guard configuration.maximumGates > 0 else {
            throw LoadTesterError(.invalidValue, "maximumGates: must be positive, got \(configuration.maximumGates)")
        }
        guard configuration.maximumConcurrentTasks > 0 else {
            throw LoadTesterError(
                .invalidValue,
                "maximumConcurrentTasks: must be positive, got \(configuration.maximumConcurrentTasks)"
            )
        }
        self.configuration = configuration
        self.logger = logger
        slots = TaskSlots(capacity: configuration.maximumConcurrentTasks)
        token = try configuration.tokenFile.map { path throws(LoadTesterError) in
            do {
                return try BearerTokenFile(path: path, recheckInterval: configuration.tokenRecheckInterval)
            } catch {
                throw LoadTesterError(.invalidValue, "\(error)")
            }
        }
        queue = BackgroundQueue(slots: slots)
        let preferBuiltinHey = configuration.preferBuiltinHey
        planner = TaskPlanner(
            policy: try CommandPolicy(
                programs: configuration.programs,
                allow: configuration.allow,
                allowBash: configuration.allowBash
            ),
            builtinHey: { preferBuiltinHey || ProcessRunner.locate("hey") == nil }
        )
        namespacePattern = try configuration.namespaceRegexp.map { pattern throws(LoadTesterError) in
            try compilePattern(pattern, setting: "namespaceRegexp")
        }
        gates = GateBook(store: configuration.gateStore, capacity: configuration.maximumGates)
        metrics = LoadTesterMetrics(registry: registry)
        generator = LoadGenerator(logger: logger, rewrite: configuration.rewriteURL)
    }

    /// The port the server listens on: waits until it does, and is `nil` once it stopped or could not start.
    public func port() async -> Int? {
        await announcer.wait()
    }

    /// Loads the gates, serves HTTP and runs background tasks until graceful shutdown or cancellation; then stops
    /// accepting requests and kills the tasks still running.
    public func run() async throws {
        do {
            try await gates.loadIfNeeded()
        } catch {
            logger.error(
                "loading the gates failed; gates read as closed until the store answers",
                metadata: ["error": "\(error)"]
            )
        }
        let announcer = self.announcer
        let logger = self.logger
        // Slow or numerous clients cannot hold the server: header and body timeouts, a connection limit, and an
        // idle timeout between requests.
        let app = Application(
            responder: LoadTesterResponder(tester: self),
            server: ServerGuards(configuration.guards).http1(idleTimeout: configuration.idleTimeout),
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port),
                serverName: "fledge-loadtester"
            ),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.info("Starting load tester API on port \(port)", metadata: ["port": "\(port)"])
                announcer.announce(port)
            },
            logger: logger
        )
        defer { announcer.finish() }
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await app.run() }
            group.addTask {
                await cancelWhenGracefulShutdown { await self.runBackgroundTasks() }
            }
        }
    }

    /// Whether a request to `path` with this `Authorization` header may be served: always without a token file,
    /// and with one only for `/healthz` or with `Bearer <token>`. The HTTP server answers 401 otherwise.
    public func authorizes(path: String, authorization: String?) -> Bool {
        guard let token, path != "/healthz" else { return true }
        return token.accepts(authorization)
    }

    /// Answers one request: what the HTTP server calls, and what tests and an embedded use may call in process.
    ///
    /// The method is not checked, as in Flagger; a query string on `path` is ignored. The bearer token is not
    /// checked here: an in-process caller is trusted, and the HTTP server checks it first
    /// (``authorizes(path:authorization:)``).
    public func handle(method: String, path: String, body: [UInt8]) async -> (status: Int, body: String) {
        let route = path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)
        switch route ?? path {
        case "/healthz":
            return (200, "OK")
        case "/metrics":
            return (200, metrics.exposition())
        case "/gate/approve":
            return (200, "OK")
        case "/gate/halt":
            return (403, "Forbidden")
        case "/gate/check":
            return await checkGate(.gate, body: body)
        case "/gate/open":
            return await setGate(.gate, open: true, body: body)
        case "/gate/close":
            return await setGate(.gate, open: false, body: body)
        case "/rollback/check":
            return await checkGate(.rollback, body: body)
        case "/rollback/open":
            return await setGate(.rollback, open: true, body: body)
        case "/rollback/close":
            return await setGate(.rollback, open: false, body: body)
        default:
            return await startTask(body: body)
        }
    }

    /// ``handle(method:path:body:)`` with a text body.
    public func handle(method: String, path: String, body: String) async -> (status: Int, body: String) {
        await handle(method: method, path: path, body: Array(body.utf8))
    }

    // MARK: Payloads

    /// Decodes the payload and applies the namespace pattern.
    func authorizedPayload(_ body: [UInt8]) throws(Refusal) -> WebhookPayload {
        let payload: WebhookPayload
        do {
            payload = try WebhookPayload(decoding: body)
        } catch {
            logger.error("decoding the request body failed", metadata: ["error": "\(error.reason)"])
            throw Refusal(status: 400, message: "decoding the request body failed: \(error.reason)")
        }
        if let namespacePattern, !namespacePattern.matches(payload.namespace) {
            let pattern = configuration.namespaceRegexp ?? ""
            logger.warning(
                "namespace not allowed",
                metadata: ["canary": "\(payload.canary)", "namespace": "\(payload.namespace)"]
            )
            throw Refusal(
                status: 403,
                message: "namespace \"\(payload.namespace)\" is not allowed: it does not match \"\(pattern)\""
            )
        }
        return payload
    }

    // MARK: Gates

    func gatePayload(_ body: [UInt8]) throws(Refusal) -> WebhookPayload {
        let payload = try authorizedPayload(body)
        guard !payload.name.isEmpty, !payload.namespace.isEmpty else {
            throw Refusal(status: 400, message: "name and namespace are required in the payload to find the gate")
        }
        try GateNames.check(name: payload.name, namespace: payload.namespace)
        return payload
    }

    func checkGate(_ kind: GateKind, body: [UInt8]) async -> (status: Int, body: String) {
        let payload: WebhookPayload
        do {
            payload = try gatePayload(body)
        } catch {
            return (error.status, error.message)
        }
        let (open, loadError) = await gates.isOpen(kind.key(name: payload.name, namespace: payload.namespace))
        if let loadError {
            logger.error("reading the gates failed", metadata: ["error": "\(loadError)"])
        }
        let subject = kind == .gate ? "gate check" : "rollback check"
        logger.info("\(payload.canary) \(subject): approved \(open)", metadata: ["canary": "\(payload.canary)"])
        return open ? (200, "Approved") : (403, "Forbidden")
    }

    func setGate(_ kind: GateKind, open: Bool, body: [UInt8]) async -> (status: Int, body: String) {
        let payload: WebhookPayload
        do {
            payload = try gatePayload(body)
        } catch {
            return (error.status, error.message)
        }
        let subject = kind == .gate ? "gate" : "rollback"
        let change = open ? "opened" : "closed"
        do {
            try await gates.set(kind.key(name: payload.name, namespace: payload.namespace), open: open)
        } catch {
            switch error {
            case .full(let limit):
                logger.warning(
                    "\(payload.canary) \(subject) not opened: \(limit) gates are open, the limit",
                    metadata: ["canary": "\(payload.canary)"]
                )
                return (
                    507,
                    "\(payload.canary) \(subject) not opened: \(limit) gates are open, the load tester's limit "
                        + "(--max-gates); close gates that are no longer needed"
                )
            case .unreadable(let underlying):
                logger.error("reading the gates failed", metadata: ["error": "\(underlying)"])
                return (500, "\(payload.canary) \(subject) not \(change): the gate store cannot be read: \(underlying)")
            case .unwritable(let underlying):
                logger.error("saving the gates failed", metadata: ["error": "\(underlying)"])
                return (
                    500,
                    "\(payload.canary) \(subject) \(change) but not saved, so a restart forgets it: \(underlying)"
                )
            }
        }
        logger.info("\(payload.canary) \(subject) \(change)", metadata: ["canary": "\(payload.canary)"])
        return (202, "")
    }

    // MARK: Tasks

    func startTask(body: [UInt8]) async -> (status: Int, body: String) {
        let task: PlannedTask
        do {
            let payload = try authorizedPayload(body)
            task = try planner.plan(payload)
        } catch {
            if error.status == 403 {
                logger.warning("task refused", metadata: ["reason": "\(error.message)"])
            }
            return (error.status, error.message)
        }
        if task.blocking {
            guard slots.acquire() else { return busy(task) }
            defer { slots.release() }
            return await runBlocking(task)
        }
        switch queue.submit(task) {
        case .queued:
            break
        case .duplicate:
            metrics.skipped(task.type)
            logger.info(
                "command skipped \(task.commandLine) is already running",
                metadata: ["canary": "\(task.canary)"]
            )
        case .full:
            return busy(task)
        }
        return (202, "")
    }

    /// The 429 answer for a task beyond ``LoadTesterConfiguration/maximumConcurrentTasks``.
    func busy(_ task: PlannedTask) -> (status: Int, body: String) {
        metrics.throttled(task.type)
        let limit = configuration.maximumConcurrentTasks
        logger.warning(
            "command refused \(task.commandLine): \(limit) tasks are running, the limit",
            metadata: ["canary": "\(task.canary)"]
        )
        return (
            429,
            "command \(task.commandLine) not started: \(limit) tasks are running, the load tester's limit "
                + "(--max-tasks); try again when one has finished"
        )
    }

    func runBlocking(_ task: PlannedTask) async -> (status: Int, body: String) {
        let metadata: Logger.Metadata = ["canary": "\(task.canary)"]
        metrics.started(task.type)
        metrics.running.increment()
        defer { metrics.running.decrement() }
        logger.info("running command \(task.commandLine)", metadata: metadata)
        let outcome: ProcessOutcome
        let (argv, timeout, limit) = (task.argv, configuration.timeout, configuration.maximumOutputBytes)
        do {
            // A graceful shutdown kills the command and answers 503 rather than holding the shutdown for up to
            // the task timeout.
            outcome = try await cancelWhenGracefulShutdown {
                try await ProcessRunner.run(
                    argv,
                    timeout: timeout,
                    maximumOutputBytes: limit,
                    environment: self.proxyEnvironment
                )
            }
        } catch {
            let message = (error as? LaunchError)?.message ?? "\(error)"
            metrics.failed(task.type)
            logger.error("command failed \(task.commandLine) \(message)", metadata: metadata)
            return (500, "command \(task.commandLine) failed: \(message)")
        }
        switch outcome.termination {
        case .exited(0):
            if !outcome.output.isEmpty { logger.info("\(outcome.output)", metadata: metadata) }
            logger.info("command finished \(task.commandLine)", metadata: metadata)
            return (200, task.returnOutput ? outcome.output : "")
        case .timedOut:
            metrics.failed(task.type)
            let message =
                "command \(task.commandLine) timed out after \(Self.text(configuration.timeout))"
                + (outcome.output.isEmpty ? "" : ": \(outcome.output)")
            logger.error("\(message)", metadata: metadata)
            return (500, message)
        case .cancelled:
            metrics.failed(task.type)
            logger.warning("command stopped \(task.commandLine): the load tester is shutting down", metadata: metadata)
            return (503, "command \(task.commandLine) was stopped: the load tester is shutting down")
        case .exited, .signalled:
            metrics.failed(task.type)
            logger.error(
                "command failed \(task.commandLine) \(outcome.status) \(outcome.output)",
                metadata: metadata
            )
            return (500, "command \(task.commandLine) failed: \(outcome.output): \(outcome.status)")
        }
    }

    func runBackgroundTasks() async {
        await withDiscardingTaskGroup { group in
            for await task in queue.stream {
                group.addTask { await self.runBackground(task) }
            }
        }
    }

    func runBackground(_ task: PlannedTask) async {
        defer { queue.finish(task) }
        let metadata: Logger.Metadata = ["canary": "\(task.canary)"]
        metrics.started(task.type)
        metrics.running.increment()
        defer { metrics.running.decrement() }
        let timeout = Self.text(configuration.timeout)
        if let hey = task.hey {
            logger.info("command starting \(task.commandLine) (built-in load generator)", metadata: metadata)
            let summary: LoadSummary
            do {
                summary = try await generator.run(hey, limit: configuration.timeout)
            } catch {
                metrics.failed(task.type)
                logger.error("command failed \(task.commandLine) \(error)", metadata: metadata)
                return
            }
            var details = metadata
            details["requests"] = "\(summary.requests)"
            details["errors"] = "\(summary.errors.values.reduce(0, +))"
            details["statusCodes"] = .dictionary(
                summary.statusCodes.reduce(into: [:]) { $0["\($1.key)"] = "\($1.value)" }
            )
            if summary.stoppedAtLimit {
                metrics.failed(task.type)
                logger.error("command timed out after \(timeout) \(task.commandLine)", metadata: details)
                return
            }
            if task.logOutput { logger.info("\(summary)", metadata: metadata) }
            if Task.isCancelled {
                logger.warning(
                    "command stopped \(task.commandLine): the load tester is shutting down",
                    metadata: details
                )
            } else {
                logger.info("command finished \(task.commandLine)", metadata: details)
            }
            return
        }
        logger.info("command starting \(task.commandLine)", metadata: metadata)
        let outcome: ProcessOutcome
        do {
            outcome = try await ProcessRunner.run(
                task.argv,
                timeout: configuration.timeout,
                maximumOutputBytes: configuration.maximumOutputBytes,
                environment: proxyEnvironment
            )
        } catch {
            metrics.failed(task.type)
            logger.error("command failed \(task.commandLine) \(error.message)", metadata: metadata)
            return
        }
        switch outcome.termination {
        case .exited(0):
            if task.logOutput { logger.info("\(outcome.output)", metadata: metadata) }
            logger.info("command finished \(task.commandLine)", metadata: metadata)
        case .timedOut:
            metrics.failed(task.type)
            logger.error("command timed out after \(timeout) \(task.commandLine) \(outcome.output)", metadata: metadata)
        case .cancelled:
            metrics.failed(task.type)
            logger.warning("command stopped \(task.commandLine): the load tester is shutting down", metadata: metadata)
        case .exited, .signalled:
            metrics.failed(task.type)
            logger.error(
                "command failed \(task.commandLine) \(outcome.status) \(outcome.output)",
                metadata: metadata
            )
        }
    }
}

/// The load tester's task slots: a blocking task holds one while it runs, a background task from the moment it is
/// accepted until it ends.
final class TaskSlots: Sendable {
    let capacity: Int
    private let used = Mutex(0)

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Slots taken now.
    var inUse: Int { used.withLock { $0 } }

    /// Takes a slot; false when all are taken.
    func acquire() -> Bool {
        used.withLock { used in
            guard used < capacity else { return false }
            used += 1
            return true
        }
    }

    /// Gives a slot back.
    func release() {
        used.withLock { $0 = max(0, $0 - 1) }
    }
}

/// Background tasks waiting to run, and the ones submitted and not yet finished, to skip duplicates; each holds a
/// task slot from submission to ``finish(_:)``.
final class BackgroundQueue: Sendable {
    enum Submission: Equatable {
        /// Accepted; it holds a slot and runs once ``LoadTester/run()`` takes it.
        case queued
        /// The same command for the same canary is already queued or running.
        case duplicate
        /// Every task slot is taken.
        case full
    }

    let stream: AsyncStream<PlannedTask>
    private let continuation: AsyncStream<PlannedTask>.Continuation
    private let active = Mutex<Set<String>>([])
    private let slots: TaskSlots

    init(slots: TaskSlots) {
        self.slots = slots
        (stream, continuation) = AsyncStream.makeStream()
    }

    /// Queues the task unless it is a duplicate or no slot is free.
    func submit(_ task: PlannedTask) -> Submission {
        guard active.withLock({ $0.insert(task.key).inserted }) else { return .duplicate }
        guard slots.acquire() else {
            _ = active.withLock { $0.remove(task.key) }
            return .full
        }
        if case .terminated = continuation.yield(task) {
            finish(task)
        }
        return .queued
    }

    /// Forgets a task that ended, and frees its slot.
    func finish(_ task: PlannedTask) {
        _ = active.withLock { $0.remove(task.key) }
        slots.release()
    }
}

/// Tells waiters the port once the server listens.
final class PortAnnouncer: Sendable {
    private struct State {
        var port: Int?
        var finished = false
        var nextID = 0
        var waiters: [Int: CheckedContinuation<Int?, Never>] = [:]
    }

    private let state = Mutex(State())

    func announce(_ port: Int) {
        let waiters = state.withLock { state in
            state.port = port
            defer { state.waiters = [:] }
            return state.waiters
        }
        for waiter in waiters.values { waiter.resume(returning: port) }
    }

    func finish() {
        let waiters = state.withLock { state in
            state.port = nil
            state.finished = true
            defer { state.waiters = [:] }
            return state.waiters
        }
        for waiter in waiters.values { waiter.resume(returning: nil) }
    }

    func wait() async -> Int? {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let answer: Int?? = state.withLock { state in
                    if let port = state.port { return .some(port) }
                    if state.finished || Task.isCancelled { return .some(nil) }
                    state.waiters[id] = continuation
                    return .none
                }
                if let answer { continuation.resume(returning: answer) }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume(returning: nil)
        }
    }
}

extension LoadTester {
    /// A duration as Go prints it (`1h0m0s`, `30s`).
    static func text(_ duration: Duration) -> String {
        let nanoseconds = duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
        return GoDuration(nanoseconds: nanoseconds).description
    }
}

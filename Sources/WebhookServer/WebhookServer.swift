import Admission
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdHTTP2
import Logging
import NIOCore
import NIOSSL
import Prometheus
import ServerGuards
import ServiceLifecycle
import Synchronization

/// Settings of the admission server; built by the executable from flags.
public struct WebhookServerConfiguration: Sendable {
    public var host: String
    /// 0 picks a free port (tests); ``WebhookServer/port`` tells which.
    public var port: Int
    /// Directory holding `tls.crt` and `tls.key`.
    public var certificateDirectory: String
    /// When set, clients must present a certificate signed by one of these CAs.
    public var clientCAFile: String?
    /// How often the certificate files are checked for a change; must be positive.
    public var certificateReloadInterval: Duration
    /// Connections idle for this long are closed.
    public var idleTimeout: Duration
    /// Offer HTTP/2 by ALPN. Off by default: admission traffic gains nothing from it and HTTP/2 servers carry
    /// risks HTTP/1.1 ones do not (Rapid Reset, CVE-2023-44487).
    public var http2: Bool
    /// TLS versions and TLS 1.2 cipher suites.
    public var tls: TLSPolicy
    /// Header and body timeouts and the connection limit, for the webhook port and the metrics port alike.
    public var guards: ServerGuardsConfiguration
    /// After graceful shutdown starts, how long the server keeps accepting and answering with `/readyz` failing,
    /// so endpoints and load balancers stop sending before it stops accepting.
    public var drainDelay: Duration
    /// How the drain waits ``drainDelay`` (the clock; tests end the wait when they choose).
    public var drainWait: @Sendable (Duration) async throws -> Void
    /// Threads that run admission work (parsing, decoding, validation, patches), off the event loops and off the
    /// cooperative pool.
    public var admissionThreads: Int
    /// Reviews whose body is at most this many bytes are answered on the connection's own task instead: their work
    /// is shorter than the hand-off to an admission thread and back (a review's cost grows with its size), and
    /// typical reviews (2-10 KiB) are far below it.
    public var inlineReviewBytes: Int
    /// Bytes of request bodies admitted at once; the work on a body takes a multiple of it (see the server docs).
    public var memoryBudgetBytes: Int
    /// How long a review waits for room in the memory budget before it is answered 429.
    public var memoryBudgetPatience: Duration
    /// Where `/metrics` is served; `nil` serves it nowhere.
    public var metrics: MetricsExposure?

    public init(
        host: String = "0.0.0.0",
        port: Int = 9443,
        certificateDirectory: String,
        clientCAFile: String? = nil,
        certificateReloadInterval: Duration = .seconds(5),
        idleTimeout: Duration = .seconds(90),
        http2: Bool = false,
        tls: TLSPolicy = .default,
        guards: ServerGuardsConfiguration = ServerGuardsConfiguration(),
        drainDelay: Duration = .zero,
        drainWait: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
        admissionThreads: Int = System.coreCount,
        inlineReviewBytes: Int = 16 * 1024,
        memoryBudgetBytes: Int = 8 * 1024 * 1024,
        memoryBudgetPatience: Duration = .seconds(1),
        metrics: MetricsExposure? = MetricsExposure(place: .webhookPort)
    ) {
        self.http2 = http2
        self.host = host
        self.port = port
        self.certificateDirectory = certificateDirectory
        self.clientCAFile = clientCAFile
        self.certificateReloadInterval = certificateReloadInterval
        self.idleTimeout = idleTimeout
        self.tls = tls
        self.guards = guards
        self.drainDelay = drainDelay
        self.drainWait = drainWait
        self.admissionThreads = admissionThreads
        self.inlineReviewBytes = inlineReviewBytes
        self.memoryBudgetBytes = memoryBudgetBytes
        self.memoryBudgetPatience = memoryBudgetPatience
        self.metrics = metrics
    }

    /// The problems with these settings, each naming the setting and the fix; empty when the server can start.
    public var problems: [String] {
        var problems = guards.problems
        if certificateReloadInterval <= .zero {
            problems.append(
                "certificate reload interval: must be positive, got \(certificateReloadInterval) "
                    + "(a zero interval would check the files in a busy loop)"
            )
        }
        if idleTimeout <= .zero { problems.append("idle timeout: must be positive, got \(idleTimeout)") }
        if drainDelay < .zero { problems.append("drain delay: must not be negative, got \(drainDelay)") }
        if admissionThreads < 1 {
            problems.append("admission threads: must be at least 1, got \(admissionThreads)")
        }
        if inlineReviewBytes < 0 {
            problems.append("inline review bytes: must not be negative, got \(inlineReviewBytes)")
        }
        if memoryBudgetBytes < 1 {
            problems.append("memory budget: must be at least 1 byte, got \(memoryBudgetBytes)")
        }
        if memoryBudgetPatience < .zero {
            problems.append("memory budget patience: must not be negative, got \(memoryBudgetPatience)")
        }
        return problems
    }
}

/// Why the server's configuration was refused.
public struct WebhookServerConfigurationError: Error, CustomStringConvertible, Sendable {
    /// Each problem, naming the setting, the value and the fix.
    public var problems: [String]
    public var description: String { problems.joined(separator: "; ") }
}

/// The admission gate's HTTPS server: a `Service` that serves until graceful shutdown, then drains: it reports
/// not-ready and keeps accepting for ``WebhookServerConfiguration/drainDelay``, then stops accepting connections and
/// lets requests in flight finish.
public final class WebhookServer: Service, Sendable {
    public let configuration: WebhookServerConfiguration
    /// What answers the admission requests.
    public let reviewer: any AdmissionReviewer
    public let metrics: WebhookMetrics
    public let readiness = Readiness()
    public let certificates: CertificateStore
    /// The bytes of request bodies in flight, against the memory budget.
    public let budget: ByteBudget
    let maximumBodyBytes: Int
    let logger: Logger
    let boundPort = AsyncStream<Int>.makeStream()
    let boundMetricsPort = AsyncStream<Int>.makeStream()

    /// Loads the certificate; throws when it cannot be loaded or the configuration is not usable.
    public convenience init(
        configuration: WebhookServerConfiguration,
        admission: AdmissionService,
        metrics: WebhookMetrics = WebhookMetrics(),
        logger: Logger
    ) throws {
        try self.init(
            configuration: configuration,
            reviewer: admission,
            maximumBodyBytes: admission.configuration.maximumBodyBytes,
            metrics: metrics,
            logger: logger
        )
    }

    /// A server whose admission requests `reviewer` answers; bodies over `maximumBodyBytes` are refused with 413.
    public init(
        configuration: WebhookServerConfiguration,
        reviewer: any AdmissionReviewer,
        maximumBodyBytes: Int,
        metrics: WebhookMetrics = WebhookMetrics(),
        logger: Logger
    ) throws {
        let problems = configuration.problems
        guard problems.isEmpty else { throw WebhookServerConfigurationError(problems: problems) }
        self.configuration = configuration
        self.reviewer = reviewer
        self.maximumBodyBytes = maximumBodyBytes
        self.metrics = metrics
        self.logger = logger
        self.budget = ByteBudget(capacity: configuration.memoryBudgetBytes)
        self.certificates = try CertificateStore(
            directory: configuration.certificateDirectory,
            clientCAFile: configuration.clientCAFile,
            offersHTTP2: configuration.http2,
            policy: configuration.tls
        )
        metrics.setCertificateExpiry(certificates.notValidAfter)
    }

    /// The port the server listens on, once it does.
    public func port() async -> Int? {
        for await port in boundPort.stream { return port }
        return nil
    }

    /// The port of the separate metrics listener, once it listens; `nil` when there is none.
    public func metricsPort() async -> Int? {
        for await port in boundMetricsPort.stream { return port }
        return nil
    }

    public func run() async throws {
        let executor = AdmissionExecutor(threads: configuration.admissionThreads)
        let metrics = self.metrics
        let guards = ServerGuards(configuration.guards) { metrics.guardClosed($0) }
        var metricsOnWebhookPort: MetricsAccess?
        if configuration.metrics?.place == .webhookPort {
            metricsOnWebhookPort = MetricsAccess(tokenFile: configuration.metrics?.tokenFile)
        }
        let responder = WebhookResponder(
            reviewer: reviewer,
            executor: executor,
            inlineReviewBytes: configuration.inlineReviewBytes,
            budget: budget,
            budgetPatience: configuration.memoryBudgetPatience,
            metrics: metrics,
            readiness: readiness,
            maximumBodyBytes: maximumBodyBytes,
            metricsAccess: metricsOnWebhookPort
        )
        let certificates = self.certificates
        let http1Configuration = guards.http1Configuration(idleTimeout: configuration.idleTimeout)
        let server: HTTPServerBuilder
        if configuration.http2 {
            let idleTimeout = configuration.idleTimeout
            server = HTTPServerBuilder { responder in
                GuardedChildChannel(
                    base: try ReloadingHTTP2Channel(certificates: certificates, guards: guards) { tls in
                        try HTTP2UpgradeChannel(
                            tlsConfiguration: tls,
                            configuration: .init(idleTimeout: idleTimeout, streamConfiguration: http1Configuration),
                            responder: responder
                        )
                    },
                    guards: guards
                )
            }
        } else {
            server = HTTPServerBuilder { responder in
                GuardedChildChannel(
                    base: ReloadingTLSChannel(
                        base: HTTP1Channel(responder: responder, configuration: http1Configuration),
                        certificates: certificates
                    ),
                    guards: guards
                )
            }
        }
        let readiness = self.readiness
        let boundPort = self.boundPort
        let logger = self.logger
        let app = Application(
            responder: responder,
            server: server,
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port),
                serverName: "fledge"
            ),
            onServerRunning: { channel in
                readiness.markListening()
                let port = channel.localAddress?.port ?? 0
                logger.info("admission webhook listening", metadata: ["port": "\(port)", "tls": "true"])
                boundPort.continuation.yield(port)
                boundPort.continuation.finish()
            },
            logger: logger
        )
        // Shut down in reverse order: the drain first (not ready, still accepting), then the webhook port (stops
        // accepting, finishes what is in flight), then the metrics port, then the certificate watcher.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: CertificateWatcher(server: self))
        ]
        if case .separate(let host, let port) = configuration.metrics?.place {
            let metricsGuards = ServerGuards(configuration.guards) { metrics.guardClosed($0) }
            let boundMetricsPort = self.boundMetricsPort
            services.append(
                .init(
                    service: Application(
                        responder: ObservabilityResponder(
                            metrics: metrics,
                            readiness: readiness,
                            access: MetricsAccess(tokenFile: configuration.metrics?.tokenFile)
                        ),
                        server: metricsGuards.http1(idleTimeout: configuration.idleTimeout),
                        configuration: ApplicationConfiguration(
                            address: .hostname(host, port: port),
                            serverName: "fledge"
                        ),
                        onServerRunning: { channel in
                            let port = channel.localAddress?.port ?? 0
                            logger.info("metrics listening", metadata: ["port": "\(port)", "tls": "false"])
                            boundMetricsPort.continuation.yield(port)
                            boundMetricsPort.continuation.finish()
                        },
                        logger: logger
                    )
                )
            )
        } else {
            boundMetricsPort.continuation.finish()
        }
        services.append(.init(service: app))
        services.append(
            .init(
                service: DrainGate(
                    delay: configuration.drainDelay,
                    wait: configuration.drainWait,
                    readiness: readiness,
                    logger: logger
                )
            )
        )
        let group = ServiceGroup(configuration: .init(services: services, logger: logger))
        do {
            try await group.run()
        } catch {
            await executor.shutdown()
            boundPort.continuation.finish()
            throw error
        }
        await executor.shutdown()
        boundPort.continuation.finish()
    }

    func checkCertificates() {
        do {
            if try certificates.reloadIfChanged() {
                metrics.certificateReloads.increment()
                metrics.setCertificateExpiry(certificates.notValidAfter)
                logger.info(
                    "serving certificate reloaded",
                    metadata: ["notValidAfter": "\(certificates.notValidAfter.map { "\($0)" } ?? "unknown")"]
                )
            }
        } catch {
            logger.error(
                "serving certificate changed but does not load; keeping the previous one",
                metadata: ["error": "\(error)"]
            )
        }
    }
}

/// Checks the certificate files every reload interval until the servers it serves have stopped (it is shut down
/// last: during a drain, connections still open keep being served and may outlive a rotation).
struct CertificateWatcher: Service {
    let server: WebhookServer

    func run() async throws {
        let interval = server.configuration.certificateReloadInterval
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: interval)
                } catch {
                    return
                }
                server.checkCertificates()
            }
        }
    }
}

/// The first service to be shut down: on graceful shutdown it marks the server not ready and waits the drain delay
/// while the webhook port still accepts and answers (endpoints take a moment to drop a terminating pod), then ends,
/// which lets the service group stop the listener.
struct DrainGate: Service {
    let delay: Duration
    let wait: @Sendable (Duration) async throws -> Void
    let readiness: Readiness
    let logger: Logger

    func run() async throws {
        do {
            try await gracefulShutdown()
        } catch {
            return
        }
        readiness.markDraining()
        logger.info(
            "draining: not ready; still accepting for the drain delay, then finishing requests in flight",
            metadata: ["drainDelay": "\(delay)"]
        )
        if delay > .zero { try? await wait(delay) }
        logger.info("draining: no new connections; finishing requests in flight")
    }
}

/// A child channel that wraps `Base` in TLS using the certificate current when the connection is accepted.
struct ReloadingTLSChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value

    let base: Base
    let certificates: CertificateStore

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let context = certificates.context
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension ReloadingTLSChannel: HTTPChannelHandler where Base: HTTPChannelHandler {
    var responder: HTTPChannelHandler.Responder { base.responder }
}

/// HTTP/1.1 and HTTP/2 by ALPN, over the certificate current when the connection is accepted: Hummingbird's upgrade
/// channel binds its TLS context at construction, so one is built per certificate generation and reused.
struct ReloadingHTTP2Channel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = HTTP2UpgradeChannel.Value

    let certificates: CertificateStore
    /// Times the TLS handshake: the HTTP handlers that time requests are added only after it.
    let guards: ServerGuards
    let make: @Sendable (TLSConfiguration) throws -> HTTP2UpgradeChannel
    private let cache: Cache

    final class Cache: Sendable {
        let state: Mutex<(generation: Int, channel: HTTP2UpgradeChannel)>
        init(_ initial: (generation: Int, channel: HTTP2UpgradeChannel)) { state = Mutex(initial) }
    }

    init(
        certificates: CertificateStore,
        guards: ServerGuards,
        make: @escaping @Sendable (TLSConfiguration) throws -> HTTP2UpgradeChannel
    ) throws {
        self.certificates = certificates
        self.guards = guards
        self.make = make
        let current = certificates.current
        cache = Cache((current.generation, try make(current.configuration)))
    }

    var responder: HTTPChannelHandler.Responder { cache.state.withLock { $0.channel.responder } }

    func channel() throws -> HTTP2UpgradeChannel {
        let current = certificates.current
        if let cached = cache.state.withLock({ $0.generation == current.generation ? $0.channel : nil }) {
            return cached
        }
        let fresh = try make(current.configuration)
        cache.state.withLock { $0 = (current.generation, fresh) }
        return fresh
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        do {
            let value = try self.channel().setup(channel: channel, logger: logger)
            let operations = channel.pipeline.syncOperations
            let tls = try operations.handler(type: NIOSSLServerHandler.self)
            try operations.addHandler(HandshakeTimeoutHandler(guards: guards), position: .after(tls))
            return value
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
    }

    func handle(value: Value, logger: Logger) async {
        guard let channel = try? self.channel() else { return }
        await channel.handle(value: value, logger: logger)
    }
}

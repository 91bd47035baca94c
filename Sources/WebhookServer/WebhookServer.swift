import Admission
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdHTTP2
import Logging
import NIOCore
import NIOSSL
import Prometheus
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
    /// How often the certificate files are checked for a change.
    public var certificateReloadInterval: Duration
    /// Connections idle for this long are closed.
    public var idleTimeout: Duration
    /// Offer HTTP/2 by ALPN. Off by default: admission traffic gains nothing from it and HTTP/2 servers carry
    /// risks HTTP/1.1 ones do not (Rapid Reset, CVE-2023-44487).
    public var http2: Bool

    public init(
        host: String = "0.0.0.0",
        port: Int = 9443,
        certificateDirectory: String,
        clientCAFile: String? = nil,
        certificateReloadInterval: Duration = .seconds(5),
        idleTimeout: Duration = .seconds(90),
        http2: Bool = false
    ) {
        self.http2 = http2
        self.host = host
        self.port = port
        self.certificateDirectory = certificateDirectory
        self.clientCAFile = clientCAFile
        self.certificateReloadInterval = certificateReloadInterval
        self.idleTimeout = idleTimeout
    }
}

/// The admission gate's HTTPS server: a `Service` that serves until graceful shutdown, then stops accepting
/// connections, reports not-ready, and lets requests in flight finish.
public final class WebhookServer: Service, Sendable {
    public let configuration: WebhookServerConfiguration
    public let admission: AdmissionService
    public let metrics: WebhookMetrics
    public let readiness = Readiness()
    public let certificates: CertificateStore
    let logger: Logger
    let boundPort = AsyncStream<Int>.makeStream()

    /// Loads the certificate; throws when it cannot be loaded.
    public init(
        configuration: WebhookServerConfiguration,
        admission: AdmissionService,
        metrics: WebhookMetrics = WebhookMetrics(),
        logger: Logger
    ) throws {
        self.configuration = configuration
        self.admission = admission
        self.metrics = metrics
        self.logger = logger
        self.certificates = try CertificateStore(
            directory: configuration.certificateDirectory,
            clientCAFile: configuration.clientCAFile,
            offersHTTP2: configuration.http2
        )
        metrics.setCertificateExpiry(certificates.notValidAfter)
    }

    /// The port the server listens on, once it does.
    public func port() async -> Int? {
        for await port in boundPort.stream { return port }
        return nil
    }

    public func run() async throws {
        let responder = WebhookResponder(
            admission: admission,
            metrics: metrics,
            readiness: readiness,
            maximumBodyBytes: admission.configuration.maximumBodyBytes
        )
        let certificates = self.certificates
        let idle = TimeAmount.nanoseconds(
            configuration.idleTimeout.components.seconds * 1_000_000_000
                + configuration.idleTimeout.components.attoseconds / 1_000_000_000
        )
        let http1Configuration = HTTP1Channel.Configuration(idleTimeout: idle)
        let server: HTTPServerBuilder
        if configuration.http2 {
            let idleTimeout = configuration.idleTimeout
            server = HTTPServerBuilder { responder in
                try ReloadingHTTP2Channel(certificates: certificates) { tls in
                    try HTTP2UpgradeChannel(
                        tlsConfiguration: tls,
                        configuration: .init(idleTimeout: idleTimeout, streamConfiguration: http1Configuration),
                        responder: responder
                    )
                }
            }
        } else {
            server = HTTPServerBuilder { responder in
                ReloadingTLSChannel(
                    base: HTTP1Channel(responder: responder, configuration: http1Configuration),
                    certificates: certificates
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
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await app.run() }
                group.addTask { await self.watchCertificates() }
                // The watcher ends only when cancelled, so the first task to finish is the server.
                try await group.next()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            readiness.markDraining()
            logger.info("draining: no new connections; finishing requests in flight")
        }
        boundPort.continuation.finish()
    }

    func watchCertificates() async {
        // Runs until cancelled: during a drain, connections still open keep being served and may outlive a rotation.
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: configuration.certificateReloadInterval)
            } catch {
                return
            }
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
    let make: @Sendable (TLSConfiguration) throws -> HTTP2UpgradeChannel
    private let cache: Cache

    final class Cache: Sendable {
        let state: Mutex<(generation: Int, channel: HTTP2UpgradeChannel)>
        init(_ initial: (generation: Int, channel: HTTP2UpgradeChannel)) { state = Mutex(initial) }
    }

    init(
        certificates: CertificateStore,
        make: @escaping @Sendable (TLSConfiguration) throws -> HTTP2UpgradeChannel
    ) throws {
        self.certificates = certificates
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
            return try self.channel().setup(channel: channel, logger: logger)
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
    }

    func handle(value: Value, logger: Logger) async {
        guard let channel = try? self.channel() else { return }
        await channel.handle(value: value, logger: logger)
    }
}

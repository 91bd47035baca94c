import Admission
import AdmissionCluster
import ArgumentParser
import AsyncHTTPClient
import CanaryModel
import CommandSupport
import Foundation
import JSONValue
import KubeClient
import KubeModels
import Logging
import NIOCore
import Progression
import Prometheus
import ServerGuards
import ServiceLifecycle
import UnixSignals
import WebhookServer

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the admission webhooks over TLS.",
        discussion: """
            Serves POST /mutate-flagger-app-v1beta1-canary, /validate-flagger-app-v1beta1-canary and \
            /validate-apps-v1-deployment, plus /healthz and /readyz, on one HTTPS port; /metrics (and the probes) on \
            --metrics-listen. tls.crt and tls.key are reloaded when they change. SIGTERM fails /readyz, keeps \
            answering for --drain-delay, then stops accepting connections and lets requests in flight finish.
            """
    )

    @Option(help: "Address to listen on, HOST:PORT.")
    var listen = "0.0.0.0:9443"

    @Option(help: "Directory holding tls.crt and tls.key (a mounted Secret); reloaded when they change.")
    var tlsCertDir = "/etc/fledge/tls"

    @Flag(
        help:
            "Run without any cluster access; checks across objects (one Canary per workload, missing targets) are skipped."
    )
    var admissionOnly = false

    @Option(help: "Provider written into Canaries that name none: \(Provider.supportedNames.joined(separator: ", ")).")
    var defaultProvider = "linkerd"

    @Option(help: "PEM CA bundle; when given, clients must present a certificate it signed.")
    var clientCaFile: String?

    @Option(help: "Kubeconfig to reach the cluster with (default: in-cluster, then $KUBECONFIG, then ~/.kube/config).")
    var kubeconfig: String?

    @Option(
        help: ArgumentHelp(
            "Users allowed to change the -primary Deployments a Canary owns; a trailing * matches any suffix.",
            valueName: "user,..."
        )
    )
    var primaryEditors = AdmissionConfiguration.defaultPrimaryEditors.joined(separator: ",")

    @Flag(help: "Also offer HTTP/2 (by ALPN). Off by default: HTTP/1.1 keep-alive is all the API server needs.")
    var http2 = false

    @Option(help: "Seconds to let requests in flight finish after SIGTERM (the drain delay included).")
    var shutdownTimeout = 25

    @Option(
        help: ArgumentHelp(
            "After SIGTERM, how long to keep accepting and answering while /readyz fails, so endpoints drop the pod "
                + "before it stops accepting.",
            valueName: "duration"
        )
    )
    var drainDelay = "5s"

    @Option(help: "Seconds between checks of the certificate files for a change (at least 1).")
    var certReloadInterval = 5

    @OptionGroup var guards: ServerGuardOptions

    @Option(help: "Oldest TLS version accepted: 1.2 or 1.3.")
    var tlsMinVersion = "1.2"

    @Option(
        help: ArgumentHelp(
            "TLS 1.2 cipher suites, comma-separated IANA or OpenSSL names (default: ECDHE with AES-GCM or "
                + "ChaCha20-Poly1305 only).",
            valueName: "suite,..."
        )
    )
    var tlsCipherSuites = ""

    @Option(
        help: ArgumentHelp(
            "Serve /metrics, /healthz and /readyz over plain HTTP here, and not /metrics on the webhook port; 'off' "
                + "serves /metrics on the webhook port, and only with --metrics-token-file.",
            valueName: "HOST:PORT|off"
        )
    )
    var metricsListen = "0.0.0.0:9090"

    @Option(help: "File holding a bearer token that /metrics requires (read at every scrape).")
    var metricsTokenFile: String?

    @Option(
        help: "MiB of request bodies under review at once; a review beyond it waits up to a second, then gets 429."
    )
    var memoryBudgetMib = 8

    @Option(help: "Threads for admission work: parsing, validation, patches (default: one per core).")
    var admissionThreads: Int?

    @Option(help: "Prometheus address for built-in metrics and inline queries (a Canary's spec.metricsServer wins).")
    var metricsServer = "http://prometheus:9090"

    @Option(help: "Run releases only for Canaries in this namespace (default: every namespace).")
    var namespace: String?

    @Flag(help: "Serve admission only; do not run the progression worker.")
    var noWorker = false

    @Flag(
        help: """
            Refuse every MetricTemplate and AlertProvider reference to another namespace (as Flagger's flag does). \
            Without it, such a reference works only when the referenced object opts in with the annotation \
            fledge.dev/cross-namespace-refs.
            """
    )
    var noCrossNamespaceRefs = false

    @Flag(
        help: """
            Show the text of webhook and Prometheus answers in Events and status messages. Off by default: anyone who \
            can write a Canary could point a webhook at an internal service and read its answer back. Answers always \
            go to the debug log.
            """
    )
    var showAnswersInEvents = false

    @Flag(
        help: """
            List and watch Secrets (keeping only checksums) so a tick with nothing to do reads none. Needs RBAC to \
            list and watch Secrets; off by default, when tracked Secrets are read by name at each tick.
            """
    )
    var watchSecrets = false

    @Option(help: "Longest one analysis tick may run, as a Go duration, before it is cancelled.")
    var tickTimeout = "20m"

    @Option(
        help: ArgumentHelp(
            "URL of a load tester started with --token-file (repeatable); only hooks at its origin get the token.",
            valueName: "url"
        )
    )
    var loadtesterURL: [String] = []

    @Option(help: "File holding the load testers' bearer token (a mounted Secret; re-read as it rotates).")
    var loadtesterTokenFile: String?

    @Option(
        help:
            "Namespace of the Lease that elects the replica running the worker (default: $POD_NAMESPACE or fledge-system)."
    )
    var leaderElectionNamespace: String?

    @Option(help: "Name of that Lease.")
    var leaderElectionID = "fledge-leader"

    @Option(help: "Run release timers this many times faster (testing only).")
    var speed: Double = 1

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"

    func validate() throws {
        guard Provider(rawValue: defaultProvider) != nil else {
            throw ValidationError(
                "--default-provider \(defaultProvider) is not driven by Fledge; use one of "
                    + Provider.supportedNames.joined(separator: ", ")
            )
        }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError(
                "--log-level \(logLevel) is not one of trace, debug, info, notice, warning, error, critical"
            )
        }
        _ = try ListenAddress(listen)
        guard let timeout = GoDuration(tickTimeout), timeout.nanoseconds > 0 else {
            throw ValidationError("--tick-timeout \(tickTimeout) is not a positive Go duration such as 20m")
        }
        guard certReloadInterval >= 1 else {
            throw ValidationError(
                "--cert-reload-interval \(certReloadInterval) must be at least 1 (seconds between checks of the "
                    + "certificate files)"
            )
        }
        guard shutdownTimeout >= 1 else {
            throw ValidationError("--shutdown-timeout \(shutdownTimeout) must be at least 1")
        }
        let drain = try FlagDuration.parse(drainDelay, flag: "--drain-delay", allowZero: true)
        guard drain < .seconds(shutdownTimeout) else {
            throw ValidationError(
                "--drain-delay \(drainDelay) must be shorter than --shutdown-timeout \(shutdownTimeout), which also "
                    + "covers finishing the requests in flight"
            )
        }
        do {
            _ = try TLSPolicy.parse(minimumVersion: tlsMinVersion, cipherSuites: tlsCipherSuites)
        } catch {
            throw ValidationError("--tls-min-version/--tls-cipher-suites: \(error)")
        }
        _ = try metricsExposure()
        guard memoryBudgetMib >= 1, memoryBudgetMib <= 64 * 1024 else {
            throw ValidationError("--memory-budget-mib \(memoryBudgetMib) must be between 1 and 65536")
        }
        if let admissionThreads, admissionThreads < 1 || admissionThreads > 256 {
            throw ValidationError("--admission-threads \(admissionThreads) must be between 1 and 256")
        }
    }

    /// Where /metrics goes: a separate listener, or the webhook port with a token, or nowhere.
    func metricsExposure() throws -> MetricsExposure? {
        if metricsListen == "off" {
            return metricsTokenFile.map { MetricsExposure(place: .webhookPort, tokenFile: $0) }
        }
        let address = try ListenAddress(metricsListen, flag: "--metrics-listen")
        return MetricsExposure(place: .separate(host: address.host, port: address.port), tokenFile: metricsTokenFile)
    }

    func run() async throws {
        let logger = Logger.json("fledge", level: Logger.Level(rawValue: logLevel) ?? .info)
        let address = try ListenAddress(listen)
        var cluster: (any ClusterView)?
        var client: KubeClient?
        if !admissionOnly {
            let connected = try await connect(logger: logger)
            client = connected
            cluster = KubeClusterView(lister: CachedCanaryLister(client: connected))
        }
        let hints = ReleaseHints()
        let admission = AdmissionService(
            configuration: AdmissionConfiguration(
                defaultProvider: defaultProvider,
                primaryEditors: primaryEditors.split(separator: ",").map {
                    $0.trimmingCharacters(in: .whitespaces)
                }
            ),
            cluster: cluster,
            hints: hints,
            logger: logger
        )
        let server: WebhookServer
        do {
            server = try WebhookServer(
                configuration: WebhookServerConfiguration(
                    host: address.host,
                    port: address.port,
                    certificateDirectory: tlsCertDir,
                    clientCAFile: clientCaFile,
                    certificateReloadInterval: .seconds(certReloadInterval),
                    http2: http2,
                    tls: try TLSPolicy.parse(minimumVersion: tlsMinVersion, cipherSuites: tlsCipherSuites),
                    guards: try guards.configuration(),
                    drainDelay: try FlagDuration.parse(drainDelay, flag: "--drain-delay", allowZero: true),
                    admissionThreads: admissionThreads ?? System.coreCount,
                    memoryBudgetBytes: memoryBudgetMib * 1024 * 1024,
                    metrics: try metricsExposure()
                ),
                admission: admission,
                logger: logger
            )
        } catch {
            throw fail(
                "fledge: \(error)\nMake a certificate with: fledge certs --out-dir \(tlsCertDir) --dns-name <host>"
            )
        }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: server)]
        var electionClients: [KubeClient] = []
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        if let client, !noWorker {
            let worker = ProgressionWorker(
                releaser: Releaser(
                    client: client,
                    configuration: ProgressionConfiguration(
                        defaultProvider: defaultProvider,
                        metricsServer: metricsServer,
                        namespace: namespace,
                        crossNamespaceRefs: !noCrossNamespaceRefs,
                        answersInEvents: showAnswersInEvents,
                        tickTimeout: .nanoseconds(GoDuration(tickTimeout)?.nanoseconds ?? 1_200_000_000_000),
                        loadTester: try loadTesterCredentials(),
                        watchSecrets: watchSecrets
                    ),
                    http: http,
                    clock: ScaledClock(speed: speed),
                    metrics: ProgressionMetrics(
                        factory: PrometheusMetricsFactory(registry: server.metrics.registry),
                        version: Fledge.version,
                        meshProvider: defaultProvider
                    ),
                    logger: logger,
                    cache: ClusterCache(client: client, logger: logger)
                ),
                client: client,
                hints: hints,
                clock: ScaledClock(speed: speed),
                logger: logger
            )
            let identity = ProcessInfo.processInfo.environment["POD_NAME"] ?? ProcessInfo.processInfo.hostName
            // A client of its own: the worker's and the admission gate's requests never queue ahead of a renewal.
            let electionClient = try await connect(logger: logger)
            electionClients.append(electionClient)
            let elector = LeaderElector(
                client: electionClient,
                configuration: LeaderElectionConfiguration(
                    namespace: leaderElectionNamespace ?? ProcessInfo.processInfo.environment["POD_NAMESPACE"]
                        ?? "fledge-system",
                    leaseName: leaderElectionID,
                    identity: "\(identity)-\(UUID().uuidString.prefix(8).lowercased())"
                ),
                logger: logger,
                whileLeading: { try await worker.run() }
            )
            services.append(.init(service: elector))
            services.append(
                .init(
                    service: HintForwarder(client: client, hints: hints, isLeader: { elector.isLeader }, logger: logger)
                )
            )
        } else if let client {
            // Admission without a worker: the replica that leads finds out through the Canary.
            services.append(
                .init(service: HintForwarder(client: client, hints: hints, isLeader: { false }, logger: logger))
            )
        }
        var groupConfiguration = ServiceGroupConfiguration(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(shutdownTimeout)
        if metricsListen == "off" && metricsTokenFile == nil {
            logger.notice("/metrics is not served: --metrics-listen is off and no --metrics-token-file is given")
        }
        let group = ServiceGroup(configuration: groupConfiguration)
        try await group.run()
        try await http.shutdown()
        try await client?.shutdown()
        for electionClient in electionClients { try await electionClient.shutdown() }
        logger.info("stopped")
    }

    /// The load testers' token and the origins it may go to, from --loadtester-url and --loadtester-token-file.
    func loadTesterCredentials() throws -> LoadTesterCredentials? {
        guard let loadtesterTokenFile else {
            guard loadtesterURL.isEmpty else {
                throw ValidationError("--loadtester-url needs --loadtester-token-file (the token to send there)")
            }
            return nil
        }
        guard !loadtesterURL.isEmpty else {
            throw ValidationError("--loadtester-token-file needs at least one --loadtester-url to send the token to")
        }
        do {
            return try LoadTesterCredentials(urls: loadtesterURL, token: BearerTokenFile(path: loadtesterTokenFile))
        } catch {
            throw ValidationError("--loadtester-url/--loadtester-token-file: \(error)")
        }
    }

    func connect(logger: Logger) async throws -> KubeClient {
        let advice = "run with --admission-only to serve without cluster access"
        let config: KubeConfig
        do {
            config = try KubeConfig.resolve(kubeconfigPath: kubeconfig)
        } catch {
            throw fail("fledge: \(error); \(advice)")
        }
        let client = try KubeClient(config: config, requestTimeout: .seconds(10), logger: logger)
        do {
            let version = try await client.get("/version")
            logger.info(
                "connected to the Kubernetes API",
                metadata: ["server": "\(config.server)", "version": "\(version["gitVersion"]?.stringValue ?? "?")"]
            )
        } catch {
            try? await client.shutdown()
            throw fail("fledge: cannot reach the Kubernetes API at \(config.server): \(error); \(advice)")
        }
        return client
    }
}

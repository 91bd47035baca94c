import Admission
import ArgumentParser
import AsyncHTTPClient
import CanaryModel
import CertificateKit
import CommandSupport
import DevCluster
import Foundation
import JSONValue
import KubeClient
import LoadTester
import Logging
import NIOCore
import NIOPosix
import Progression
import Prometheus
import ServiceLifecycle
import Synchronization
import UnixSignals
import WebhookServer

/// `fledge playground`: the embedded cluster with Fledge installed, for kubectl, until interrupted.
public struct PlaygroundCommand: AsyncParsableCommand, Sendable {
    public static let configuration = CommandConfiguration(
        commandName: "playground",
        abstract: "Run a local Kubernetes API server with Fledge installed, for kubectl.",
        discussion: """
            Starts the embedded cluster (an HTTPS Kubernetes API that real kubectl talks to, with a simulated \
            Deployment controller), installs Fledge's CRDs and webhook configurations, serves the admission gate \
            in-process, writes a kubeconfig and runs until SIGTERM or Ctrl-C. A development and test tool: objects live \
            in memory unless --data-dir is given.
            """
    )

    @Option(help: "Address the Kubernetes API listens on, HOST:PORT (port 0 picks a free one).")
    var listenAPI = "127.0.0.1:6443"

    @Option(help: "Where to write the kubeconfig for kubectl.")
    var kubeconfigOut = FileManager.default.temporaryDirectory.appendingPathComponent("fledge-playground")
        .appendingPathComponent("kubeconfig").path

    @Option(help: "Run the simulated controllers this many times faster than real time.")
    var speed: Double = 1

    @Option(help: "Keep objects in this directory so a restarted playground still has them.")
    var dataDir: String?

    @Option(help: "Prometheus for the analysis (default: the simulated mesh's own query endpoint).")
    var metricsServer: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "warning"

    @Flag(
        help: """
            Run no progression worker: Canaries are admitted but not released, so a `fledge serve` of your own \
            (e.g. a build under test, or a benchmark measuring the worker alone) can drive them.
            """
    )
    var noWorker = false

    /// A playground with the default options; ArgumentParser fills the flags in.
    public init() {}

    public func validate() throws {
        guard speed > 0, speed.isFinite else { throw ValidationError("--speed \(speed) must be a positive number") }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError(
                "--log-level \(logLevel) is not one of trace, debug, info, notice, warning, error, critical"
            )
        }
        _ = try ListenAddress(listenAPI)
    }

    public func run() async throws {
        let logger = Logger.json("fledge-playground", level: Logger.Level(rawValue: logLevel) ?? .warning)
        let address = try ListenAddress(listenAPI)
        if let warning = Self.exposureWarning(host: address.host) {
            FileHandle.standardError.write(Data((warning + "\n").utf8))
        }
        if let problem = await Self.listenProblem(host: address.host, port: address.port) {
            throw fail("fledge playground: \(problem)")
        }
        let playground: Playground
        do {
            playground = try Playground(
                apiHost: address.host,
                apiPort: address.port,
                speed: speed,
                dataDirectory: dataDir,
                metricsServer: metricsServer,
                runsWorker: !noWorker,
                logger: logger
            )
        } catch {
            throw fail("fledge playground: \(error)")
        }
        do {
            try await start(playground, address)
        } catch let error as IOError where error.errnoCode == EADDRINUSE {
            throw fail("fledge playground: \(Self.inUse(address.host, address.port))")
        }
    }

    func start(_ playground: Playground, _ address: ListenAddress) async throws {
        try await playground.run(kubeconfigPath: kubeconfigOut) { port, meshPort in
            let text =
                """
                Fledge playground: Kubernetes API at https://\(address.host):\(port) (embedded; kubectl 1.29+)
                kubeconfig: \(kubeconfigOut)
                simulated Linkerd mesh: http://127.0.0.1:\(meshPort)/metrics (scrape it), /api/v1/query (built-in queries)

                Try:
                  export KUBECONFIG=\(kubeconfigOut)
                  kubectl get crds
                  kubectl create namespace prod
                  kubectl apply -f manifests/examples/podinfo.yaml
                  kubectl apply -f manifests/examples/canary.yaml
                  kubectl get canary -n prod
                  kubectl apply -f manifests/examples/invalid-canary.yaml    # refused by the admission gate

                Ctrl-C stops it.

                """
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }
}

extension PlaygroundCommand {
    /// Why the API server could not listen on `host:port` (checked before anything starts, so the user reads one
    /// line instead of the servers' shutdown noise); nil when it can, or when the port is 0.
    static func listenProblem(host: String, port: Int) async -> String? {
        guard port != 0 else { return nil }
        do {
            let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: host, port: port).get()
            try? await channel.close()
            return nil
        } catch let error as IOError where error.errnoCode == EADDRINUSE {
            return inUse(host, port)
        } catch let error as IOError where error.errnoCode == EACCES {
            return "--listen-api \(host):\(port): permission denied (ports below 1024 need privileges); "
                + "pick another port, or --listen-api \(host):0 for a free one"
        } catch {
            return nil
        }
    }

    static func inUse(_ host: String, _ port: Int) -> String {
        "--listen-api \(host):\(port): the address is already in use (another playground?); stop what listens "
            + "there, or pick another port: --listen-api \(host):0 picks a free one and prints it"
    }

    /// A warning when the embedded API server would listen beyond this machine: it authenticates nobody, so every
    /// client that reaches it is cluster admin. `nil` for loopback addresses.
    static func exposureWarning(host: String) -> String? {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        let loopback = bare == "localhost" || bare == "::1" || bare == "0:0:0:0:0:0:0:1" || bare.hasPrefix("127.")
        guard !loopback else { return nil }
        return """
            warning: --listen-api \(host) accepts connections from the network. The embedded API server has no \
            authentication or authorization: anyone who can reach it is cluster admin, with or without the \
            kubeconfig. Listen on 127.0.0.1 (the default) and reach it from elsewhere through an SSH tunnel \
            (ssh -L 6443:127.0.0.1:6443 HOST) instead.
            """
    }
}

/// The embedded cluster with Fledge installed: API server, simulated controllers, the admission gate wired in as
/// the cluster's webhooks, the CRDs.
final class Playground: Sendable {
    static let webhookNamespace = "fledge-system"
    static let webhookService = "fledge"
    /// The token the in-process worker authenticates with: Fledge's service account, which may edit `-primary`
    /// Deployments.
    static let workerToken = "fledge-worker"

    let cluster: DevCluster
    let apiServer: DevClusterServer
    let deployments: DeploymentController
    let webhookServer: WebhookServer
    let webhookCertificates: ServingCertificates
    let webhookPort: PortBox
    let hints = ReleaseHints()
    let persistence: DevClusterPersistence?
    let meshServer: MeshServer
    let speed: Double
    let metricsServer: String?
    /// Whether the playground runs its own progression worker (`--no-worker` leaves releases to another).
    let runsWorker: Bool
    let logger: Logger

    init(
        apiHost: String,
        apiPort: Int,
        speed: Double,
        dataDirectory: String?,
        metricsServer: String? = nil,
        runsWorker: Bool = true,
        logger: Logger
    ) throws {
        self.logger = logger
        self.runsWorker = runsWorker
        self.speed = speed
        self.metricsServer = metricsServer
        let webhookPort = PortBox()
        self.webhookPort = webhookPort
        cluster = DevCluster(
            configuration: DevClusterConfiguration(
                speed: speed,
                serviceResolver: { namespace, name, _ in
                    guard namespace == Self.webhookNamespace, name == Self.webhookService,
                        let port = webhookPort.value.withLock({ $0 })
                    else { return nil }
                    return ("127.0.0.1", port)
                },
                dataDirectory: dataDirectory,
                users: [Self.workerToken: "system:serviceaccount:\(Self.webhookNamespace):\(Self.webhookService)"]
            ),
            logger: logger
        )
        let apiCertificates = try CertificateFactory.make(
            dnsNames: ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"],
            ipAddresses: ["127.0.0.1", "::1"]
        )
        apiServer = DevClusterServer(
            cluster: cluster,
            host: apiHost,
            port: apiPort,
            certificates: apiCertificates,
            logger: logger
        )
        let cluster = self.cluster
        meshServer = MeshServer(cluster: cluster, logger: logger)
        deployments = DeploymentController(cluster: cluster)
        persistence = try dataDirectory.map { try DevClusterPersistence(cluster: cluster, directory: $0) }
        webhookCertificates = try CertificateFactory.make(
            dnsNames: ["\(Self.webhookService).\(Self.webhookNamespace).svc"],
            ipAddresses: ["127.0.0.1"]
        )
        let certificateDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("fledge-playground-\(getpid())-webhook").path
        try CertificateFactory.write(webhookCertificates, to: certificateDirectory)
        let admission = AdmissionService(
            configuration: AdmissionConfiguration(defaultProvider: "linkerd"),
            cluster: InProcessClusterView(cluster: cluster),
            hints: hints,
            logger: logger
        )
        webhookServer = try WebhookServer(
            configuration: WebhookServerConfiguration(
                host: "127.0.0.1",
                port: 0,
                certificateDirectory: certificateDirectory
            ),
            admission: admission,
            logger: logger
        )
    }

    let group = Mutex<ServiceGroup?>(nil)

    /// Stops a running playground.
    func shutdown() {
        let group = self.group.withLock { $0 }
        Task.detached { await group?.triggerGracefulShutdown() }
    }

    /// Runs until SIGTERM/SIGINT (when `signals`) or ``shutdown()``; `ready` is called with the API and mesh ports
    /// once Fledge is installed.
    func run(kubeconfigPath: String, signals: Bool = true, ready: @escaping @Sendable (Int, Int) -> Void) async throws {
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: apiServer), .init(service: deployments), .init(service: webhookServer),
            .init(service: meshServer),
            .init(service: Installer(playground: self, kubeconfigPath: kubeconfigPath, ready: ready)),
            .init(service: HintLog(hints: hints, logger: logger)),
        ]
        if let persistence { services.append(.init(service: persistence)) }
        var configuration = ServiceGroupConfiguration(
            services: services,
            gracefulShutdownSignals: signals ? [.sigterm, .sigint] : [],
            logger: logger
        )
        configuration.maximumGracefulShutdownDuration = .seconds(10)
        let group = ServiceGroup(configuration: configuration)
        self.group.withLock { $0 = group }
        try await group.run()
        await cluster.shutdown()
    }

    /// Installs Fledge once the servers listen, then runs the progression worker until shutdown.
    struct Installer: Service {
        let playground: Playground
        let kubeconfigPath: String
        let ready: @Sendable (Int, Int) -> Void

        func run() async throws {
            guard let apiPort = await playground.apiServer.port(), let hookPort = await playground.webhookServer.port(),
                let meshPort = await playground.meshServer.port()
            else { return }
            playground.webhookPort.value.withLock { $0 = hookPort }
            try await playground.install()
            try Playground.writeKubeconfig(
                to: kubeconfigPath,
                server: "https://127.0.0.1:\(apiPort)",
                caPEM: playground.apiServer.certificates.caCertificatePEM
            )
            let client = try KubeClient(
                config: KubeConfig(
                    server: "https://127.0.0.1:\(apiPort)",
                    certificateAuthorityPEM: Array(playground.apiServer.certificates.caCertificatePEM.utf8),
                    credentials: .token(Playground.workerToken)
                ),
                logger: playground.logger
            )
            // The worker reaches cluster names (webhook URLs such as http://flagger-loadtester.prod/) through the
            // simulated mesh, which doubles as the playground's cluster network.
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            let rewrite: @Sendable (String) -> String = { MeshServer.rewrite($0, meshPort: meshPort) }
            let tester = try LoadTester(
                configuration: LoadTesterConfiguration(
                    host: "127.0.0.1",
                    port: 0,
                    // The built-in program policies, and bash lines shaped like the tutorial's acceptance test.
                    allowBash: [LoadTesterConfiguration.tutorialBashPattern],
                    timeout: .seconds(600),
                    httpProxy: ("127.0.0.1", meshPort),
                    rewriteURL: rewrite
                ),
                logger: playground.logger
            )
            playground.meshServer.register(namespace: "*", service: "flagger-loadtester") { method, path, body in
                await tester.handle(method: method, path: path, body: body)
            }
            let clock = ScaledClock(speed: playground.speed)
            let worker = ProgressionWorker(
                releaser: Releaser(
                    client: client,
                    configuration: ProgressionConfiguration(
                        metricsServer: playground.metricsServer ?? "http://127.0.0.1:\(meshPort)",
                        rewriteURL: rewrite,
                        // Everything runs on this machine, and the user is the only tenant.
                        outbound: .local,
                        answersInEvents: true
                    ),
                    http: http,
                    clock: clock,
                    metrics: ProgressionMetrics(
                        factory: PrometheusMetricsFactory(registry: playground.webhookServer.metrics.registry),
                        version: FledgeVersion.current
                    ),
                    logger: playground.logger,
                    cache: ClusterCache(client: client, logger: playground.logger)
                ),
                client: client,
                hints: playground.hints,
                clock: clock,
                logger: playground.logger
            )
            ready(apiPort, meshPort)
            await withDiscardingTaskGroup { group in
                group.addTask { try? await tester.run() }
                if playground.runsWorker { group.addTask { try? await worker.run() } }
            }
            try? await http.shutdown()
            // The worker's informer left its watch open; ending the server's side of it lets the client close that
            // TLS connection at once instead of waiting out its 5 s close_notify timeout (Ctrl-C took that long).
            playground.cluster.store.finishAll()
            try? await client.shutdown()
            // The webhook server stops next; the API server's idle connections to it would hold its TLS shutdown
            // for 5 s (the demo's silence before its summary). A later admission call opens a new one.
            await playground.cluster.shutdown()
        }
    }

    /// Logs each release hint the admission gate raises (the progression worker will act on them).
    struct HintLog: Service {
        let hints: ReleaseHints
        let logger: Logger

        func run() async throws {
            for await hint in hints.subscribe().cancelOnGracefulShutdown() {
                logger.info(
                    "release hint: new pod template",
                    metadata: [
                        "deployment": "\(hint.namespace)/\(hint.name)",
                        "canaries": "\(hint.canaries.joined(separator: ","))",
                        "templateHash": "\(hint.templateHash)",
                    ]
                )
            }
        }
    }

    /// The CRDs, Fledge's namespace and its webhook configurations, written through the API like `kubectl apply`.
    ///
    /// Webhook configurations that exist already (a playground restarted with `--data-dir`) are replaced: this run's
    /// webhook server has a new CA, and the API server must trust it.
    func install() async throws {
        func send(_ method: String, _ path: String, _ object: JSONValue?) async -> APIResponse {
            await cluster.handle(
                APIRequest(
                    method: method,
                    path: path,
                    headers: ["content-type": "application/json"],
                    body: object?.serializedBytes() ?? []
                )
            )
        }
        func failure(_ path: String, _ response: APIResponse) -> PlaygroundError {
            PlaygroundError(
                description:
                    "installing \(path) failed: HTTP \(response.status) \(String(decoding: response.bytes, as: UTF8.self))"
            )
        }
        func create(_ path: String, _ object: JSONValue, replacing: Bool = false) async throws {
            let response = await send("POST", path, object)
            if response.status == 201 { return }
            guard response.status == 409 else { throw failure(path, response) }
            guard replacing, let name = object["metadata", "name"]?.stringValue else { return }
            let current = await send("GET", "\(path)/\(name)", nil)
            let version = try JSONValue(parsing: current.bytes)["metadata", "resourceVersion"]
            guard current.status == 200, let version else { throw failure(path, current) }
            var replacement = object
            replacement.setMember(["metadata", "resourceVersion"], version)
            let replaced = await send("PUT", "\(path)/\(name)", replacement)
            guard replaced.status == 200 else { throw failure(path, replaced) }
        }
        for crd in CustomResourceDefinitions.playground {
            try await create("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
        }
        try await create(
            "/api/v1/namespaces",
            ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(Self.webhookNamespace)]]
        )
        let caBundle = Data(webhookCertificates.caCertificatePEM.utf8).base64EncodedString()
        for configuration in WebhookConfigurations.all(namespace: Self.webhookNamespace, service: Self.webhookService) {
            var object = configuration
            if let webhooks = object["webhooks"]?.arrayValue {
                object = Self.replacing(
                    object,
                    "webhooks",
                    .array(
                        webhooks.map { webhook in
                            let config = Self.replacing(webhook["clientConfig"] ?? [:], "caBundle", .string(caBundle))
                            return Self.replacing(webhook, "clientConfig", config)
                        }
                    )
                )
            }
            let kind = object["kind"]?.stringValue == "MutatingWebhookConfiguration" ? "mutating" : "validating"
            try await create(
                "/apis/admissionregistration.k8s.io/v1/\(kind)webhookconfigurations",
                object,
                replacing: true
            )
        }
    }

    static func replacing(_ object: JSONValue, _ member: String, _ value: JSONValue) -> JSONValue {
        var members = object.objectValue ?? [:]
        members[member] = value
        return .object(members)
    }

    struct PlaygroundError: Error, CustomStringConvertible {
        var description: String
    }

    static func writeKubeconfig(to path: String, server: String, caPEM: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let kubeconfig = """
            apiVersion: v1
            kind: Config
            clusters:
            - name: fledge-playground
              cluster:
                server: \(server)
                certificate-authority-data: \(Data(caPEM.utf8).base64EncodedString())
            users:
            - name: fledge-playground
              user:
                token: playground
            contexts:
            - name: fledge-playground
              context:
                cluster: fledge-playground
                user: fledge-playground
                namespace: default
            current-context: fledge-playground

            """
        guard
            FileManager.default.createFile(
                atPath: path,
                contents: Data(kubeconfig.utf8),
                attributes: [.posixPermissions: 0o600]
            )
        else { throw PlaygroundError(description: "cannot write the kubeconfig to \(path)") }
    }
}

/// A port learnt once a server listens.
final class PortBox: Sendable {
    let value = Mutex<Int?>(nil)
}

/// The admission gate's view of the embedded cluster, read from its store without a network hop.
struct InProcessClusterView: ClusterView {
    let cluster: DevCluster

    func canaries(in namespace: String) async throws -> [CanaryTarget] {
        cluster.store.list(resource: "flagger.app/canaries", namespace: namespace).items.compactMap { canary in
            guard let name = canary["metadata", "name"]?.stringValue,
                let target = canary["spec", "targetRef", "name"]?.stringValue
            else { return nil }
            return CanaryTarget(
                name: name,
                targetKind: canary["spec", "targetRef", "kind"]?.stringValue ?? "Deployment",
                targetName: target
            )
        }
    }

    func exists(kind: String, namespace: String, name: String) async throws -> Bool {
        let buckets = [
            "Deployment": "apps/deployments", "DaemonSet": "apps/daemonsets",
            "MetricTemplate": "flagger.app/metrictemplates",
            "AlertProvider": "flagger.app/alertproviders",
        ]
        guard let bucket = buckets[kind] else { return false }
        return cluster.store.get(ObjectKey(resource: bucket, namespace: namespace, name: name)) != nil
    }
}

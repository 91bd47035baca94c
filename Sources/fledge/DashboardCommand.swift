import ArgumentParser
import AsyncHTTPClient
import CommandSupport
import Dashboard
import Foundation
import KubeClient
import Logging
import ServiceLifecycle
import UnixSignals

struct DashboardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard",
        abstract: "Watch releases in a browser: Canaries, their steps and checks as charts, with promote/abort/retry.",
        discussion: """
            Serves a web page on 127.0.0.1 that reads the cluster with your kubeconfig, like kubectl: nothing is \
            installed in the cluster and your RBAC applies. The page updates live from watches of Canaries and \
            Events; its history comes from the cluster (Events, the Canary's status, and Prometheus with \
            --metrics-server), so a restarted dashboard shows the same.
            """
    )

    @Option(help: "Address to serve the page on, HOST:PORT (port 0 picks a free one).")
    var listen = "127.0.0.1:8765"

    @Flag(help: "Allow a --listen address beyond this machine (anyone who reaches it acts with your credentials).")
    var listenAny = false

    @Option(name: .shortAndLong, help: "Show only this namespace (default: every namespace your RBAC lets you list).")
    var namespace: String?

    @Option(help: "Kubeconfig to use (default: $KUBECONFIG, then ~/.kube/config, then in-cluster).")
    var kubeconfig: String?

    @Option(help: "Prometheus to read the measured values of passed checks from, e.g. http://127.0.0.1:9090.")
    var metricsServer: String?

    func validate() throws {
        let address = try ListenAddress(listen)
        if !listenAny, !DashboardApp.isLoopbackAddress(address.host) {
            throw ValidationError(
                "--listen \(listen) is not a loopback address: the dashboard acts with your Kubernetes credentials, "
                    + "so anyone who reaches it could promote or abort releases as you. Listen on 127.0.0.1, or pass "
                    + "--listen-any to accept the risk"
            )
        }
    }

    func run() async throws {
        let address = try ListenAddress(listen)
        if listenAny, !DashboardApp.isLoopbackAddress(address.host) {
            FileHandle.standardError.write(
                Data(
                    ("warning: --listen-any: the dashboard on \(listen) answers anyone who reaches it, with your "
                        + "Kubernetes credentials (they can promote, abort and retry releases as you)\n").utf8
                )
            )
        }
        let (client, contextNamespace) = try ClusterOptions.connect(kubeconfig: kubeconfig, namespace: nil)
        let cluster = KubeClientCluster(client: client)
        let logger = Logger.json("fledge-dashboard", level: .warning)
        let mirror = ClusterMirror(
            cluster: cluster,
            scope: namespace.map { ClusterMirror.Scope.namespace($0) } ?? .allNamespaces,
            fallbackNamespace: contextNamespace,
            logger: logger
        )
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let metrics = metricsServer.map {
            MetricHistory(source: PrometheusSource(address: $0, http: http), cluster: cluster)
        }
        let app = DashboardApp(mirror: mirror, cluster: cluster, metrics: metrics, allowAnyHost: listenAny)
        let host = address.host
        let server = DashboardServer(app: app, host: host, port: address.port, logger: logger) { port in
            let shown = host.contains(":") ? "[\(host)]" : host
            FileHandle.standardOutput.write(Data("Fledge dashboard: http://\(shown):\(port)/ (Ctrl-C stops it)\n".utf8))
        }
        var configuration = ServiceGroupConfiguration(
            services: [.init(service: mirror), .init(service: server)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        configuration.maximumGracefulShutdownDuration = .seconds(2)
        do {
            try await ServiceGroup(configuration: configuration).run()
        } catch {
            try? await http.shutdown()
            try? await client.shutdown()
            throw fail("fledge dashboard: \(error)")
        }
        try? await http.shutdown()
        try? await client.shutdown()
    }
}

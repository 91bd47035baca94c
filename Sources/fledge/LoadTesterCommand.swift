import ArgumentParser
import Foundation
import KubeClient
import KubeModels
import LoadTester
import Logging
import ServiceLifecycle
import UnixSignals

struct LoadTesterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loadtester",
        abstract: "Serve the load tester the Canary webhooks call (compatible with Flagger's).",
        discussion: """
            Endpoints: /healthz, /metrics, /gate/{approve,halt,check,open,close}, /rollback/{check,open,close}, and \
            POST / running the task in the webhook's metadata (cmd, bash, helm, helmv3, kubectl). Commands run only \
            when they match --allow; cmd tasks run without a shell; `hey` runs on a built-in load generator. In a \
            cluster, gates are kept in a ConfigMap so a restart does not forget them.
            """
    )

    @Option(help: "Address to listen on, HOST:PORT.")
    var listen = "0.0.0.0:9090"

    @Option(
        parsing: .upToNextOption,
        help:
            "Regular expressions a command line must match to run (default: hey, curl, helm test, kubectl, grpc_health_probe)."
    )
    var allow: [String] = []

    @Option(help: "Only serve webhooks of Canaries whose namespace matches this regular expression.")
    var namespaceRegexp: String?

    @Option(help: "Longest a task may run, as a Go duration.")
    var timeout = "1h"

    @Flag(help: "Keep gates in memory only, even in a cluster.")
    var memoryGates = false

    @OptionGroup var guards: ServerGuardOptions

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"

    func run() async throws {
        let logger = Logger.json("fledge-loadtester", level: Logger.Level(rawValue: logLevel) ?? .info)
        let address = try ListenAddress(listen)
        guard let limit = GoDuration(timeout), limit.nanoseconds > 0 else {
            throw fail("fledge loadtester: --timeout \(timeout) is not a positive Go duration such as 30s or 1h")
        }
        var client: KubeClient?
        var store: (any GateStore)?
        if !memoryGates, let config = try? KubeConfig.inCluster() {
            let connected = try KubeClient(config: config, logger: logger)
            client = connected
            store = ConfigMapGateStore(client: connected, namespace: config.namespace ?? "default")
        }
        let tester: LoadTester
        do {
            tester = try LoadTester(
                configuration: LoadTesterConfiguration(
                    host: address.host,
                    port: address.port,
                    allow: allow.isEmpty ? LoadTesterConfiguration.defaultAllow : allow,
                    namespaceRegexp: namespaceRegexp,
                    timeout: limit.duration,
                    gateStore: store,
                    guards: try guards.configuration()
                ),
                logger: logger
            )
        } catch {
            throw fail("fledge loadtester: \(error)")
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: tester)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
        try await client?.shutdown()
    }
}

import ArgumentParser
import CommandSupport
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
            POST / running the task in the webhook's metadata (cmd, bash, helm, helmv3, kubectl). Every task but bash \
            is split into the argument vector that runs (without a shell) and runs only when the built-in policy of \
            its program (--programs) or an --allow pattern admits it; a bash script runs only when it matches an \
            --allow-bash pattern (none by default). `hey` runs on a built-in load generator. In a cluster, gates are \
            kept in a ConfigMap so a restart does not forget them. See docs/loadtester.md.
            """
    )

    @Option(help: "Address to listen on, HOST:PORT.")
    var listen = "0.0.0.0:9090"

    @Option(
        help: ArgumentHelp(
            "Programs admitted by their built-in argument policy, comma-separated, or none.",
            valueName: "list"
        )
    )
    var programs = BuiltinProgram.allCases.map(\.rawValue).joined(separator: ",")

    @Option(
        parsing: .upToNextOption,
        help: ArgumentHelp(
            "Regular expressions on a command's canonical line (its arguments, quoted where needed) that admit it "
                + "beyond the built-in policies.",
            valueName: "regex"
        )
    )
    var allow: [String] = []

    @Option(
        parsing: .upToNextOption,
        help: ArgumentHelp(
            "Regular expressions a bash task's whole script must match (default: none, so no bash task runs).",
            valueName: "regex"
        )
    )
    var allowBash: [String] = []

    @Option(help: "Only serve webhooks of Canaries whose namespace matches this regular expression.")
    var namespaceRegexp: String?

    @Option(help: "Longest a task may run, as a Go duration.")
    var timeout = "1h"

    @Option(help: "Most tasks running at once, blocking and background together; more are answered 429.")
    var maxTasks = 8

    @Option(help: "Most gates open at once; opening another is answered 507.")
    var maxGates = 1024

    @Option(
        help: ArgumentHelp(
            "A file holding a bearer token every request but /healthz must carry (read again when it changes).",
            valueName: "path"
        )
    )
    var tokenFile: String?

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
        guard maxTasks > 0 else { throw fail("fledge loadtester: --max-tasks \(maxTasks): must be at least 1") }
        guard maxGates > 0 else { throw fail("fledge loadtester: --max-gates \(maxGates): must be at least 1") }
        var chosen: Set<BuiltinProgram> = []
        if programs != "none" {
            for name in programs.split(separator: ",", omittingEmptySubsequences: false) {
                guard let program = BuiltinProgram(rawValue: String(name)) else {
                    let known = BuiltinProgram.allCases.map(\.rawValue).joined(separator: ", ")
                    throw fail("fledge loadtester: --programs: \"\(name)\" is not one of \(known), or none")
                }
                chosen.insert(program)
            }
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
                    programs: chosen,
                    allow: allow,
                    allowBash: allowBash,
                    namespaceRegexp: namespaceRegexp,
                    timeout: limit.duration,
                    gateStore: store,
                    maximumGates: maxGates,
                    maximumConcurrentTasks: maxTasks,
                    tokenFile: tokenFile,
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

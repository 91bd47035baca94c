import ArgumentParser
import CanaryModel
import CommandSupport
import Dashboard
import Foundation
import JSONValue
import KubeClient
import KubeModels
import Logging
import Progression

/// Options shared by the commands that talk to a cluster as a user.
struct ClusterOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Namespace of the Canary (default: the kubeconfig context's, else default).")
    var namespace: String?

    @Option(help: "Kubeconfig to use (default: $KUBECONFIG, then ~/.kube/config, then in-cluster).")
    var kubeconfig: String?

    func connect() throws -> (KubeClient, String) {
        try Self.connect(kubeconfig: kubeconfig, namespace: namespace)
    }

    /// A client with the user's configuration, and the namespace to use: `namespace`, else the context's, else
    /// `default`.
    static func connect(kubeconfig: String?, namespace: String?) throws -> (KubeClient, String) {
        // A user's own configuration wins over the pod's: $KUBECONFIG, then ~/.kube/config, then in-cluster.
        let environment = ProcessInfo.processInfo.environment
        var path = kubeconfig ?? environment["KUBECONFIG"]?.split(separator: ":").first.map(String.init)
        let home = (environment["HOME"] ?? NSHomeDirectory()) + "/.kube/config"
        if path == nil, FileManager.default.fileExists(atPath: home) { path = home }
        let config: KubeConfig
        do { config = try KubeConfig.resolve(kubeconfigPath: path) } catch { throw fail("fledge: \(error)") }
        var logger = Logger(label: "fledge")
        logger.logLevel = .critical
        let client = try KubeClient(config: config, requestTimeout: .seconds(10), logger: logger)
        return (client, namespace ?? config.namespace ?? "default")
    }
}

/// `fledge promote|abort|retry NAME`: reads the Canary, refuses an action its phase cannot take (with what to do
/// instead), else sets the annotation the progression worker obeys at its next tick.
struct ReleaseActionCommand {
    static func run(_ action: ReleaseAction, name: String, options: ClusterOptions) async throws {
        let (client, namespace) = try options.connect()
        defer { Task.detached { try? await client.shutdown() } }
        do {
            let message = try await ReleaseSteering.request(
                action,
                namespace: namespace,
                name: name,
                cluster: KubeClientCluster(client: client)
            )
            print(message)
        } catch {
            throw fail("fledge \(action.rawValue): \(error.message)")
        }
    }
}

struct PromoteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "promote",
        abstract: "Promote a release now: skip the remaining analysis and any confirm gate."
    )
    @Argument(help: "The Canary.") var name: String
    @OptionGroup var options: ClusterOptions
    func run() async throws { try await ReleaseActionCommand.run(.promote, name: name, options: options) }
}

struct AbortCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "abort",
        abstract: "Roll a release back now."
    )
    @Argument(help: "The Canary.") var name: String
    @OptionGroup var options: ClusterOptions
    func run() async throws { try await ReleaseActionCommand.run(.abort, name: name, options: options) }
}

struct RetryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Run a failed release again without editing the pod template."
    )
    @Argument(help: "The Canary.") var name: String
    @OptionGroup var options: ClusterOptions
    func run() async throws { try await ReleaseActionCommand.run(.retry, name: name, options: options) }
}

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show releases: phase, traffic weight, failed checks against the threshold, and the last event."
    )
    @Argument(help: "One Canary (default: every Canary in the namespace).") var name: String?
    @OptionGroup var options: ClusterOptions
    @Flag(help: "Keep printing as the Canaries change.") var watch = false
    @Flag(
        help: """
            Wait until the release of NAME ends, printing its progress. Exit status 0: promoted (or nothing to \
            release); 1: failed or rolled back; 2: timeout or error.
            """
    )
    var wait = false
    @Option(help: "With --wait: give up after this long (a Go duration: 90s, 10m, 1h), with exit status 2.")
    var timeout: String?

    func validate() throws {
        if wait, name == nil { throw ValidationError("--wait needs the Canary's name: fledge status NAME --wait") }
        if wait, watch { throw ValidationError("--wait and --watch cannot be combined; --wait prints progress too") }
        if timeout != nil, !wait { throw ValidationError("--timeout applies only with --wait") }
        if let timeout, (GoDuration(timeout)?.nanoseconds ?? 0) <= 0 {
            throw ValidationError("--timeout \(timeout) must be a positive Go duration such as 90s, 10m or 1h")
        }
    }

    func run() async throws {
        if wait, let name {
            let code = await StatusWait.run(
                name: name,
                options: options,
                timeout: timeout.flatMap(GoDuration.init).map(\.duration)
            )
            throw ExitCode(code)
        }
        let (client, namespace) = try options.connect()
        defer { Task.detached { try? await client.shutdown() } }
        let collection = APIPath.collection(
            group: "flagger.app",
            version: "v1beta1",
            plural: "canaries",
            namespace: namespace
        )
        repeat {
            var canaries: [JSONValue]
            do {
                canaries = try await client.listAll(collection)
            } catch let error as KubeAPIError {
                throw fail("fledge status: \(error.message)")
            }
            if let name { canaries = canaries.filter { $0["metadata", "name"]?.stringValue == name } }
            if canaries.isEmpty {
                throw fail("fledge status: no Canary \(name.map { "\"\($0)\" " } ?? "")in namespace \(namespace)")
            }
            var lines = ["NAME            PHASE             WEIGHT                        CHECKS   LAST EVENT"]
            for canary in canaries {
                let canaryName = canary["metadata", "name"]?.stringValue ?? ""
                let events =
                    (try? await client.listAll(
                        APIPath.collection(group: "", version: "v1", plural: "events", namespace: namespace),
                        fieldSelector: "involvedObject.kind=Canary,involvedObject.name=\(canaryName)"
                    )) ?? []
                let last = events.max {
                    (
                        $0["lastTimestamp"]?.stringValue ?? "",
                        $0["metadata", "resourceVersion"]?.stringValue.flatMap(Int.init) ?? 0
                    )
                        < (
                            $1["lastTimestamp"]?.stringValue ?? "",
                            $1["metadata", "resourceVersion"]?.stringValue.flatMap(Int.init) ?? 0
                        )
                }
                lines.append(Self.line(canary, lastEvent: last?["message"]?.stringValue ?? ""))
            }
            print(lines.joined(separator: "\n"))
            if watch {
                print("")
                try await Task.sleep(for: .seconds(2))
            }
        } while watch
    }

    static func line(_ canary: JSONValue, lastEvent: String) -> String {
        let name = canary["metadata", "name"]?.stringValue ?? ""
        let phase = canary["status", "phase"]?.stringValue ?? "Initializing"
        let weight = Int(canary["status", "canaryWeight"]?.intValue ?? 0)
        let failed = canary["status", "failedChecks"]?.intValue ?? 0
        let threshold = canary["spec", "analysis", "threshold"]?.intValue ?? 1
        let filled = min(max(weight / 5, 0), 20)
        let bar = "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: 20 - filled) + "]"
        func pad(_ text: String, _ width: Int) -> String {
            text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
        }
        return pad(name, 16) + pad(phase, 18) + pad("\(bar) \(weight)%", 30) + pad("\(failed)/\(threshold)", 9)
            + lastEvent
    }
}

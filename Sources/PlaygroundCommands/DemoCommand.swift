import ArgumentParser
import CertificateKit
import CommandSupport
import DevCluster
import Foundation
import JSONValue
import KubeClient
import KubeModels
import KubeYAML
import Logging
import Synchronization

/// `fledge demo`: the podinfo tutorial played end to end on the embedded cluster.
public struct DemoCommand: AsyncParsableCommand, Sendable {
    public static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract:
            "Play the podinfo tutorial end to end on the embedded cluster: promote 3.1.1, roll back a failing 3.1.2.",
        discussion: """
            Starts the embedded cluster with Fledge installed (admission gate, progression worker, load tester, \
            simulated Linkerd mesh), shows an invalid Canary being refused, applies podinfo 3.1.0 and the tutorial's \
            Canary unchanged, releases 3.1.1 and promotes it, releases 3.1.2 answering 40 % errors in 1.2 s and rolls \
            it back, then prints what happened. Exits 0 only when every step behaved as expected. --speed runs the \
            clocks faster (the tutorial's 10 s interval takes 10/speed seconds).
            """
    )

    @Option(help: "Run the release clocks this many times faster than real time.")
    var speed: Double = 6

    @Flag(help: "Plain output: no colour, no progress bars (also when not a terminal or NO_COLOR is set).")
    var plain = false

    @Flag(help: .hidden)
    var printManifests = false

    /// A demo with the default options; ArgumentParser fills the flags in.
    public init() {}

    public func validate() throws {
        guard speed > 0, speed <= 1000, speed.isFinite else {
            throw ValidationError("--speed must be between 0 and 1000")
        }
    }

    public func run() async throws {
        if printManifests {
            // The manifests the demo applies, for a test to compare with manifests/examples.
            print(
                [DemoManifests.podinfo, DemoManifests.canary, DemoManifests.invalidCanary].joined(separator: "---\n"),
                terminator: ""
            )
            return
        }
        let fancy = !plain && isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
        let demo = Demo(speed: speed, output: DemoOutput(fancy: fancy))
        let passed = await demo.run()
        if !passed { throw ExitCode(1) }
    }
}

/// Terminal output: colour and a redrawn progress line on a terminal, plain lines otherwise.
struct DemoOutput: Sendable {
    let fancy: Bool

    func write(_ text: String) { FileHandle.standardOutput.write(Data(text.utf8)) }
    func line(_ text: String) { write(text + "\n") }
    func bold(_ text: String) -> String { fancy ? "\u{1B}[1m\(text)\u{1B}[0m" : text }
    func green(_ text: String) -> String { fancy ? "\u{1B}[32m\(text)\u{1B}[0m" : text }
    func red(_ text: String) -> String { fancy ? "\u{1B}[31m\(text)\u{1B}[0m" : text }
    func dim(_ text: String) -> String { fancy ? "\u{1B}[2m\(text)\u{1B}[0m" : text }

    static func bar(_ weight: Int, width: Int = 20) -> String {
        let filled = min(max(weight * width / 100, 0), width)
        return "[" + String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled) + "]"
    }
}

/// One step of the demo and how it went.
struct DemoStep: Sendable {
    var name: String
    var expected: String
    var observed: String
    var seconds: Double
    var passed: Bool
}

/// The tutorial, played against an in-process playground through the Kubernetes API.
final class Demo: Sendable {
    let speed: Double
    let output: DemoOutput
    let steps = Mutex<[DemoStep]>([])

    init(speed: Double, output: DemoOutput) {
        self.speed = speed
        self.output = output
    }

    /// Simulated seconds as real seconds, with slack for the machine.
    func budget(_ simulated: Double) -> Duration { .milliseconds(Int64(simulated / speed * 1000) + 20_000) }

    func run() async -> Bool {
        var logger = Logger(label: "fledge-demo")
        logger.logLevel = .critical
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fledge-demo-\(getpid())").path
        let playground: Playground
        do {
            playground = try Playground(
                apiHost: "127.0.0.1",
                apiPort: 0,
                speed: speed,
                dataDirectory: nil,
                logger: logger
            )
        } catch {
            output.line(output.red("cannot start the embedded cluster: \(error)"))
            return false
        }
        output.line(
            output.bold("Fledge demo")
                + output.dim(" — the podinfo tutorial on an embedded cluster, \(Self.number(speed))× speed")
        )
        let started = ContinuousClock.now
        let (ports, portsContinuation) = AsyncStream<Int>.makeStream()
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                do {
                    try await playground.run(kubeconfigPath: directory + "/kubeconfig", signals: false) { port, _ in
                        portsContinuation.yield(port)
                        portsContinuation.finish()
                    }
                } catch {
                    self.output.line(self.output.red("the embedded cluster stopped: \(error)"))
                }
                portsContinuation.finish()
                return true
            }
            var port: Int?
            for await bound in ports { port = bound }
            guard let port else {
                playground.shutdown()
                return false
            }
            self.record(
                "Start the embedded cluster and install Fledge",
                expected: "CRDs, webhooks, worker",
                observed: "ready",
                since: started,
                passed: true
            )
            let passed = await self.script(playground: playground, port: port, logger: logger)
            playground.shutdown()
            _ = await group.next()
            self.summary()
            return passed && self.steps.withLock { $0.allSatisfy(\.passed) }
        }
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }

    func record(_ name: String, expected: String, observed: String, since: ContinuousClock.Instant, passed: Bool) {
        let elapsed = ContinuousClock.now - since
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        steps.withLock {
            $0.append(DemoStep(name: name, expected: expected, observed: observed, seconds: seconds, passed: passed))
        }
        let mark = passed ? output.green("✓") : output.red("✗")
        output.line(
            "\(mark) \(name) " + output.dim(String(format: "(%.1fs)", seconds))
                + (passed ? "" : " — " + output.red(observed))
        )
    }

    func summary() {
        output.line("")
        output.line(output.bold("Summary"))
        let rows = steps.withLock { $0 }
        let width = (rows.map(\.name.count).max() ?? 10) + 2
        func pad(_ text: String, _ size: Int) -> String {
            text + String(repeating: " ", count: max(size - text.count, 1))
        }
        output.line(pad("STEP", width) + pad("RESULT", 8) + pad("TIME", 9) + "OBSERVED")
        for row in rows {
            let result = row.passed ? output.green(pad("ok", 8)) : output.red(pad("FAILED", 8))
            output.line(pad(row.name, width) + result + pad(String(format: "%.1fs", row.seconds), 9) + row.observed)
        }
    }

    // MARK: - The script

    func script(playground: Playground, port: Int, logger: Logger) async -> Bool {
        let client: KubeClient
        do {
            client = try KubeClient(
                config: KubeConfig(
                    server: "https://127.0.0.1:\(port)",
                    certificateAuthorityPEM: Array(playground.apiServer.certificates.caCertificatePEM.utf8),
                    credentials: .token("demo-admin")
                ),
                logger: logger
            )
        } catch {
            output.line(output.red("cannot reach the embedded cluster: \(error)"))
            return false
        }
        defer { Task.detached { try? await client.shutdown() } }
        do {
            try await refuseInvalid(client)
            try await applyTutorial(client)
            guard try await initialise(client) else { return false }
            guard try await release311(client) else { return false }
            guard try await release312(client) else { return false }
            return true
        } catch {
            output.line(output.red("the demo stopped: \(error)"))
            steps.withLock {
                $0.append(
                    DemoStep(
                        name: "Demo script",
                        expected: "no errors",
                        observed: "\(error)",
                        seconds: 0,
                        passed: false
                    )
                )
            }
            return false
        }
    }

    static let canaries = "/apis/flagger.app/v1beta1/namespaces/prod/canaries"
    static let deployments = "/apis/apps/v1/namespaces/prod/deployments"

    func refuseInvalid(_ client: KubeClient) async throws {
        let start = ContinuousClock.now
        _ = try await client.create(
            "/api/v1/namespaces",
            ["metadata": ["name": "prod", "annotations": ["linkerd.io/inject": "enabled"]]]
        )
        let invalid = try YAMLDocuments.parse(DemoManifests.invalidCanary)[0]
        output.line(output.dim("$ kubectl apply -f manifests/examples/invalid-canary.yaml"))
        do {
            _ = try await client.create(Self.canaries, invalid)
            record(
                "Refuse an invalid Canary",
                expected: "denied at apply",
                observed: "it was accepted",
                since: start,
                passed: false
            )
        } catch let error as KubeAPIError {
            output.line(
                "Error from server (\(error.status?.reason ?? "Forbidden")): error when creating \"manifests/examples/invalid-canary.yaml\": \(error.message)"
            )
            let named = ["spec.analysis.interval", "spec.analysis.stepWeight", "spec.analysis.webhooks[0].type"]
                .allSatisfy { error.message.contains($0) }
            record(
                "Refuse an invalid Canary",
                expected: "403 naming each field",
                observed: "\(error.code) \(error.status?.details?.causes?.count ?? 0) fields",
                since: start,
                passed: error.code == 403 && named
            )
        }
    }

    func applyTutorial(_ client: KubeClient) async throws {
        let start = ContinuousClock.now
        output.line(output.dim("$ kubectl apply -f manifests/examples/podinfo.yaml -f manifests/examples/canary.yaml"))
        for document in try YAMLDocuments.parse(DemoManifests.podinfo) where document["kind"] == "Deployment" {
            _ = try await client.create(Self.deployments, document)
        }
        _ = try await client.create(
            "/api/v1/namespaces/prod/services",
            [
                "metadata": ["name": "flagger-loadtester", "labels": ["app": "flagger-loadtester"]],
                "spec": [
                    "selector": ["app": "flagger-loadtester"],
                    "ports": [["name": "http", "port": 80, "targetPort": 8080]],
                ],
            ]
        )
        let canary = try YAMLDocuments.parse(DemoManifests.canary)[0]
        let created = try await client.create(Self.canaries, canary)
        let defaulted = created["spec", "provider"] == "linkerd" && created["spec", "progressDeadlineSeconds"] == 600
        record(
            "Apply podinfo 3.1.0 and the tutorial's Canary",
            expected: "created, defaults written",
            observed:
                "provider \(created["spec", "provider"]?.stringValue ?? "?"), progressDeadlineSeconds \(created["spec", "progressDeadlineSeconds"]?.intValue ?? 0)",
            since: start,
            passed: defaulted
        )
    }

    func phase(_ client: KubeClient) async throws -> (phase: String, weight: Int, failed: Int) {
        let canary = try await client.get("\(Self.canaries)/podinfo")
        return (
            canary["status", "phase"]?.stringValue ?? "",
            Int(canary["status", "canaryWeight"]?.intValue ?? 0),
            Int(canary["status", "failedChecks"]?.intValue ?? 0)
        )
    }

    /// Polls until the phase is one of `phases`, drawing progress; nil on timeout.
    func waitFor(
        _ client: KubeClient,
        _ phases: Set<String>,
        within limit: Duration,
        label: String
    ) async throws -> String? {
        let deadline = ContinuousClock.now + limit
        var last = ""
        while ContinuousClock.now < deadline {
            let state = try await phase(client)
            let line =
                "  \(label) \(DemoOutput.bar(state.weight)) \(String(format: "%3d", state.weight))%  \(state.phase)"
                + (state.failed > 0 ? "  failed checks \(state.failed)" : "")
            if line != last {
                if output.fancy { output.write("\r\u{1B}[2K" + line) } else { output.line(line) }
                last = line
            }
            if phases.contains(state.phase) {
                if output.fancy { output.write("\n") }
                return state.phase
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        if output.fancy { output.write("\n") }
        return nil
    }

    func initialise(_ client: KubeClient) async throws -> Bool {
        let start = ContinuousClock.now
        let phase = try await waitFor(client, ["Initialized"], within: budget(60), label: "initialising")
        let primary = try await client.getIfPresent("\(Self.deployments)/podinfo-primary")
        let target = try await client.get("\(Self.deployments)/podinfo")
        let split = try await weights(client)
        let passed = phase == "Initialized" && primary != nil && target["spec", "replicas"] == 0 && split == (100, 0)
        record(
            "Initialise: primary, services, TrafficSplit 100/0",
            expected: "Initialized",
            observed:
                "\(phase ?? "timed out"), target replicas \(target["spec", "replicas"]?.intValue ?? -1), split \(split.0)/\(split.1)",
            since: start,
            passed: passed
        )
        return passed
    }

    func weights(_ client: KubeClient) async throws -> (Int, Int) {
        guard
            let split = try await client.getIfPresent(
                "/apis/split.smi-spec.io/v1alpha1/namespaces/prod/trafficsplits/podinfo"
            )
        else { return (-1, -1) }
        var primary = -1
        var canary = -1
        for backend in split["spec", "backends"]?.arrayValue ?? [] {
            let weight = Int(backend["weight"]?.stringValue ?? "") ?? Int(backend["weight"]?.intValue ?? -1)
            if backend["service"] == "podinfo-primary" { primary = weight }
            if backend["service"] == "podinfo-canary" { canary = weight }
        }
        return (primary, canary)
    }

    func setImage(_ client: KubeClient, _ tag: String, annotations: [String: JSONValue] = [:]) async throws {
        var template: JSONValue = [
            "spec": [
                "$setElementOrder/containers": [["name": "podinfod"]],
                "containers": [["name": "podinfod", "image": .string("ghcr.io/stefanprodan/podinfo:\(tag)")]],
            ]
        ]
        if !annotations.isEmpty { template.setMember(["metadata", "annotations"], .object(annotations)) }
        output.line(
            output.dim("$ kubectl -n prod set image deployment/podinfo podinfod=ghcr.io/stefanprodan/podinfo:\(tag)")
        )
        _ = try await client.patch(
            "\(Self.deployments)/podinfo",
            ["spec": ["template": template]],
            type: .strategicMerge
        )
    }

    func release311(_ client: KubeClient) async throws -> Bool {
        let start = ContinuousClock.now
        try await setImage(client, "3.1.1")
        let detected = try await waitFor(client, ["Progressing"], within: budget(30), label: "detecting  ")
        let detection = ContinuousClock.now - start
        record(
            "Detect the new revision 3.1.1",
            expected: "Progressing at once",
            observed: detected.map { "\($0) after \(Self.milliseconds(detection)) ms" } ?? "timed out",
            since: start,
            passed: detected == "Progressing"
        )
        guard detected != nil else { return false }
        let promoted = try await waitFor(client, ["Succeeded", "Failed"], within: budget(400), label: "3.1.1      ")
        let primary = try await client.get("\(Self.deployments)/podinfo-primary")
        let image = primary["spec", "template", "spec", "containers"]?[0]?["image"]?.stringValue ?? ""
        let messages = try await eventMessages(client)
        let advanced = messages.filter { $0.hasPrefix("Advance podinfo.prod canary weight") }.count
        let passed = promoted == "Succeeded" && image.hasSuffix(":3.1.1") && advanced == 20
        record(
            "Release 3.1.1 in 5 % steps and promote it",
            expected: "20 steps, Succeeded",
            observed:
                "\(promoted ?? "timed out"), \(advanced) steps, primary \(image.split(separator: ":").last ?? "?")",
            since: start,
            passed: passed
        )
        return passed
    }

    func release312(_ client: KubeClient) async throws -> Bool {
        let start = ContinuousClock.now
        let before = try await eventMessages(client).count
        try await setImage(
            client,
            "3.1.2",
            annotations: [MeshAnnotations.successRate: "60", MeshAnnotations.latency: "1200"]
        )
        _ = try await waitFor(client, ["Progressing"], within: budget(30), label: "detecting  ")
        let outcome = try await waitFor(client, ["Failed", "Succeeded"], within: budget(400), label: "3.1.2      ")
        let messages = Array(try await eventMessages(client).dropFirst(before))
        output.line(output.dim("$ kubectl -n linkerd logs deployment/flagger -f | jq .msg"))
        for message in messages where !message.contains("not ready") {
            output.line(
                "  "
                    + (message.hasPrefix("Halt") || message.hasPrefix("Rolling") || message.hasPrefix("Canary failed")
                        ? output.red(message) : message)
            )
        }
        let primary = try await client.get("\(Self.deployments)/podinfo-primary")
        let image = primary["spec", "template", "spec", "containers"]?[0]?["image"]?.stringValue ?? ""
        let target = try await client.get("\(Self.deployments)/podinfo")
        let split = try await weights(client)
        let halts = messages.filter { $0.hasPrefix("Halt podinfo.prod advancement") }.count
        let passed =
            outcome == "Failed" && messages.contains("Rolling back podinfo.prod failed checks threshold reached 5")
            && messages.contains("Canary failed! Scaling down podinfo.prod") && image.hasSuffix(":3.1.1")
            && split == (100, 0) && target["spec", "replicas"] == 0
        record(
            "Release 3.1.2 (60 % success, 1.2 s) and roll it back",
            expected: "5 failed checks, Failed",
            observed:
                "\(outcome ?? "timed out"), \(halts) halts, primary \(image.split(separator: ":").last ?? "?"), split \(split.0)/\(split.1)",
            since: start,
            passed: passed
        )
        return passed
    }

    static func milliseconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }

    /// The Canary's event messages, oldest first.
    func eventMessages(_ client: KubeClient) async throws -> [String] {
        let events = try await client.listAll(
            "/api/v1/namespaces/prod/events",
            fieldSelector: "involvedObject.kind=Canary,involvedObject.name=podinfo"
        )
        // Fledge names Events by the time it recorded them, and folds only a message repeated back to back into one
        // Event's count: the log is each Event's message `count` times, in name order.
        return events.sorted {
            ($0["metadata", "name"]?.stringValue ?? "") < ($1["metadata", "name"]?.stringValue ?? "")
        }.flatMap { event -> [String] in
            guard let message = event["message"]?.stringValue else { return [] }
            return Array(repeating: message, count: max(Int(event["count"]?.intValue ?? 1), 1))
        }
    }
}

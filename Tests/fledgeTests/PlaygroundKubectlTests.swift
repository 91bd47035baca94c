import Dispatch
import Foundation
import Testing

/// Real kubectl against `fledge playground`, the scenario a user would try first.
@Suite("fledge playground with kubectl", .serialized)
struct PlaygroundKubectlTests {
    static let kubectl: String? = ["/usr/bin/kubectl", "/usr/local/bin/kubectl"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    /// A running playground and a kubectl bound to it (own HOME, so no discovery cache leaks between runs).
    final class Session: @unchecked Sendable {
        let process: Process
        let directory: String
        let kubeconfig: String
        let logs: Pipe
        let port: Int

        init(speed: Int = 20, arguments: [String] = []) async throws {
            directory = try Fledge.temporaryDirectory()
            kubeconfig = directory + "/kubeconfig"
            port = Fledge.freePort()
            process = Process()
            process.executableURL = Fledge.executable
            process.arguments =
                [
                    "playground", "--listen-api", "127.0.0.1:\(port)", "--kubeconfig-out", kubeconfig,
                    "--speed", "\(speed)", "--log-level", "info",
                ] + arguments
            logs = Pipe()
            process.standardError = logs
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            for _ in 0..<300 where !FileManager.default.fileExists(atPath: kubeconfig) {
                try await Task.sleep(for: .milliseconds(50))
            }
        }

        /// Runs kubectl on a thread of its own: waiting for a process must not hold a Swift concurrency thread, or
        /// the other tests running meanwhile starve.
        func kubectl(_ arguments: String...) async throws -> (status: Int32, out: String, err: String) {
            try await withCheckedThrowingContinuation { continuation in
                DispatchQueue.global().async {
                    continuation.resume(with: Result { try self.runKubectl(arguments) })
                }
            }
        }

        func runKubectl(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: PlaygroundKubectlTests.kubectl ?? "/usr/bin/kubectl")
            process.arguments = arguments
            process.currentDirectoryURL = Fledge.repositoryRoot
            var environment = ProcessInfo.processInfo.environment
            environment["KUBECONFIG"] = kubeconfig
            environment["HOME"] = directory
            process.environment = environment
            let out = Pipe()
            let err = Pipe()
            process.standardOutput = out
            process.standardError = err
            try process.run()
            let outData = out.fileHandleForReading.readDataToEndOfFile()
            let errData = err.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (
                process.terminationStatus, String(decoding: outData, as: UTF8.self),
                String(decoding: errData, as: UTF8.self)
            )
        }

        /// `kubectl get events -n prod --field-selector SELECTOR`.
        func events(selector: String) async throws -> (status: Int32, out: String, err: String) {
            try await kubectl("get", "events", "-n", "prod", "--field-selector", selector)
        }

        /// Stops the playground and returns its log.
        func stop() async -> String {
            process.terminate()
            return await withCheckedContinuation { continuation in
                DispatchQueue.global().async {
                    let data = self.logs.fileHandleForReading.readDataToEndOfFile()
                    self.process.waitUntilExit()
                    continuation.resume(returning: String(decoding: data, as: UTF8.self))
                }
            }
        }
    }

    @Test("a playground restarted on the same --data-dir admits Canaries; a busy port is named with the fix")
    func restartAndBusyPort() async throws {
        guard Self.kubectl != nil else {
            print("SKIPPED: kubectl is not installed; the playground restart scenario did not run")
            return
        }
        let data = try Fledge.temporaryDirectory()
        let first = try await Session(arguments: ["--data-dir", data])
        _ = try await first.kubectl("create", "namespace", "prod")
        let workload = try await first.kubectl("apply", "-f", "manifests/examples/podinfo.yaml")
        #expect(workload.out.contains("deployment.apps/podinfo created"), "\(workload.err)")

        // A second playground on the same port: one line saying which address and how to pick another.
        let busy = try await Fledge.runOffPool([
            "playground", "--listen-api", "127.0.0.1:\(first.port)", "--kubeconfig-out", data + "/unused",
        ])
        #expect(busy.status == 1)
        #expect(
            busy.stderr.contains("--listen-api 127.0.0.1:\(first.port): the address is already in use"),
            "\(busy.stderr)"
        )
        #expect(busy.stderr.contains("--listen-api 127.0.0.1:0 picks a free one"))
        #expect(!busy.stderr.contains("CancellationError"), "\(busy.stderr)")
        #expect(!busy.stderr.contains("errno"), "\(busy.stderr)")
        _ = await first.stop()

        // The restart has a new webhook CA; the stored webhook configurations must trust it.
        let second = try await Session(arguments: ["--data-dir", data])
        defer { second.process.terminate() }
        let kept = try await second.kubectl("get", "deployment", "podinfo", "-n", "prod", "-o", "name")
        #expect(kept.out.contains("deployment.apps/podinfo"), "\(kept.err)")
        let canary = try await second.kubectl("apply", "-f", "manifests/examples/canary.yaml")
        #expect(canary.out.contains("canary.flagger.app/podinfo created"), "\(canary.err)")
    }

    @Test("kubectl logs finds a Deployment's simulated pod and prints why it has no log, instead of hanging")
    func logs() async throws {
        guard Self.kubectl != nil else {
            print("SKIPPED: kubectl is not installed; the kubectl logs scenario did not run")
            return
        }
        let session = try await Session()
        defer { session.process.terminate() }
        _ = try await session.kubectl("create", "namespace", "prod")
        let workload = try await session.kubectl("apply", "-f", "manifests/examples/podinfo.yaml")
        #expect(workload.out.contains("deployment.apps/podinfo created"), "\(workload.err)")
        let available = try await session.kubectl(
            "wait",
            "deployment/podinfo",
            "--for=condition=Available",
            "--timeout=30s",
            "-n",
            "prod"
        )
        #expect(available.status == 0, "\(available.err)")
        let pods = try await session.kubectl("get", "pods", "-n", "prod", "-l", "app=podinfo")
        #expect(pods.out.contains("Running"), "\(pods.out) \(pods.err)")
        // Without pods kubectl waits its 20 s --pod-running-timeout and fails; 5 s makes that failure quick here.
        let logs = try await session.kubectl("logs", "deploy/podinfo", "-n", "prod", "--pod-running-timeout=5s")
        #expect(logs.status == 0, "\(logs.err)")
        #expect(logs.out.contains("is simulated; container podinfod runs nowhere"), "\(logs.out)")
        let missing = try await session.kubectl("logs", "podinfo-none", "-n", "prod")
        #expect(missing.err.contains("pods \"podinfo-none\" not found"), "\(missing.err)")
        let deleted = try await session.kubectl("delete", "deployment", "podinfo", "-n", "prod")
        #expect(deleted.status == 0, "\(deleted.err)")
        let gone = try await session.kubectl("get", "pods", "-n", "prod", "-o", "name")
        #expect(gone.out.isEmpty, "the Deployment's pods go with it: \(gone.out)")
    }

    @Test("kubectl get --raw /metrics shows apiserver_request_total for the requests kubectl made")
    func requestMetrics() async throws {
        guard Self.kubectl != nil else {
            print("SKIPPED: kubectl is not installed; the /metrics scenario did not run")
            return
        }
        let session = try await Session()
        defer { session.process.terminate() }
        let namespaces = try await session.kubectl("get", "namespaces")
        #expect(namespaces.status == 0, "\(namespaces.err)")
        let metrics = try await session.kubectl("get", "--raw", "/metrics")
        #expect(metrics.status == 0, "\(metrics.err)")
        let lines = metrics.out.split(separator: "\n")
        #expect(lines.contains("# TYPE apiserver_request_total counter"))
        #expect(
            lines.contains { $0.contains(#"resource="namespaces",scope="cluster",subresource="",verb="LIST""#) },
            "\(metrics.out)"
        )
    }

    @Test("kubectl patches a TrafficSplit written as v1alpha1 through its preferred version v1alpha3")
    func trafficSplitPatch() async throws {
        guard Self.kubectl != nil else {
            print("SKIPPED: kubectl is not installed; the TrafficSplit patch scenario did not run")
            return
        }
        let session = try await Session()
        defer { session.process.terminate() }
        let manifest = session.directory + "/trafficsplit.yaml"
        try """
        apiVersion: split.smi-spec.io/v1alpha1
        kind: TrafficSplit
        metadata: {name: podinfo, namespace: prod}
        spec:
          service: podinfo
          backends: [{service: podinfo-primary, weight: 100}, {service: podinfo-canary, weight: 0}]
        """.write(toFile: manifest, atomically: true, encoding: .utf8)
        _ = try await session.kubectl("create", "namespace", "prod")
        let created = try await session.kubectl("apply", "-f", manifest)
        #expect(created.out.contains("trafficsplit.split.smi-spec.io/podinfo created"), "\(created.err)")
        let patched = try await session.kubectl(
            "-n",
            "prod",
            "patch",
            "trafficsplit",
            "podinfo",
            "--type",
            "merge",
            "-p",
            #"{"spec":{"backends":[{"service":"podinfo-primary","weight":90},{"service":"podinfo-canary","weight":10}]}}"#
        )
        #expect(patched.out.contains("trafficsplit.split.smi-spec.io/podinfo patched"), "\(patched.err)")
        let served = try await session.kubectl(
            "-n",
            "prod",
            "get",
            "trafficsplit",
            "podinfo",
            "-o",
            "jsonpath={.apiVersion} {.spec.backends[1].weight}"
        )
        #expect(served.out == "split.smi-spec.io/v1alpha3 10", "\(served.err)")
        let old = try await session.kubectl(
            "-n",
            "prod",
            "get",
            "trafficsplits.v1alpha1.split.smi-spec.io",
            "podinfo",
            "-o",
            "jsonpath={.apiVersion}"
        )
        #expect(old.out == "split.smi-spec.io/v1alpha1", "\(old.err)")
    }

    @Test("the tutorial's first steps work with stock kubectl and no extra flags")
    func scenario() async throws {
        guard Self.kubectl != nil else {
            print("SKIPPED: kubectl is not installed; the playground kubectl scenario did not run")
            return
        }
        try MachineTools.require(
            ["bash", "curl", "grep"],
            for: "the playground's load tester runs the tutorial's acceptance test, bash -c \"curl … | grep token\""
        )
        let session = try await Session()
        var log = ""
        defer { if log.isEmpty { session.process.terminate() } }
        #expect(FileManager.default.fileExists(atPath: session.kubeconfig), "the playground wrote no kubeconfig")

        let version = try await session.kubectl("version")
        #expect(version.status == 0, "\(version.err)")
        #expect(version.out.contains("Server Version: v1.32"))

        let namespace = try await session.kubectl("create", "namespace", "prod")
        #expect(namespace.out.contains("namespace/prod created"), "\(namespace.err)")
        let again = try await session.kubectl("create", "namespace", "prod")
        #expect(again.status == 1)
        #expect(again.err.contains("Error from server (AlreadyExists): namespaces \"prod\" already exists"))

        let workload = try await session.kubectl("apply", "-f", "manifests/examples/podinfo.yaml")
        #expect(workload.out.contains("deployment.apps/podinfo created"), "\(workload.err)")
        let canary = try await session.kubectl("apply", "-f", "manifests/examples/canary.yaml")
        #expect(canary.out.contains("canary.flagger.app/podinfo created"), "\(canary.err)")
        let unchanged = try await session.kubectl("apply", "-f", "manifests/examples/podinfo.yaml")
        #expect(unchanged.out.contains("deployment.apps/podinfo unchanged"), "\(unchanged.err)")
        // Defaults inside lists (webhooks[].timeout) make kubectl resend the list; the spec stays as it was (the
        // worker writes status meanwhile, so the resourceVersion may move).
        let before = try await session.kubectl(
            "get",
            "canary",
            "podinfo",
            "-n",
            "prod",
            "-o",
            "jsonpath={.metadata.generation} {.spec}"
        )
        let reapplied = try await session.kubectl("apply", "-f", "manifests/examples/canary.yaml")
        #expect(reapplied.status == 0, "\(reapplied.err)")
        let after = try await session.kubectl(
            "get",
            "canary",
            "podinfo",
            "-n",
            "prod",
            "-o",
            "jsonpath={.metadata.generation} {.spec}"
        )
        #expect(before.out == after.out)

        let table = try await session.kubectl("get", "canary", "-n", "prod")
        #expect(table.status == 0, "\(table.err)")
        #expect(
            table.out.split(separator: "\n").first?.split(separator: " ", omittingEmptySubsequences: true) == [
                "NAME", "STATUS", "WEIGHT", "LASTTRANSITIONTIME", "MESSAGE",
            ]
        )
        #expect(table.out.contains("podinfo"))

        // The defaults the admission gate wrote are in the stored object.
        let provider = try await session.kubectl(
            "get",
            "canary",
            "podinfo",
            "-n",
            "prod",
            "-o",
            "jsonpath={.spec.provider} {.spec.progressDeadlineSeconds} {.spec.analysis.metrics[0].interval}"
        )
        #expect(provider.out == "linkerd 600 1m", "\(provider.err)")

        let invalid = try await session.kubectl("apply", "-f", "manifests/examples/invalid-canary.yaml")
        #expect(invalid.status == 1)
        #expect(
            invalid.err.contains("admission webhook \"mutate.canaries.flagger.app\" denied the request"),
            "\(invalid.err)"
        )
        #expect(invalid.err.contains("spec.analysis.stepWeight"))
        let invalidDry = try await session.kubectl(
            "apply",
            "--dry-run=server",
            "-f",
            "manifests/examples/invalid-canary.yaml"
        )
        #expect(invalidDry.status == 1)
        #expect(invalidDry.err.contains("denied the request"))

        let dry = try await session.kubectl(
            "set",
            "image",
            "deployment/podinfo",
            "podinfod=ghcr.io/stefanprodan/podinfo:3.1.9",
            "-n",
            "prod",
            "--dry-run=server"
        )
        #expect(dry.out.contains("deployment.apps/podinfo image updated (server dry run)"), "\(dry.err)")
        let bump = try await session.kubectl(
            "set",
            "image",
            "deployment/podinfo",
            "podinfod=ghcr.io/stefanprodan/podinfo:3.1.1",
            "-n",
            "prod"
        )
        #expect(bump.out.contains("deployment.apps/podinfo image updated"), "\(bump.err)")
        let state = try await session.kubectl(
            "get",
            "deploy",
            "podinfo",
            "-n",
            "prod",
            "-o",
            "jsonpath={.spec.template.spec.containers[0].image}"
        )
        #expect(state.out == "ghcr.io/stefanprodan/podinfo:3.1.1")
        // The release runs in the playground; CI pipelines wait for it as they do with Flagger.
        let started = try await session.kubectl(
            "wait",
            "canary/podinfo",
            "-n",
            "prod",
            "--for=jsonpath={.status.phase}=Progressing",
            "--timeout=30s"
        )
        #expect(started.status == 0, "\(started.err)")
        let promoted = try await session.kubectl(
            "wait",
            "canary/podinfo",
            "-n",
            "prod",
            "--for=condition=promoted",
            "--timeout=120s"
        )
        #expect(promoted.out.contains("canary.flagger.app/podinfo condition met"), "\(promoted.err)")
        let phase = try await session.kubectl(
            "get",
            "canary",
            "podinfo",
            "-n",
            "prod",
            "-o",
            "jsonpath={.status.phase}"
        )
        #expect(phase.out == "Succeeded")
        // --speed 20 compresses the release, not the clock users read: no event or status time lies in the future.
        let ages = try await session.kubectl("get", "events,canaries", "-n", "prod")
        #expect(ages.status == 0, "\(ages.err)")
        #expect(!ages.out.contains("<invalid>"), "\(ages.out)")

        // fledge status shows the Canary's own last event (not the Deployment podinfo's, which shares its name).
        let status = try await Fledge.runOffPool(["status", "-n", "prod", "--kubeconfig", session.kubeconfig])
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout.contains("Succeeded"), "\(status.stdout)")
        #expect(status.stdout.contains("Promotion completed!"), "\(status.stdout)")
        // fledge retry on a Succeeded release: refused by the CLI, which reads the phase first, with the reason.
        let retry = try await Fledge.runOffPool(["retry", "podinfo", "-n", "prod", "--kubeconfig", session.kubeconfig])
        #expect(retry.status == 1, "\(retry.stdout)")
        #expect(
            retry.stderr.contains("cannot be retried: only a Failed release can be retried (phase Succeeded)"),
            "\(retry.stderr)"
        )
        // The annotation set another way (kubectl): refused by the worker with the same reason.
        let annotate = try await session.kubectl(
            "annotate",
            "canary",
            "podinfo",
            "-n",
            "prod",
            "fledge.dev/action=retry"
        )
        #expect(annotate.status == 0, "\(annotate.err)")
        var refused = false
        for _ in 0..<100 where !refused {
            let events = try await session.events(selector: "involvedObject.kind=Canary")
            refused = events.out.contains("Ignoring fledge.dev/action=retry: only a Failed release can be retried")
            if !refused { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(refused, "the worker never answered fledge retry")

        let patch = try await session.kubectl(
            "patch",
            "canary",
            "podinfo",
            "-n",
            "prod",
            "--type",
            "merge",
            "-p",
            #"{"spec":{"analysis":{"threshold":10}}}"#
        )
        #expect(patch.out.contains("canary.flagger.app/podinfo patched"), "\(patch.err)")
        let strategic = try await session.kubectl(
            "patch",
            "canary",
            "podinfo",
            "-n",
            "prod",
            "-p",
            #"{"spec":{"analysis":{"threshold":9}}}"#
        )
        #expect(strategic.status == 1)
        #expect(strategic.err.contains("application/strategic-merge-patch+json is not supported"), "\(strategic.err)")

        let scale = try await session.kubectl("scale", "deployment", "podinfo", "--replicas=3", "-n", "prod")
        #expect(scale.out.contains("deployment.apps/podinfo scaled"), "\(scale.err)")
        let wait = try await session.kubectl(
            "wait",
            "deployment/podinfo",
            "--for=condition=Available",
            "--timeout=30s",
            "-n",
            "prod"
        )
        #expect(wait.out.contains("deployment.apps/podinfo condition met"), "\(wait.err)")

        let events = try await session.events(selector: "involvedObject.name=podinfo")
        #expect(events.status == 0, "\(events.err)")
        let resources = try await session.kubectl("api-resources")
        #expect(resources.out.contains("canaries"), "\(resources.err)")
        let all = try await session.kubectl("get", "all", "-n", "prod")
        #expect(all.out.contains("deployment.apps/podinfo"), "\(all.err)")
        #expect(all.out.contains("canary.flagger.app/podinfo"))

        let delete = try await session.kubectl("delete", "canary", "podinfo", "-n", "prod")
        #expect(delete.out.contains("canary.flagger.app \"podinfo\" deleted"), "\(delete.err)")
        let missing = try await session.kubectl("get", "canary", "podinfo", "-n", "prod")
        #expect(missing.err.contains("Error from server (NotFound): canaries.flagger.app \"podinfo\" not found"))

        log = await session.stop()
        // One hint for the real image bump; none for the dry run.
        let hints = log.split(separator: "\n").filter { $0.contains("release hint") }
        #expect(hints.count == 1, "\(log)")
    }
}

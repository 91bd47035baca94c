/// A program the load tester admits by an argument policy written in code, rather than by a pattern.
///
/// Each policy admits what a release check needs and refuses every argument that would write a file, read a local
/// file, change the kubeconfig, server or identity, or run a plugin, whatever its spelling: `--flag value`,
/// `--flag=value`, short flags alone or in clusters (`-sdo` is `-s -d o` to curl), and `-ovalue`. An operator opts
/// into more with ``LoadTesterConfiguration/allow`` patterns. docs/loadtester.md lists what each policy admits.
public enum BuiltinProgram: String, Sendable, CaseIterable, Hashable {
    /// `hey`: every flag the built-in load generator knows, with bounded values (see ``HeyCommand``); `-D`, `-o`
    /// and `-x` are refused.
    case hey
    /// `curl`: http and https URLs, and the options of an HTTP check that neither read nor write local files.
    case curl
    /// `helm` (and `helmv3`): `test`, `status`, `history` and `list`, without flags that change the cluster or
    /// identity.
    case helm
    /// `kubectl`: read and rollout subcommands, without flags that change the kubeconfig, server or identity or
    /// read local files.
    case kubectl
    /// `grpc_health_probe`: a health check, without the flags that read certificate files.
    case grpcHealthProbe = "grpc_health_probe"

    /// The program this policy covers, as the first word of a command.
    static func named(_ program: String) -> BuiltinProgram? {
        program == "helmv3" ? .helm : BuiltinProgram(rawValue: program)
    }

    /// Why the policy refuses these arguments (the program's name left out), or `nil` when it admits them.
    ///
    /// `hey` is checked by parsing it (``HeyCommand``), which the planner does itself so that the answer is hey's.
    func refusal(of arguments: [String]) -> String? {
        switch self {
        case .hey:
            do {
                _ = try HeyCommand(arguments: arguments)
                return nil
            } catch {
                return error.message
            }
        case .curl: return CurlPolicy.refusal(of: arguments)
        case .helm: return SubcommandPolicy.helm.refusal(of: arguments)
        case .kubectl: return SubcommandPolicy.kubectl.refusal(of: arguments)
        case .grpcHealthProbe: return GRPCHealthProbePolicy.refusal(of: arguments)
        }
    }
}

/// Whether the text is an `http://` or `https://` URL with something after the scheme.
private func isHTTPURL(_ text: String) -> Bool {
    let lowered = text.lowercased()
    for scheme in ["http://", "https://"] where lowered.hasPrefix(scheme) && lowered.count > scheme.count {
        return true
    }
    return false
}

// MARK: curl

/// curl's options, read as curl 7.x and 8.x read them: long options only as `--name value` (curl has no
/// `--name=value`), short options alone or clustered, where a short option that takes a value takes the rest of the
/// cluster, or the next argument when it ends the cluster. Only the options listed here are admitted (curl also
/// accepts unambiguous abbreviations of long options; they are refused because they are not listed).
enum CurlPolicy {
    enum Spec {
        /// An option without a value.
        case flag
        /// An option with a value; the closure tells why a value is refused, or `nil`.
        case value(@Sendable (String) -> String?)
    }

    static let anyValue: Spec = .value { _ in nil }
    /// `@name` makes curl read the file `name`.
    static let noFile: Spec = .value { $0.hasPrefix("@") ? "a value starting with @ makes curl read a file" : nil }
    static let nullOrStdout: Spec = .value {
        $0 == "/dev/null" || $0 == "-" ? nil : "it writes a file; only /dev/null or - (standard output) may be given"
    }

    static let long: [String: Spec] = [
        // Output and behaviour.
        "silent": .flag, "show-error": .flag, "fail": .flag, "fail-with-body": .flag, "fail-early": .flag,
        "location": .flag, "location-trusted": .flag, "include": .flag, "head": .flag, "verbose": .flag,
        "insecure": .flag, "get": .flag, "compressed": .flag, "no-buffer": .flag, "no-keepalive": .flag,
        "no-progress-meter": .flag, "http1.0": .flag, "http1.1": .flag, "http2": .flag,
        "http2-prior-knowledge": .flag, "globoff": .flag, "path-as-is": .flag, "ipv4": .flag, "ipv6": .flag,
        "retry-connrefused": .flag, "retry-all-errors": .flag, "tcp-nodelay": .flag, "no-sessionid": .flag,
        "tlsv1.2": .flag, "tlsv1.3": .flag, "disable": .flag, "raw": .flag, "basic": .flag, "digest": .flag,
        "help": .flag, "version": .flag, "manual": .flag,
        // Values that are only text.
        "request": anyValue, "data-raw": anyValue, "form-string": anyValue, "max-time": anyValue,
        "connect-timeout": anyValue, "retry": anyValue, "retry-delay": anyValue, "retry-max-time": anyValue,
        "max-redirs": anyValue, "max-filesize": anyValue, "limit-rate": anyValue, "speed-limit": anyValue,
        "speed-time": anyValue, "expect100-timeout": anyValue, "keepalive-time": anyValue, "user-agent": anyValue,
        "referer": anyValue, "user": anyValue, "oauth2-bearer": anyValue, "range": anyValue,
        // Values curl may read as a file name.
        "header": noFile, "data": noFile, "data-ascii": noFile, "data-binary": noFile, "json": noFile,
        "data-urlencode": .value { value in
            // `name@file` and `@file` read a file; `name=content` and `=content` do not. curl looks for whichever
            // of `=` and `@` comes first.
            value.first(where: { $0 == "=" || $0 == "@" }) == "@"
                ? "@ before any = makes curl read a file" : nil
        },
        "form": .value { value in
            value.contains("@") || value.contains("<")
                ? "@ and < make curl read a file; use --form-string for literal text" : nil
        },
        "write-out": .value { value in
            if value.hasPrefix("@") { return "a value starting with @ makes curl read a file" }
            return value.contains("%output{") ? "%output{…} makes curl write a file" : nil
        },
        "cookie": .value { value in
            value.contains("=") ? nil : "a cookie without = is a file curl reads; give NAME=VALUE"
        },
        "url": .value { isHTTPURL($0) ? nil : "only http:// and https:// URLs are allowed" },
        // Values that name a file: only the null device and standard output.
        "output": nullOrStdout, "dump-header": nullOrStdout,
    ]

    static let short: [Unicode.Scalar: String] = [
        "s": "silent", "S": "show-error", "f": "fail", "L": "location", "i": "include", "I": "head", "v": "verbose",
        "k": "insecure", "G": "get", "N": "no-buffer", "0": "http1.0", "g": "globoff", "4": "ipv4", "6": "ipv6",
        "q": "disable", "h": "help", "V": "version", "M": "manual", "X": "request", "H": "header", "d": "data",
        "F": "form", "o": "output", "D": "dump-header", "w": "write-out", "m": "max-time", "A": "user-agent",
        "e": "referer", "u": "user", "r": "range", "b": "cookie", "Y": "speed-limit", "y": "speed-time",
    ]

    /// Why notable options are refused; every option not in ``long`` is refused.
    static let reasons: [String: String] = [
        "remote-name": "it writes a file", "remote-name-all": "it writes files",
        "remote-header-name": "it writes a file",
        "output-dir": "it writes files", "create-dirs": "it creates directories", "cookie-jar": "it writes a file",
        "trace": "it writes a file", "trace-ascii": "it writes a file", "stderr": "it writes a file",
        "libcurl": "it writes a file", "etag-save": "it writes a file", "hsts": "it reads and writes a file",
        "alt-svc": "it reads and writes a file", "config": "it reads options from a file",
        "upload-file": "it uploads a local file", "netrc": "it reads credentials from a local file",
        "netrc-file": "it reads credentials from a local file",
        "netrc-optional": "it reads credentials from a local file",
        "cert": "it reads a local file", "key": "it reads a local file", "cacert": "it reads a local file",
        "capath": "it reads local files", "crlfile": "it reads a local file", "etag-compare": "it reads a local file",
        "time-cond": "it may read a local file", "unix-socket": "it connects to a local socket",
        "abstract-unix-socket": "it connects to a local socket", "proxy": "it changes the proxy",
        "noproxy": "it changes the proxy", "preproxy": "it changes the proxy", "proxy-user": "it changes the proxy",
        "proxytunnel": "it changes the proxy", "socks4": "it changes the proxy", "socks4a": "it changes the proxy",
        "socks5": "it changes the proxy", "socks5-hostname": "it changes the proxy",
        "next": "it starts a second, unchecked set of options", "proto": "it allows other protocols",
        "proto-default": "it allows other protocols", "proto-redir": "it allows other protocols",
        "engine": "it loads code", "variable": "it reads files and the environment",
    ]

    /// curl's short names of refused options, so that the refusal can say why.
    static let refusedShort: [Unicode.Scalar: String] = [
        "O": "remote-name", "J": "remote-header-name", "K": "config", "T": "upload-file", "c": "cookie-jar",
        "n": "netrc", "x": "proxy", "E": "cert", "z": "time-cond", ":": "next", "U": "proxy-user",
        "p": "proxytunnel",
    ]

    static func refusal(of arguments: [String]) -> String? {
        var index = 0
        var optionsEnded = false
        func value(for option: String, check: (String) -> String?, inline: String?) -> String? {
            let value: String
            if let inline {
                value = inline
            } else if index < arguments.count {
                value = arguments[index]
                index += 1
            } else {
                return "\(option) needs a value"
            }
            return check(value).map { "\(option) \(ArgumentSplitter.quote(value)): \($0)" }
        }
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if optionsEnded || !argument.hasPrefix("-") || argument == "-" {
                guard isHTTPURL(argument) else {
                    return "\(ArgumentSplitter.quote(argument)) is not an http:// or https:// URL"
                }
                continue
            }
            if argument == "--" {
                optionsEnded = true
                continue
            }
            if argument.hasPrefix("--") {
                let name = String(argument.dropFirst(2))
                if let equals = name.firstIndex(of: "=") {
                    return "\(argument): curl does not read --\(name[..<equals])=VALUE; give the value as the "
                        + "next argument"
                }
                guard let spec = long[name] else { return refused("--\(name)", name: name) }
                if case .value(let check) = spec, let reason = value(for: argument, check: check, inline: nil) {
                    return reason
                }
                continue
            }
            // A cluster of short options: `-sd@file` is -s, then -d with the value "@file".
            var letters = argument.unicodeScalars.dropFirst()
            while let letter = letters.popFirst() {
                guard let name = short[letter], let spec = long[name] else {
                    return refused("-\(letter)", name: refusedShort[letter])
                }
                guard case .value(let check) = spec else { continue }
                let inline = letters.isEmpty ? nil : String(String.UnicodeScalarView(letters))
                if let reason = value(for: "-\(letter)", check: check, inline: inline) { return reason }
                break
            }
        }
        return nil
    }

    private static func refused(_ option: String, name: String?) -> String {
        "\(option): \(name.flatMap { reasons[$0] } ?? "not among the options the policy allows")"
    }
}

// MARK: kubectl and helm

/// A Cobra command line (kubectl, helm): flags may come anywhere, as `--name value`, `--name=value`, `-x value`,
/// `-xvalue`, `-x=value` or in clusters of one-letter flags; the subcommand is the first argument that is not a flag
/// or a flag's value.
///
/// Flags that change the kubeconfig, server or identity, or read or write local files, are refused wherever they
/// appear. In a cluster, letters are read until one that takes a value in every subcommand; any refused letter
/// before it is refused, so `-ps URL` (`-p -s URL` to `kubectl logs`) cannot hide a `-s`. Before the subcommand only
/// a few global flags are read, so that the subcommand is found exactly as the program finds it.
struct SubcommandPolicy: Sendable {
    let program: String
    /// The subcommands admitted.
    let allowed: Set<String>
    /// The program's built-in subcommands; any other word makes it look for a plugin.
    let builtins: Set<String>
    /// Why some built-in subcommands are refused.
    let subcommandReasons: [String: String]
    /// Long flags refused anywhere, with the reason.
    let refusedFlags: [String: String]
    /// Long-flag prefixes refused anywhere, with the reason.
    let refusedPrefixes: [(prefix: String, reason: String)]
    /// One-letter flags refused anywhere, with their long name.
    let refusedShorthands: [Unicode.Scalar: String]
    /// One-letter flags that take a value in every subcommand.
    let valueShorthands: Set<Unicode.Scalar>
    /// Global flags read before the subcommand that take a value (long or one-letter names).
    let leadingValueFlags: Set<String>
    /// Global flags read before the subcommand that take none.
    let leadingFlags: Set<String>

    static let identity = "it changes the kubeconfig, server or identity the command uses"

    static let kubectl = SubcommandPolicy(
        program: "kubectl",
        allowed: [
            "get", "describe", "logs", "events", "top", "explain", "api-resources", "api-versions", "version", "wait",
            "rollout", "scale", "annotate", "label", "patch", "delete", "set", "auth", "cluster-info",
        ],
        builtins: [
            "create", "expose", "run", "set", "explain", "get", "edit", "delete", "rollout", "scale", "autoscale",
            "certificate", "cluster-info", "top", "cordon", "uncordon", "drain", "taint", "describe", "logs",
            "attach", "exec", "port-forward", "proxy", "cp", "auth", "debug", "events", "diff", "apply", "patch",
            "replace", "wait", "kustomize", "label", "annotate", "completion", "alpha", "api-resources",
            "api-versions", "config", "plugin", "version", "options", "help",
        ],
        subcommandReasons: [
            "plugin": "it lists and runs plugins", "cp": "it copies files to and from the load tester",
            "exec": "it runs commands in a pod", "attach": "it attaches to a running container",
            "debug": "it starts debugging containers", "run": "it starts a pod from any image",
            "proxy": "it opens a listener and keeps running", "port-forward": "it opens a listener and keeps running",
            "edit": "it starts an editor", "config": "it changes the kubeconfig, which can name a credential plugin",
            "kustomize": "it reads local files and URLs", "apply": "it reads manifests from files or URLs",
            "create": "it reads local files and may run plugins", "replace": "it reads manifests from files or URLs",
            "diff": "it reads manifests from files and runs a diff program",
        ],
        refusedFlags: [
            "kubeconfig": "it reads another kubeconfig, whose exec credential plugin kubectl would run",
            "kuberc": "it reads a preferences file that can define aliases", "server": identity, "token": identity,
            "as": identity, "as-group": identity, "as-uid": identity, "user": identity, "username": identity,
            "password": identity, "cluster": identity, "context": identity, "certificate-authority": identity,
            "insecure-skip-tls-verify": identity, "tls-server-name": identity,
            "cache-dir": "it makes kubectl write to another directory", "filename": "it reads local files or URLs",
            "kustomize": "it reads local files or URLs", "output-directory": "it writes files",
            "patch-file": "it reads a local file", "from-file": "it reads local files",
            "from-env-file": "it reads a local file", "env-file": "it reads a local file",
        ],
        refusedPrefixes: [
            ("client-", identity), ("profile", "it writes a file"), ("log-", "it writes log files"),
        ],
        refusedShorthands: ["s": "--server", "f": "--filename", "k": "--kustomize"],
        valueShorthands: ["n", "o", "l", "v"],
        leadingValueFlags: ["n", "namespace", "v", "request-timeout", "vmodule"],
        leadingFlags: ["match-server-version", "warnings-as-errors", "disable-compression"]
    )

    static let helm = SubcommandPolicy(
        program: "helm",
        allowed: ["test", "status", "history", "list", "ls"],
        builtins: [
            "completion", "create", "dependency", "env", "get", "help", "history", "install", "lint", "list", "ls",
            "package", "plugin", "pull", "push", "registry", "repo", "rollback", "search", "show", "status",
            "template", "test", "uninstall", "upgrade", "verify", "version",
        ],
        subcommandReasons: [
            "plugin": "it installs and runs plugins", "install": "it installs charts from anywhere",
            "upgrade": "it installs charts from anywhere", "rollback": "it changes releases",
            "uninstall": "it deletes releases", "get": "it prints release values, which may hold secrets",
            "pull": "it writes files", "package": "it writes files", "create": "it writes files",
            "repo": "it changes the repository configuration", "registry": "it changes registry credentials",
            "env": "it prints the environment",
        ],
        refusedFlags: [
            "kubeconfig": "it reads another kubeconfig, whose exec credential plugin helm would run",
            "registry-config": "it reads another local configuration file",
            "repository-config": "it reads another local configuration file",
            "repository-cache": "it uses another local directory", "post-renderer": "it runs a program",
            "values": "it reads local files", "set-file": "it reads local files",
        ],
        refusedPrefixes: [("kube-", identity)],
        refusedShorthands: ["f": "--values"],
        valueShorthands: ["n", "o", "m", "l"],
        leadingValueFlags: ["n", "namespace"],
        leadingFlags: ["debug"]
    )

    func refusal(of arguments: [String]) -> String? {
        var subcommand: String?
        var index = 0
        func takeValue(inline: String?) -> String? {
            if let inline { return inline }
            guard index < arguments.count else { return nil }
            index += 1
            return arguments[index - 1]
        }
        func outputRefusal(_ flag: String, _ value: String?) -> String? {
            guard let value, value.contains("-file") else { return nil }
            return "\(flag) \(ArgumentSplitter.quote(value)): it reads a template from a local file"
        }
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument == "--" {
                // Everything after is an argument of the subcommand (a command for `exec`, refused anyway).
                guard subcommand != nil else { return "-- before the \(program) subcommand" }
                break
            }
            if argument.hasPrefix("--") {
                let body = argument.dropFirst(2)
                let name = String(body.prefix { $0 != "=" })
                let inline = body.firstIndex(of: "=").map { String(body[body.index(after: $0)...]) }
                if let reason = refusedFlags[name]
                    ?? refusedPrefixes.first(where: { name.hasPrefix($0.prefix) })?.reason
                {
                    return "--\(name): \(reason)"
                }
                if name == "output" {
                    if let reason = outputRefusal("--output", takeValue(inline: inline)) { return reason }
                    continue
                }
                guard subcommand == nil else { continue }
                if leadingValueFlags.contains(name) {
                    if takeValue(inline: inline) == nil { return "--\(name) needs a value" }
                } else if !leadingFlags.contains(name) {
                    return "--\(name) before the subcommand: the policy reads only \(leadingDescription) there; put "
                        + "other flags after the subcommand"
                }
                continue
            }
            if argument.hasPrefix("-"), argument.count > 1 {
                var letters = argument.unicodeScalars.dropFirst()
                while let letter = letters.popFirst() {
                    if letter == "=" { break }
                    if let long = refusedShorthands[letter] {
                        let reason = refusedFlags[String(long.dropFirst(2))] ?? Self.identity
                        return "-\(letter) (\(long)): \(reason)"
                    }
                    if valueShorthands.contains(letter) {
                        if letters.first == "=" { letters.removeFirst() }
                        let inline = letters.isEmpty ? nil : String(String.UnicodeScalarView(letters))
                        if subcommand == nil, !leadingValueFlags.contains(String(letter)) {
                            return "-\(letter) before the subcommand: put it after the subcommand"
                        }
                        let value = takeValue(inline: inline)
                        if letter == "o", let reason = outputRefusal("-o", value) { return reason }
                        if value == nil { return "-\(letter) needs a value" }
                        break
                    }
                    if subcommand == nil {
                        return "-\(letter) before the subcommand: the policy reads only \(leadingDescription) there; "
                            + "put other flags after the subcommand"
                    }
                }
                continue
            }
            if subcommand == nil {
                subcommand = argument
                if let reason = subcommandRefusal(argument) { return reason }
            }
        }
        guard subcommand != nil else {
            return "no subcommand (allowed: \(allowed.sorted().joined(separator: ", ")))"
        }
        return nil
    }

    private var leadingDescription: String {
        (leadingValueFlags.union(leadingFlags)).sorted().map { $0.count == 1 ? "-\($0)" : "--\($0)" }
            .joined(separator: ", ")
    }

    private func subcommandRefusal(_ subcommand: String) -> String? {
        if allowed.contains(subcommand) { return nil }
        let list = allowed.sorted().joined(separator: ", ")
        if builtins.contains(subcommand) {
            let reason = subcommandReasons[subcommand] ?? "not among the subcommands the policy allows"
            return "\(program) \(subcommand): \(reason) (allowed: \(list))"
        }
        return "\(ArgumentSplitter.quote(subcommand)) is not a \(program) built-in command, so \(program) would run a "
            + "plugin \(program)-\(subcommand) from PATH (allowed: \(list))"
    }
}

// MARK: grpc_health_probe

/// grpc_health_probe's flags, read as Go's `flag` package reads them: `-name` or `--name`, a value after `=` or as
/// the next argument, booleans only as `-name` or `-name=BOOL`; the first other argument ends the flags, and the probe
/// takes no arguments.
enum GRPCHealthProbePolicy {
    static let valueFlags: Set<String> = [
        "addr", "service", "connect-timeout", "rpc-timeout", "tls-server-name", "user-agent", "rpc-header",
    ]
    static let booleanFlags: Set<String> = ["tls", "tls-no-verify", "gzip", "v", "version"]
    static let fileFlags: Set<String> = ["tls-ca-cert", "tls-client-cert", "tls-client-key"]

    static func refusal(of arguments: [String]) -> String? {
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            guard argument.hasPrefix("-"), argument != "-" else {
                return "\(ArgumentSplitter.quote(argument)): grpc_health_probe takes flags only"
            }
            if argument == "--" {
                return index < arguments.count ? "grpc_health_probe takes flags only" : nil
            }
            var body = argument.dropFirst()
            if body.hasPrefix("-") { body = body.dropFirst() }
            let name = String(body.prefix { $0 != "=" })
            let hasInline = body.contains("=")
            if fileFlags.contains(name) {
                return "-\(name): it reads a local file"
            }
            if booleanFlags.contains(name) { continue }
            guard valueFlags.contains(name) else {
                return "-\(name): not among the flags the policy allows"
            }
            if !hasInline {
                guard index < arguments.count else { return "-\(name) needs a value" }
                index += 1
            }
        }
        return nil
    }
}

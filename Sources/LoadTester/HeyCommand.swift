import Foundation
import KubeModels

/// A `hey` command line, parsed with `hey`'s flags and defaults, for the built-in ``LoadGenerator``.
///
/// Accepted: `-n` requests (200), `-c` workers (50), `-q` requests per second per worker (no limit), `-z` duration
/// (when set, `-n` is ignored and workers send until it passes), `-m` method (GET), `-H "Key: Value"` (repeatable),
/// `-d` body, `-T` content type (`text/html`), `-A` accept, `-a user:password`, `-U` user agent, `-host` Host
/// header, `-t` per-request timeout in seconds (20; 0 waits forever), `-disable-keepalive`, `-disable-redirects`,
/// and, without effect, `-h2`, `-cpus` and `-disable-compression`. Flags precede the URL, as Go's `flag` package
/// requires; `-D` (a body read from a local file), `-o` and `-x` are refused.
///
/// Every value is bounded, so that no command line can trap the process or hold it for long: `-n` ≤ 1,000,000,
/// `-c` ≤ 1000, `-q` 0 or 0.01…100,000, `-z` ≤ 24h, `-t` ≤ 3600, at most 100 `-H` of at most 8 KiB, `-d` ≤ 64 KiB;
/// a value out of range is refused naming the flag, the value and the limit.
public struct HeyCommand: Sendable, Equatable {
    /// A request header given with `-H`.
    public struct Header: Sendable, Equatable {
        /// The header's name.
        public var name: String
        /// The header's value.
        public var value: String

        /// Creates a header.
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The most workers the built-in generator starts for one command (`-c`).
    public static let maximumConcurrency = 1000
    /// The most requests one command may ask for (`-n`).
    public static let maximumRequests = 1_000_000
    /// The lowest `-q` other than 0 (no limit): one request per 100 s per worker.
    public static let minimumQueriesPerSecond = 0.01
    /// The highest `-q`.
    public static let maximumQueriesPerSecond = 100_000.0
    /// The longest `-z`.
    public static let maximumDuration: Duration = .seconds(24 * 3600)
    /// The longest `-t`, in seconds.
    public static let maximumRequestTimeoutSeconds = 3600
    /// The most `-H` headers.
    public static let maximumHeaders = 100
    /// The longest value of `-H`, `-m`, `-T`, `-A`, `-a`, `-U` or `-host`, in UTF-8 bytes.
    public static let maximumHeaderBytes = 8192
    /// The longest `-d` body, in UTF-8 bytes.
    public static let maximumBodyBytes = 64 << 10
    /// The highest `-cpus` (which the built-in generator ignores).
    public static let maximumCPUs = 1024

    /// The URL every request goes to.
    public var url: String
    /// `-n`: requests to send in all; ignored when ``duration`` is set.
    public var requests: Int
    /// `-c`: workers sending requests at the same time.
    public var concurrency: Int
    /// `-q`: requests per second each worker sends at most; 0 for no limit.
    public var queriesPerSecond: Double
    /// `-z`: send for this long instead of a number of requests.
    public var duration: Duration?
    /// `-m`: the HTTP method, upper-cased.
    public var method: String
    /// `-H`: extra request headers, in order.
    public var headers: [Header]
    /// `-d`: the request body.
    public var body: String?
    /// `-T`: the Content-Type header, sent on every request as `hey` does.
    public var contentType: String
    /// `-A`: the Accept header.
    public var accept: String?
    /// `-a`: `user:password` for basic authentication.
    public var basicAuthentication: String?
    /// `-U`: the User-Agent header.
    public var userAgent: String
    /// `-host`: the Host header, when it should differ from the URL's host.
    public var hostHeader: String?
    /// `-t`: how long one request may take; `nil` waits forever.
    public var requestTimeout: Duration?
    /// `-disable-keepalive`: a new connection for every request.
    public var disableKeepAlive: Bool
    /// `-disable-redirects`: report redirects instead of following them.
    public var disableRedirects: Bool

    /// A command for this URL with `hey`'s defaults.
    public init(url: String) {
        self.url = url
        requests = 200
        concurrency = 50
        queriesPerSecond = 0
        duration = nil
        method = "GET"
        headers = []
        body = nil
        contentType = "text/html"
        accept = nil
        basicAuthentication = nil
        userAgent = "hey/0.0.1"
        hostHeader = nil
        requestTimeout = .seconds(20)
        disableKeepAlive = false
        disableRedirects = false
    }

    /// Parses a whole command line such as `hey -z 1m -q 10 -c 2 http://podinfo-canary.test:9898/`.
    ///
    /// The line is split like a `cmd` task's (quotes honoured, nothing expanded) and must start with `hey`.
    public init(commandLine: String) throws(HeyCommandError) {
        let words: [String]
        do {
            words = try ArgumentSplitter.split(commandLine)
        } catch {
            throw HeyCommandError(flag: nil, message: error.message)
        }
        guard words.first == "hey" else {
            throw HeyCommandError(flag: nil, message: "the command is not hey")
        }
        try self.init(arguments: Array(words.dropFirst()))
    }

    /// Parses `hey`'s arguments (without the program name), as Go's `flag` package and `hey` itself would.
    public init(arguments: [String]) throws(HeyCommandError) {
        self.init(url: "")
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            guard argument.count > 1, argument.hasPrefix("-") else { break }
            index += 1
            if argument == "--" { break }
            var name = argument.dropFirst()
            if name.hasPrefix("-") { name = name.dropFirst() }
            guard let first = name.first, first != "-", first != "=" else {
                throw HeyCommandError(flag: argument, message: "bad flag syntax: \(argument)")
            }
            var inlineValue: String?
            if let equals = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: equals)...])
                name = name[..<equals]
            }
            let flag = "-" + name
            guard let kind = Self.flags[String(name)] else {
                if name == "h" || name == "help" {
                    throw HeyCommandError(flag: flag, message: "flag: help requested")
                }
                throw HeyCommandError(flag: flag, message: "flag provided but not defined: \(flag)")
            }
            if kind == .boolean {
                let value = inlineValue ?? "true"
                guard let enabled = Self.parseBool(value) else {
                    throw HeyCommandError(
                        flag: flag,
                        message: "invalid boolean value \"\(value)\" for \(flag): parse error"
                    )
                }
                switch name {
                case "disable-keepalive": disableKeepAlive = enabled
                case "disable-redirects": disableRedirects = enabled
                default: break  // -h2 and -disable-compression: the built-in generator needs neither
                }
                continue
            }
            let value: String
            if let inlineValue {
                value = inlineValue
            } else if index < arguments.count {
                value = arguments[index]
                index += 1
            } else {
                throw HeyCommandError(flag: flag, message: "flag needs an argument: \(flag)")
            }
            func invalid(_ detail: String = "parse error") -> HeyCommandError {
                HeyCommandError(flag: flag, message: "invalid value \"\(value)\" for flag \(flag): \(detail)")
            }
            func above(_ limit: String) -> HeyCommandError {
                HeyCommandError(flag: flag, message: "\(flag) \(value) is above the limit of \(limit)")
            }
            if name != "H", name != "d", value.utf8.count > Self.maximumHeaderBytes {
                throw HeyCommandError(
                    flag: flag,
                    message: "\(flag): \(value.utf8.count) bytes is above the limit of \(Self.maximumHeaderBytes)"
                )
            }
            switch name {
            case "n":
                guard let number = Int(value) else { throw invalid() }
                guard number <= Self.maximumRequests else { throw above("\(Self.maximumRequests)") }
                requests = number
            case "c":
                guard let number = Int(value) else { throw invalid() }
                concurrency = number
            case "q":
                guard let number = Double(value), number.isFinite else { throw invalid() }
                guard number >= 0 else { throw HeyCommandError(flag: "-q", message: "-q cannot be negative") }
                guard number == 0 || (Self.minimumQueriesPerSecond...Self.maximumQueriesPerSecond).contains(number)
                else {
                    throw HeyCommandError(
                        flag: flag,
                        message: "\(flag) \(value) is out of range: it must be 0 (no limit) or between "
                            + "\(Self.minimumQueriesPerSecond) and \(Int(Self.maximumQueriesPerSecond))"
                    )
                }
                queriesPerSecond = number
            case "z":
                guard let parsed = KubeModels.GoDuration(value)?.duration else { throw invalid() }
                guard parsed >= .zero else { throw invalid("must not be negative") }
                guard parsed <= Self.maximumDuration else { throw above("24h") }
                duration = parsed == .zero ? nil : parsed
            case "t":
                guard let seconds = Int(value) else { throw invalid() }
                guard seconds >= 0 else { throw invalid("must not be negative") }
                guard seconds <= Self.maximumRequestTimeoutSeconds else {
                    throw above("\(Self.maximumRequestTimeoutSeconds) seconds")
                }
                requestTimeout = seconds == 0 ? nil : .seconds(seconds)
            case "cpus":
                guard let number = Int(value) else { throw invalid() }
                guard number <= Self.maximumCPUs else { throw above("\(Self.maximumCPUs)") }
            case "m":
                method = value.uppercased()
                guard !method.isEmpty, method.allSatisfy({ $0.isASCII && ($0.isLetter || $0 == "-") }) else {
                    throw invalid("not an HTTP method")
                }
            case "H":
                guard let header = Self.parseHeader(value) else {
                    throw HeyCommandError(
                        flag: flag,
                        message: "could not parse the header \"\(value)\" given with -H; want \"Name: value\""
                    )
                }
                guard value.utf8.count <= Self.maximumHeaderBytes else {
                    throw HeyCommandError(
                        flag: flag,
                        message: "\(flag): a header of \(value.utf8.count) bytes is above the limit of "
                            + "\(Self.maximumHeaderBytes)"
                    )
                }
                guard headers.count < Self.maximumHeaders else {
                    throw HeyCommandError(
                        flag: flag,
                        message: "\(flag): header \(headers.count + 1) is above the limit of \(Self.maximumHeaders) "
                            + "headers"
                    )
                }
                headers.append(header)
            case "d":
                guard value.utf8.count <= Self.maximumBodyBytes else {
                    throw HeyCommandError(
                        flag: flag,
                        message: "\(flag): a body of \(value.utf8.count) bytes is above the limit of "
                            + "\(Self.maximumBodyBytes)"
                    )
                }
                body = value
            case "T": contentType = value
            case "A": accept = value
            case "a":
                guard value.contains(":") else {
                    throw HeyCommandError(flag: flag, message: "-a wants user:password, got \"\(value)\"")
                }
                basicAuthentication = value
            case "U": userAgent = value
            case "host": hostHeader = value
            case "D", "o", "x":
                throw HeyCommandError(
                    flag: flag,
                    message: "flag \(flag) is not supported by the built-in load generator"
                )
            default:
                throw HeyCommandError(flag: flag, message: "flag provided but not defined: \(flag)")
            }
        }
        let positional = arguments[index...]
        guard let target = positional.first else {
            throw HeyCommandError(flag: nil, message: "a URL is required after the flags")
        }
        guard positional.count == 1 else {
            let extra = positional.dropFirst().joined(separator: " ")
            throw HeyCommandError(
                flag: extra.hasPrefix("-") ? extra.split(separator: " ").first.map(String.init) : nil,
                message: "unexpected \"\(extra)\" after the URL; flags go before the URL"
            )
        }
        url = target
        guard let components = URLComponents(string: target), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
        else {
            throw HeyCommandError(flag: nil, message: "invalid URL \"\(target)\": want http:// or https:// and a host")
        }
        if duration != nil {
            guard concurrency >= 1 else {
                throw HeyCommandError(flag: "-c", message: "-c cannot be smaller than 1")
            }
        } else {
            guard requests >= 1, concurrency >= 1 else {
                throw HeyCommandError(flag: requests < 1 ? "-n" : "-c", message: "-n and -c cannot be smaller than 1")
            }
            guard requests >= concurrency else {
                throw HeyCommandError(flag: "-n", message: "-n cannot be less than -c")
            }
        }
        guard concurrency <= Self.maximumConcurrency else {
            throw HeyCommandError(
                flag: "-c",
                message: "-c \(concurrency) is above the built-in load generator's limit of \(Self.maximumConcurrency)"
            )
        }
    }

    private enum FlagKind {
        case value, boolean
    }

    private static let flags: [String: FlagKind] = [
        "n": .value, "c": .value, "q": .value, "z": .value, "t": .value, "m": .value, "H": .value, "d": .value,
        "D": .value, "T": .value, "A": .value, "a": .value, "U": .value, "x": .value, "o": .value, "host": .value,
        "cpus": .value, "h2": .boolean, "disable-compression": .boolean, "disable-keepalive": .boolean,
        "disable-redirects": .boolean,
    ]

    private static func parseBool(_ text: String) -> Bool? {
        switch text {
        case "1", "t", "T", "true", "TRUE", "True": return true
        case "0", "f", "F", "false", "FALSE", "False": return false
        default: return nil
        }
    }

    /// `hey`'s header syntax: a name of word characters and dashes, a colon, then a non-empty value.
    static func parseHeader(_ text: String) -> Header? {
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let name = text[..<colon]
        let value = text[text.index(after: colon)...].drop { $0 == " " || $0 == "\t" }
        guard !name.isEmpty, !value.isEmpty,
            name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") })
        else { return nil }
        return Header(name: String(name), value: String(value))
    }
}

/// Why a `hey` command line cannot run; ``flag`` names the offending flag when there is one.
public struct HeyCommandError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The flag at fault, such as `-c`; `nil` when the problem is not one flag's.
    public var flag: String?
    /// What is wrong, in Go's and `hey`'s wording where they have one.
    public var message: String

    /// Creates an error.
    public init(flag: String?, message: String) {
        self.flag = flag
        self.message = message
    }

    /// `hey: <message>`, the text of a 400 answer.
    public var description: String { "hey: \(message)" }
}

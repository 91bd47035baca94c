import KubeModels

/// An `http` or `https` URL that Fledge will call on a tenant's behalf (a webhook, a Prometheus, an alert
/// receiver), parsed once by one set of rules, so the address checked is the address called.
///
/// Refused when parsing: other schemes, user information (`user:pass@host`), a fragment, spaces and control
/// characters, an empty host, a port outside 1–65535, and numeric hosts in any form but canonical dotted decimal
/// (`2852039166`, `0xa9fea9fe` and `0251.0376.0251.0376` all reach 169.254.169.254 through some resolvers).
/// A query is kept only where the caller allows one (webhooks); a Prometheus address may not carry one, since the
/// query string is Fledge's.
public struct OutboundURL: Sendable, Hashable, CustomStringConvertible {
    /// `http` or `https`, lower case.
    public let scheme: String
    /// The host, lower case; an IPv6 address without its brackets.
    public let host: String
    /// The port when the URL names one.
    public let port: Int?
    /// The path as written (percent-escapes kept), empty or starting with `/`.
    public let path: String
    /// The query after `?`, when there is one.
    public let query: String?

    /// Parses `text`; `allowQuery` keeps a query string, otherwise one is refused.
    public init(_ text: String, allowQuery: Bool) throws(OutboundURLError) {
        let bytes = Array(text.utf8)
        guard !bytes.contains(where: { $0 <= 0x20 || $0 == 0x7F || $0 >= 0x80 }) else {
            throw OutboundURLError("may contain no spaces, control or non-ASCII characters")
        }
        guard let schemeEnd = Self.find(bytes, "://") else {
            throw OutboundURLError("must be an absolute http or https URL")
        }
        let scheme = String(decoding: bytes[..<schemeEnd], as: UTF8.self).lowercased()
        guard scheme == "http" || scheme == "https" else {
            throw OutboundURLError("scheme \(scheme) is not allowed; use http or https")
        }
        var rest = bytes[(schemeEnd + 3)...]
        if rest.contains(UInt8(ascii: "#")) {
            throw OutboundURLError("may not have a fragment (#)")
        }
        var query: String?
        if let mark = rest.firstIndex(of: UInt8(ascii: "?")) {
            guard allowQuery else { throw OutboundURLError("may not have a query (?); the query is Fledge's") }
            query = String(decoding: rest[(mark + 1)...], as: UTF8.self)
            rest = rest[..<mark]
        }
        let authorityEnd = rest.firstIndex(of: UInt8(ascii: "/")) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        path = String(decoding: rest[authorityEnd...], as: UTF8.self)
        guard !authority.contains(UInt8(ascii: "@")) else {
            throw OutboundURLError("may not carry user information (user@host); credentials come from a Secret")
        }
        var hostPart = authority[...]
        var portText: ArraySlice<UInt8>?
        if hostPart.first == UInt8(ascii: "[") {
            guard let close = hostPart.firstIndex(of: UInt8(ascii: "]")) else {
                throw OutboundURLError("has an unclosed [ in its host")
            }
            let after = hostPart[(close + 1)...]
            if !after.isEmpty {
                guard after.first == UInt8(ascii: ":") else { throw OutboundURLError("has text after its IPv6 host") }
                portText = after.dropFirst()
            }
            hostPart = hostPart[(hostPart.startIndex + 1)..<close]
            guard !hostPart.isEmpty, hostPart.allSatisfy({ Self.isHex($0) || $0 == UInt8(ascii: ":") || $0 == 0x2E })
            else { throw OutboundURLError("has an invalid IPv6 host") }
        } else if let colon = hostPart.firstIndex(of: UInt8(ascii: ":")) {
            portText = hostPart[(colon + 1)...]
            hostPart = hostPart[..<colon]
        }
        guard !hostPart.isEmpty else { throw OutboundURLError("has no host") }
        let host = String(decoding: hostPart, as: UTF8.self).lowercased()
        if let portText {
            guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy({ (0x30...0x39).contains($0) }),
                let number = Int(String(decoding: portText, as: UTF8.self)), (1...65535).contains(number)
            else { throw OutboundURLError("has an invalid port; use 1-65535") }
            port = number
        } else {
            port = nil
        }
        if !host.contains(":") {
            try Self.checkName(host)
        }
        self.scheme = scheme
        self.host = host
        self.query = query
    }

    /// `scheme://host[:port]`, what a credential or a trust decision is bound to.
    public var origin: String {
        let bracketed = host.contains(":") ? "[\(host)]" : host
        return "\(scheme)://\(bracketed)" + (port.map { ":\($0)" } ?? "")
    }

    /// The URL as it is called.
    public var description: String { origin + path + (query.map { "?\($0)" } ?? "") }

    /// This URL with `suffix` appended to its path (one `/` between them) and `query` as its query, each name and
    /// value percent-escaped.
    public func appending(path suffix: String, query items: [(String, String)]) -> String {
        var base = path
        while base.hasSuffix("/") { base.removeLast() }
        let query = items.map { "\(Self.percentEncode($0.0))=\(Self.percentEncode($0.1))" }.joined(separator: "&")
        return origin + base + suffix + (query.isEmpty ? "" : "?\(query)")
    }

    /// The IPv4 address of the host when it is one, as four octets.
    public var ipv4: [UInt8]? {
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var octets: [UInt8] = []
        for part in parts {
            guard let value = UInt8(part), String(value) == part else { return nil }
            octets.append(value)
        }
        return octets
    }

    /// Where the host sits, judged from its literal form (a name is `.name`; resolution is the network policy's job).
    public var hostClass: HostClass {
        if let octets = ipv4 { return Self.classify(ipv4: octets) }
        if host.contains(":") {
            let lower = host
            if lower == "::1" { return .loopback }
            if lower == "::" { return .unspecified }
            if lower.hasPrefix("fe8") || lower.hasPrefix("fe9") || lower.hasPrefix("fea") || lower.hasPrefix("feb") {
                return .linkLocal
            }
            // An IPv4-mapped address (::ffff:169.254.169.254) is the IPv4 address.
            if lower.hasPrefix("::ffff:"),
                let mapped = try? OutboundURL("http://\(lower.dropFirst(7))/", allowQuery: false),
                let octets = mapped.ipv4
            {
                return Self.classify(ipv4: octets)
            }
            return .address
        }
        if host == "localhost" || host.hasSuffix(".localhost") { return .loopback }
        if Self.metadataNames.contains(host) { return .linkLocal }
        return .name
    }

    /// Where a literal host points.
    public enum HostClass: Sendable, Hashable {
        /// A DNS name.
        case name
        /// A routable IP address.
        case address
        /// 127.0.0.0/8, ::1, localhost: the caller's own pod.
        case loopback
        /// 169.254.0.0/16, fe80::/10 and cloud metadata names: the node's metadata services.
        case linkLocal
        /// 0.0.0.0 or ::.
        case unspecified
    }

    /// Names of cloud metadata services, refused like their link-local addresses.
    static let metadataNames: Set<String> = [
        "metadata", "metadata.google.internal", "metadata.goog", "instance-data", "instance-data.ec2.internal",
    ]

    static func classify(ipv4 octets: [UInt8]) -> HostClass {
        switch (octets[0], octets[1]) {
        case (127, _): return .loopback
        case (169, 254): return .linkLocal
        case (0, _): return .unspecified
        default: return .address
        }
    }

    /// A host that is not an IPv6 literal: a canonical dotted-decimal IPv4 address or a DNS name with a letter in
    /// its last label (so no resolver reads it as a number).
    static func checkName(_ host: String) throws(OutboundURLError) {
        let bytes = Array(host.utf8)
        guard bytes.count <= 253 else { throw OutboundURLError("has a host longer than 253 characters") }
        guard
            bytes.allSatisfy({
                (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == UInt8(ascii: "-")
                    || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_")
            })
        else { throw OutboundURLError("has an invalid host \(host)") }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        guard
            !labels.contains(where: \.isEmpty)
                || (labels.last?.isEmpty == true && labels.dropLast().allSatisfy { !$0.isEmpty })
        else { throw OutboundURLError("has an empty label in its host \(host)") }
        let last = labels.last(where: { !$0.isEmpty }) ?? ""
        let numeric = last.utf8.allSatisfy { (0x30...0x39).contains($0) } || last.hasPrefix("0x")
        if numeric {
            // Only canonical dotted decimal: four parts, each 0-255 without leading zeros.
            let parts = host.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 4, parts.allSatisfy({ part in UInt8(part).map { String($0) == part } ?? false }) else {
                throw OutboundURLError(
                    "has a numeric host \(host) that is not a dotted-decimal IPv4 address such as 10.0.0.1"
                )
            }
        }
    }

    static func find(_ bytes: [UInt8], _ needle: StaticString) -> Int? {
        let pattern = needle.withUTF8Buffer { Array($0) }
        guard bytes.count >= pattern.count else { return nil }
        for start in 0...(bytes.count - pattern.count)
        where bytes[start..<(start + pattern.count)].elementsEqual(pattern) {
            return start
        }
        return nil
    }

    static func isHex(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x61...0x66).contains(byte) || (0x41...0x46).contains(byte)
    }

    /// Percent-escapes everything but RFC 3986's unreserved characters.
    public static func percentEncode(_ text: String) -> String {
        var result: [UInt8] = []
        result.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                result.append(byte)
            default:
                let digits = Array("0123456789ABCDEF".utf8)
                result.append(UInt8(ascii: "%"))
                result.append(digits[Int(byte >> 4)])
                result.append(digits[Int(byte & 0x0F)])
            }
        }
        return String(decoding: result, as: UTF8.self)
    }
}

/// Why a URL will not be called.
public struct OutboundURLError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong, to follow the URL in a message.
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

/// Which hosts the worker may call for a tenant: never link-local or metadata addresses (the node's credentials),
/// nor the unspecified address; loopback only when allowed (the playground and tests, where every service is on
/// 127.0.0.1).
public struct OutboundPolicy: Sendable, Hashable {
    /// Whether 127.0.0.0/8, ::1 and localhost may be called.
    public var allowLoopback: Bool

    /// In a cluster: loopback would be the controller's own pod, so it is refused.
    public static let cluster = OutboundPolicy(allowLoopback: false)
    /// On one machine (playground, demo, tests).
    public static let local = OutboundPolicy(allowLoopback: true)

    public init(allowLoopback: Bool) { self.allowLoopback = allowLoopback }

    /// Throws when the URL's host may not be called.
    public func check(_ url: OutboundURL) throws(OutboundURLError) {
        switch url.hostClass {
        case .name, .address: return
        case .linkLocal:
            throw OutboundURLError(
                "host \(url.host) is a link-local or cloud metadata address, which Fledge never calls"
            )
        case .unspecified: throw OutboundURLError("host \(url.host) is the unspecified address")
        case .loopback:
            guard allowLoopback else {
                throw OutboundURLError("host \(url.host) is the controller's own pod (loopback); name a Service")
            }
        }
    }

    /// Parses and checks a URL in one step.
    public func url(_ text: String, allowQuery: Bool) throws(OutboundURLError) -> OutboundURL {
        let url = try OutboundURL(text, allowQuery: allowQuery)
        try check(url)
        return url
    }
}

/// Bounds on what one Canary may ask of the worker, so one tenant cannot hold the worker's time.
public enum CanaryLimits {
    /// The longest a webhook may take per attempt.
    public static let webhookTimeout = GoDuration(nanoseconds: 10 * 60 * 1_000_000_000)
    /// The most retries of a webhook.
    public static let webhookRetries = 10
}

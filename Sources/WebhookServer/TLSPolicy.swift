import NIOSSL

/// A TLS 1.2 cipher suite the server can offer, by its IANA and OpenSSL names.
public struct TLSCipherSuite: Sendable, Hashable, CustomStringConvertible {
    /// The IANA name, e.g. `TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256`.
    public let iana: String
    /// The OpenSSL (BoringSSL) name, e.g. `ECDHE-ECDSA-AES128-GCM-SHA256`.
    public let openSSL: String
    /// Whether the suite is an AEAD with forward secrecy (ECDHE with AES-GCM or ChaCha20-Poly1305).
    public let isModern: Bool

    public var description: String { iana }

    /// Every TLS 1.2 suite the server's TLS library implements, modern ones first.
    public static let all: [TLSCipherSuite] = [
        .init(
            iana: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            openSSL: "ECDHE-ECDSA-AES128-GCM-SHA256",
            isModern: true
        ),
        .init(iana: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", openSSL: "ECDHE-RSA-AES128-GCM-SHA256", isModern: true),
        .init(
            iana: "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            openSSL: "ECDHE-ECDSA-AES256-GCM-SHA384",
            isModern: true
        ),
        .init(iana: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", openSSL: "ECDHE-RSA-AES256-GCM-SHA384", isModern: true),
        .init(
            iana: "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            openSSL: "ECDHE-ECDSA-CHACHA20-POLY1305",
            isModern: true
        ),
        .init(
            iana: "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
            openSSL: "ECDHE-RSA-CHACHA20-POLY1305",
            isModern: true
        ),
        .init(iana: "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", openSSL: "ECDHE-ECDSA-AES128-SHA", isModern: false),
        .init(iana: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", openSSL: "ECDHE-RSA-AES128-SHA", isModern: false),
        .init(iana: "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", openSSL: "ECDHE-ECDSA-AES256-SHA", isModern: false),
        .init(iana: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", openSSL: "ECDHE-RSA-AES256-SHA", isModern: false),
        .init(iana: "TLS_RSA_WITH_AES_128_GCM_SHA256", openSSL: "AES128-GCM-SHA256", isModern: false),
        .init(iana: "TLS_RSA_WITH_AES_256_GCM_SHA384", openSSL: "AES256-GCM-SHA384", isModern: false),
        .init(iana: "TLS_RSA_WITH_AES_128_CBC_SHA", openSSL: "AES128-SHA", isModern: false),
        .init(iana: "TLS_RSA_WITH_AES_256_CBC_SHA", openSSL: "AES256-SHA", isModern: false),
    ]

    /// The default: the ECDHE AEAD suites only.
    public static let modern = all.filter(\.isModern)

    static let tls13Names: Set<String> = [
        "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
    ]

    /// The suite named `name` (IANA or OpenSSL spelling, any case); throws naming the choices when none matches.
    public static func named(_ name: String) throws(TLSPolicyError) -> TLSCipherSuite {
        let wanted = name.uppercased()
        if let suite = all.first(where: { $0.iana == wanted || $0.openSSL == wanted }) { return suite }
        if tls13Names.contains(wanted) {
            throw TLSPolicyError(
                "cipher suite \(name): TLS 1.3 suites cannot be chosen; all of them (AEAD only) are offered with TLS 1.3"
            )
        }
        throw TLSPolicyError(
            "cipher suite \(name) is not supported; use IANA or OpenSSL names of TLS 1.2 suites: "
                + all.map(\.iana).joined(separator: ", ")
        )
    }
}

/// Why a TLS setting was refused.
public struct TLSPolicyError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The setting, the value and the fix.
    public var message: String
    public var description: String { message }
    init(_ message: String) { self.message = message }
}

/// Which TLS versions and TLS 1.2 cipher suites the server accepts.
///
/// The default is TLS 1.2 or newer with ECDHE AEAD suites only (AES-GCM, ChaCha20-Poly1305) for TLS 1.2; TLS 1.3
/// always uses its own AEAD suites. The API server (Go's crypto/tls) offers all of these.
public struct TLSPolicy: Sendable, Equatable {
    /// The oldest version accepted: 1.2 or 1.3.
    public enum MinimumVersion: String, Sendable, Equatable, CaseIterable {
        case tls12 = "1.2"
        case tls13 = "1.3"
    }

    /// The oldest TLS version accepted.
    public var minimumVersion: MinimumVersion
    /// The TLS 1.2 suites offered (ignored when the minimum is 1.3); never empty.
    public var cipherSuites: [TLSCipherSuite]

    /// Creates a policy; throws when `cipherSuites` is empty.
    public init(
        minimumVersion: MinimumVersion = .tls12,
        cipherSuites: [TLSCipherSuite] = TLSCipherSuite.modern
    ) throws(TLSPolicyError) {
        guard !cipherSuites.isEmpty else { throw TLSPolicyError("cipher suites: name at least one TLS 1.2 suite") }
        self.minimumVersion = minimumVersion
        self.cipherSuites = cipherSuites
    }

    /// The default policy: TLS 1.2 or newer, ECDHE AEAD suites only.
    public static let `default` = TLSPolicy(uncheckedMinimumVersion: .tls12, cipherSuites: TLSCipherSuite.modern)

    private init(uncheckedMinimumVersion: MinimumVersion, cipherSuites: [TLSCipherSuite]) {
        self.minimumVersion = uncheckedMinimumVersion
        self.cipherSuites = cipherSuites
    }

    /// Parses the flag values: a version (`1.2` or `1.3`) and a comma-separated list of suite names (empty for the
    /// default suites).
    public static func parse(minimumVersion: String, cipherSuites: String) throws(TLSPolicyError) -> TLSPolicy {
        guard let version = MinimumVersion(rawValue: minimumVersion.trimmingSpaces) else {
            throw TLSPolicyError("TLS minimum version \(minimumVersion) is not supported; use 1.2 or 1.3")
        }
        let names = cipherSuites.split(separator: ",").map { String($0).trimmingSpaces }.filter { !$0.isEmpty }
        var suites: [TLSCipherSuite] = []
        for name in names {
            let suite = try TLSCipherSuite.named(name)
            if !suites.contains(suite) { suites.append(suite) }
        }
        return try TLSPolicy(minimumVersion: version, cipherSuites: suites.isEmpty ? TLSCipherSuite.modern : suites)
    }

    /// Applies the policy to a server configuration.
    func apply(to configuration: inout TLSConfiguration) {
        configuration.minimumTLSVersion = minimumVersion == .tls13 ? .tlsv13 : .tlsv12
        configuration.cipherSuites = cipherSuites.map(\.openSSL).joined(separator: ":")
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        String(self.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}

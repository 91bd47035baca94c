import Crypto
import Foundation
import SwiftASN1
import X509

/// Why certificates could not be made or written.
public struct CertificateKitError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// PEM files of a CA and a serving certificate it signed.
public struct ServingCertificates: Sendable {
    /// The CA certificate (goes into the webhook configurations' `caBundle`).
    public var caCertificatePEM: String
    /// The CA's private key (PKCS#8), kept only to sign again.
    public var caKeyPEM: String
    /// The serving certificate (`tls.crt`).
    public var certificatePEM: String
    /// The serving key (`tls.key`, PKCS#8).
    public var keyPEM: String
}

/// Makes a self-signed CA and a serving certificate for the webhook, with P-256 keys.
///
/// The CA is valid for 10 years and the leaf for 1 year; both start an hour back so clocks a little behind accept them.
public enum CertificateFactory {
    /// Makes a new CA and a leaf for `dnsNames` and `ipAddresses` (the first DNS name is the subject).
    public static func make(
        dnsNames: [String],
        ipAddresses: [String] = [],
        now: Date = Date(),
        caValidity: TimeInterval = 10 * 365 * 24 * 3600,
        leafValidity: TimeInterval = 365 * 24 * 3600
    ) throws -> ServingCertificates {
        guard !dnsNames.isEmpty || !ipAddresses.isEmpty else {
            throw CertificateKitError("give at least one --dns-name or --ip-address for the serving certificate")
        }
        let ipBytes = try ipAddresses.map { address in
            guard let bytes = parseIP(address) else {
                throw CertificateKitError("\"\(address)\" is not an IPv4 or IPv6 address")
            }
            return bytes
        }
        let notBefore = now.addingTimeInterval(-3600)
        let caKey = P256.Signing.PrivateKey()
        let caName = try DistinguishedName {
            OrganizationName("fledge")
            CommonName("fledge webhook CA")
        }
        let caCertificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: .init(caKey.publicKey),
            notValidBefore: notBefore,
            notValidAfter: now.addingTimeInterval(caValidity),
            issuer: caName,
            subject: caName,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: Certificate.PublicKey(caKey.publicKey))
            },
            issuerPrivateKey: .init(caKey)
        )
        let leafKey = P256.Signing.PrivateKey()
        let subject = try DistinguishedName {
            OrganizationName("fledge")
            CommonName(dnsNames.first ?? ipAddresses[0])
        }
        var alternativeNames: [GeneralName] = dnsNames.map { .dnsName($0) }
        alternativeNames += ipBytes.map { .ipAddress(ASN1OctetString(contentBytes: ArraySlice($0))) }
        let leaf = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: .init(leafKey.publicKey),
            notValidBefore: notBefore,
            notValidAfter: now.addingTimeInterval(leafValidity),
            issuer: caName,
            subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage([.serverAuth, .clientAuth])
                SubjectAlternativeNames(alternativeNames)
                AuthorityKeyIdentifier(keyIdentifier: try caCertificate.extensions.subjectKeyIdentifier?.keyIdentifier)
            },
            issuerPrivateKey: .init(caKey)
        )
        return ServingCertificates(
            caCertificatePEM: try caCertificate.serializeAsPEM().pemString + "\n",
            caKeyPEM: caKey.pemRepresentation + "\n",
            certificatePEM: try leaf.serializeAsPEM().pemString + "\n",
            keyPEM: leafKey.pemRepresentation + "\n"
        )
    }

    /// Writes `ca.crt`, `tls.crt` and `tls.key` (mode 0600) into `directory`, creating it if needed.
    public static func write(_ certificates: ServingCertificates, to directory: String) throws {
        let manager = FileManager.default
        do {
            try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw CertificateKitError("cannot create directory \(directory): \(error.localizedDescription)")
        }
        let files: [(String, String, Int)] = [
            ("ca.crt", certificates.caCertificatePEM, 0o644),
            ("tls.crt", certificates.certificatePEM, 0o644),
            ("tls.key", certificates.keyPEM, 0o600),
        ]
        for (name, contents, mode) in files {
            let path = directory + "/" + name
            guard manager.createFile(atPath: path, contents: Data(contents.utf8), attributes: [.posixPermissions: mode])
            else { throw CertificateKitError("cannot write \(path)") }
        }
    }

    /// The bytes of an IPv4 or IPv6 address in text form, or `nil`.
    static func parseIP(_ text: String) -> [UInt8]? {
        if text.contains(":") { return parseIPv6(text) }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isNumber), let value = UInt8(part) else {
                return nil
            }
            bytes.append(value)
        }
        return bytes
    }

    static func parseIPv6(_ text: String) -> [UInt8]? {
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            for group in part.split(separator: ":", omittingEmptySubsequences: false) {
                guard !group.isEmpty, group.count <= 4, let value = UInt16(group, radix: 16) else { return nil }
                result.append(value)
            }
            return result
        }
        guard let head = groups(halves[0]) else { return nil }
        var all = head
        if halves.count == 2 {
            guard let tail = groups(halves[1]), head.count + tail.count < 8 else { return nil }
            all += Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        }
        guard all.count == 8 else { return nil }
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }
}

import CertificateKit
import Crypto
import Foundation
import SwiftASN1
import Testing
import X509

@Suite("fledge certs")
struct CertsCommandTests {
    @Test("writes a P-256 CA and a serving certificate for the names given")
    func writesCertificates() throws {
        let directory = try Fledge.temporaryDirectory()
        let result = try Fledge.run([
            "certs", "--out-dir", directory, "--dns-name", "fledge.fledge-system.svc", "--dns-name", "localhost",
            "--ip-address", "127.0.0.1",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let ca = try Certificate(pemEncoded: try String(contentsOfFile: directory + "/ca.crt", encoding: .utf8))
        let leaf = try Certificate(pemEncoded: try String(contentsOfFile: directory + "/tls.crt", encoding: .utf8))
        let key = try P256.Signing.PrivateKey(
            pemRepresentation: try String(contentsOfFile: directory + "/tls.key", encoding: .utf8)
        )
        #expect(Certificate.PublicKey(key.publicKey) == leaf.publicKey)
        #expect(leaf.issuer == ca.subject)
        #expect(ca.publicKey.isValidSignature(leaf.signature, for: leaf))
        #expect(try ca.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: 0))
        let names = try #require(try leaf.extensions.subjectAlternativeNames)
        #expect(names.contains(.dnsName("fledge.fledge-system.svc")))
        #expect(names.contains(.dnsName("localhost")))
        #expect(names.contains(.ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))))
        let now = Date()
        #expect(abs(leaf.notValidBefore.timeIntervalSince(now.addingTimeInterval(-3600))) < 120)
        #expect(abs(leaf.notValidAfter.timeIntervalSince(now.addingTimeInterval(365 * 86400))) < 120)
        #expect(abs(ca.notValidAfter.timeIntervalSince(now.addingTimeInterval(3650 * 86400))) < 120)
        let mode = try FileManager.default.attributesOfItem(atPath: directory + "/tls.key")[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test("--print-ca-bundle prints the base64 of ca.crt")
    func caBundle() throws {
        let directory = try Fledge.temporaryDirectory()
        let result = try Fledge.run(["certs", "--out-dir", directory, "--dns-name", "x", "--print-ca-bundle"])
        #expect(result.status == 0)
        let ca = try Data(contentsOf: URL(fileURLWithPath: directory + "/ca.crt"))
        #expect(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == ca.base64EncodedString())
    }

    @Test("refuses a call without names or with a bad address")
    func refusals() throws {
        let directory = try Fledge.temporaryDirectory()
        let none = try Fledge.run(["certs", "--out-dir", directory])
        #expect(none.status != 0)
        #expect(none.stderr.contains("--dns-name"))
        let bad = try Fledge.run(["certs", "--out-dir", directory, "--ip-address", "300.1.1.1"])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("\"300.1.1.1\" is not an IPv4 or IPv6 address"))
    }

    @Test("IPv6 addresses are encoded as 16 bytes")
    func ipv6() throws {
        let certificates = try CertificateFactory.make(dnsNames: [], ipAddresses: ["::1", "fd00::a:1"])
        let leaf = try Certificate(pemEncoded: certificates.certificatePEM)
        let names = try #require(try leaf.extensions.subjectAlternativeNames)
        #expect(
            names.contains(
                .ipAddress(ASN1OctetString(contentBytes: ArraySlice([UInt8](repeating: 0, count: 15) + [1])))
            )
        )
        #expect(names.count == 2)
    }
}

import ArgumentParser
import CertificateKit
import CommandSupport
import Foundation

struct CertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certs",
        abstract: "Make a CA and a serving certificate for the webhook.",
        discussion: """
            Writes ca.crt, tls.crt and tls.key (P-256; CA valid 10 years, certificate 1 year, both from an hour ago). \
            In a cluster the certificate needs the Service's DNS name, e.g. --dns-name fledge.fledge-system.svc; \
            ca.crt goes into the webhook configurations' caBundle (certs/install.sh does both).
            """
    )

    @Option(help: "Directory to write ca.crt, tls.crt and tls.key into (created if missing).")
    var outDir: String

    @Option(name: .customLong("dns-name"), help: "A DNS name the certificate is valid for; repeat for more.")
    var dnsNames: [String] = []

    @Option(name: .customLong("ip-address"), help: "An IP address the certificate is valid for; repeat for more.")
    var ipAddresses: [String] = []

    @Flag(help: "Print the base64 of ca.crt, ready for a webhook configuration's caBundle.")
    var printCaBundle = false

    func validate() throws {
        if dnsNames.isEmpty && ipAddresses.isEmpty {
            throw ValidationError(
                "give at least one --dns-name or --ip-address, e.g. --dns-name fledge.fledge-system.svc"
            )
        }
    }

    func run() throws {
        do {
            let certificates = try CertificateFactory.make(dnsNames: dnsNames, ipAddresses: ipAddresses)
            try CertificateFactory.write(certificates, to: outDir)
            if printCaBundle {
                print(Data(certificates.caCertificatePEM.utf8).base64EncodedString())
            } else {
                print("wrote \(outDir)/ca.crt, \(outDir)/tls.crt and \(outDir)/tls.key")
            }
        } catch {
            throw fail("fledge certs: \(error)")
        }
    }
}

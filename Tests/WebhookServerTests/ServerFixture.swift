import Admission
import AsyncHTTPClient
import CertificateKit
import Foundation
import JSONValue
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import ServiceLifecycle
import WebhookServer

/// A certificate directory laid out as Kubernetes mounts a Secret: `tls.crt -> ..data/tls.crt`, `..data` a symlink
/// to a timestamped directory swapped atomically on update.
struct SecretVolume {
    let directory: String
    private(set) var generation = 0

    init() throws {
        directory =
            FileManager.default.temporaryDirectory.appendingPathComponent("fledge-tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// The volume at `directory`, whose last published generation was `generation`.
    init(existing directory: String, generation: Int) {
        self.directory = directory
        self.generation = generation
    }

    /// Writes a new certificate generation and swaps `..data` to it.
    mutating func publish(_ certificates: ServingCertificates) throws {
        generation += 1
        let versioned = "..\(generation)"
        try CertificateFactory.write(certificates, to: directory + "/" + versioned)
        let temporary = directory + "/..data_tmp"
        try? FileManager.default.removeItem(atPath: temporary)
        try FileManager.default.createSymbolicLink(atPath: temporary, withDestinationPath: versioned)
        guard rename(temporary, directory + "/..data") == 0 else { throw POSIXError(.EIO) }
        for name in ["ca.crt", "tls.crt", "tls.key"]
        where !FileManager.default.fileExists(atPath: directory + "/" + name) {
            try FileManager.default.createSymbolicLink(
                atPath: directory + "/" + name,
                withDestinationPath: "..data/" + name
            )
        }
    }
}

/// A running admission server on 127.0.0.1 with a fresh certificate, and clients for it.
final class ServerFixture: Sendable {
    let certificates: ServingCertificates
    let directory: String
    let server: WebhookServer
    let port: Int
    let group: ServiceGroup
    let runTask: Task<Void, any Error>

    init(
        admission: AdmissionService = AdmissionService(),
        reviewer: (any AdmissionReviewer)? = nil,
        reloadInterval: Duration = .seconds(5),
        clientCA: Bool = false,
        http2: Bool = false,
        volume: SecretVolume? = nil,
        configure: (inout WebhookServerConfiguration) throws -> Void = { _ in }
    ) async throws {
        let certificates = try CertificateFactory.make(dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"])
        var volume = try volume ?? SecretVolume()
        try volume.publish(certificates)
        self.certificates = certificates
        self.directory = volume.directory
        var logger = Logger(label: "test")
        logger.logLevel = .error
        var configuration = WebhookServerConfiguration(
            host: "127.0.0.1",
            port: 0,
            certificateDirectory: volume.directory,
            clientCAFile: clientCA ? volume.directory + "/ca.crt" : nil,
            certificateReloadInterval: reloadInterval,
            http2: http2
        )
        try configure(&configuration)
        server = try WebhookServer(
            configuration: configuration,
            reviewer: reviewer ?? admission,
            maximumBodyBytes: admission.configuration.maximumBodyBytes,
            logger: logger
        )
        let group = ServiceGroup(configuration: .init(services: [server], logger: logger))
        self.group = group
        runTask = Task { try await group.run() }
        guard let port = await server.port() else { throw POSIXError(.EADDRNOTAVAIL) }
        self.port = port
    }

    var base: String { "https://127.0.0.1:\(port)" }

    /// Stops the server gracefully and waits for it.
    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await runTask.value
    }

    /// An HTTP client trusting `caPEMs` (default: this server's CA), optionally presenting a client certificate.
    static func client(
        trusting caPEMs: [String],
        clientCertificate: ServingCertificates? = nil,
        maximumTLSVersion: TLSVersion? = nil,
        cipherSuites: [NIOTLSCipher] = []
    ) throws -> HTTPClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try caPEMs.flatMap { try NIOSSLCertificate.fromPEMBytes(Array($0.utf8)) })
        if let clientCertificate {
            tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(clientCertificate.certificatePEM.utf8))
                .map { .certificate($0) }
            tls.privateKey = .privateKey(
                try NIOSSLPrivateKey(bytes: Array(clientCertificate.keyPEM.utf8), format: .pem)
            )
        }
        if let maximumTLSVersion { tls.maximumTLSVersion = maximumTLSVersion }
        if !cipherSuites.isEmpty { tls.cipherSuiteValues = cipherSuites }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(10))
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    func client() throws -> HTTPClient { try Self.client(trusting: [certificates.caCertificatePEM]) }

    /// POSTs `body` to `path` and returns status and body.
    static func post(
        _ client: HTTPClient,
        _ url: String,
        body: [UInt8],
        contentType: String? = "application/json"
    ) async throws -> (status: Int, body: [UInt8]) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await client.execute(request, timeout: .seconds(10))
        let bytes = try await response.body.collect(upTo: 16 * 1024 * 1024)
        return (Int(response.status.code), Array(bytes.readableBytesView))
    }

    static func get(
        _ client: HTTPClient,
        _ url: String,
        method: HTTPMethod = .GET
    ) async throws -> (status: Int, body: String, headers: HTTPHeaders) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        let response = try await client.execute(request, timeout: .seconds(10))
        let bytes = try await response.body.collect(upTo: 16 * 1024 * 1024)
        return (Int(response.status.code), String(buffer: bytes), response.headers)
    }
}

/// The tutorial Canary in a v1 AdmissionReview.
func seedReview(apiVersion: String = "admission.k8s.io/v1", uid: String = "uid-1", stepWeight: Int64 = 5) -> [UInt8] {
    let canary: JSONValue = [
        "apiVersion": "flagger.app/v1beta1", "kind": "Canary",
        "metadata": ["name": "podinfo", "namespace": "prod"],
        "spec": [
            "targetRef": ["apiVersion": "apps/v1", "kind": "Deployment", "name": "podinfo"],
            "service": ["port": 9898],
            "analysis": [
                "interval": "10s", "maxWeight": 100, "stepWeight": .int(stepWeight), "threshold": 5,
                "metrics": [["name": "request-success-rate", "thresholdRange": ["min": 99], "interval": "1m"]],
            ],
        ],
    ]
    let review: JSONValue = [
        "apiVersion": .string(apiVersion), "kind": "AdmissionReview",
        "request": [
            "uid": .string(uid),
            "kind": ["group": "flagger.app", "version": "v1beta1", "kind": "Canary"],
            "resource": ["group": "flagger.app", "version": "v1beta1", "resource": "canaries"],
            "namespace": "prod", "name": "podinfo", "operation": "CREATE",
            "userInfo": ["username": "kubernetes-admin"], "object": canary, "dryRun": false,
        ],
    ]
    return review.serializedBytes()
}

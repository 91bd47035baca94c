import CanaryModel
import CertificateKit
import DevCluster
import Foundation
import JSONValue
import KubeClient
import KubeModels
import Logging
import ServiceLifecycle

/// For tests: the embedded cluster on a real HTTPS port with its simulated Deployment controller, and a KubeClient for it.
public final class ClusterFixture: Sendable {
    public let cluster: DevCluster
    public let server: DevClusterServer
    public let client: KubeClient
    let group: ServiceGroup
    let task: Task<Void, any Error>
    public let port: Int

    /// Starts the cluster; with `inProcess` the fixture's client hands requests to it directly (no socket, no TLS),
    /// otherwise it talks HTTPS to the served port as a real client would.
    public init(
        configuration: DevClusterConfiguration = DevClusterConfiguration(speed: 50),
        extraServices: [any Service] = [],
        inProcess: Bool = false
    )
        async throws
    {
        var logger = Logger(label: "devcluster-test")
        logger.logLevel = .error
        cluster = DevCluster(configuration: configuration, logger: logger)
        let certificates = try CertificateFactory.make(dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"])
        server = DevClusterServer(cluster: cluster, certificates: certificates, logger: logger)
        let services: [any Service] = [server, DeploymentController(cluster: cluster)] + extraServices
        group = ServiceGroup(configuration: .init(services: services.map { .init(service: $0) }, logger: logger))
        let group = self.group
        task = Task { try await group.run() }
        guard let port = await server.port() else { throw FixtureError.notListening }
        self.port = port
        if inProcess {
            client = KubeClient(transport: InProcessTransport(cluster: cluster), logger: logger)
        } else {
            client = try KubeClient(
                config: KubeConfig(
                    server: "https://127.0.0.1:\(port)",
                    certificateAuthorityPEM: Array(certificates.caCertificatePEM.utf8),
                    credentials: .token("test")
                ),
                logger: logger
            )
        }
    }

    public enum FixtureError: Error { case notListening }

    public func stop() async throws {
        try await client.shutdown()
        await group.triggerGracefulShutdown()
        try await task.value
        await cluster.shutdown()
    }

    /// Installs the Flagger CRDs Fledge ships.
    public func installCRDs() async throws {
        for crd in CustomResourceDefinitions.playground {
            _ = try await client.create("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
        }
    }

    public func namespace(_ name: String) async throws {
        _ = try await client.create("/api/v1/namespaces", ["metadata": ["name": .string(name)]])
    }
}

/// Runs `body` against a fresh cluster and always stops it.
public func withCluster(
    _ configuration: DevClusterConfiguration = DevClusterConfiguration(speed: 50),
    _ body: (ClusterFixture) async throws -> Void
) async throws {
    let fixture = try await ClusterFixture(configuration: configuration)
    do {
        try await body(fixture)
    } catch {
        try? await fixture.stop()
        throw error
    }
    try await fixture.stop()
}

/// The podinfo Deployment of the tutorial.
public func podinfoDeployment(
    namespace: String = "prod",
    image: String = "ghcr.io/stefanprodan/podinfo:3.1.0"
) -> JSONValue {
    [
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": ["name": "podinfo", "namespace": .string(namespace), "labels": ["app": "podinfo"]],
        "spec": [
            "replicas": 2,
            "selector": ["matchLabels": ["app": "podinfo"]],
            "template": [
                "metadata": ["labels": ["app": "podinfo"]],
                "spec": [
                    "containers": [
                        [
                            "name": "podinfod", "image": .string(image),
                            "ports": [["name": "http", "containerPort": 9898]],
                            "env": [["name": "A", "value": "1"], ["name": "B", "value": "2"]],
                        ],
                        ["name": "sidecar", "image": "busybox:1.36"],
                    ]
                ],
            ],
        ],
    ]
}

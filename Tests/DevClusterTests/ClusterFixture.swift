import CanaryModel
import CertificateKit
import DevCluster
import Foundation
import JSONValue
import KubeClient
import KubeModels
import Logging
import ServiceLifecycle
import Testing

/// The embedded cluster on a real HTTPS port with its simulated Deployment controller, and a KubeClient for it.
final class ClusterFixture: Sendable {
    let cluster: DevCluster
    let server: DevClusterServer
    let client: KubeClient
    let group: ServiceGroup
    let task: Task<Void, any Error>
    let port: Int

    init(
        configuration: DevClusterConfiguration = DevClusterConfiguration(speed: 50),
        extraServices: [any Service] = []
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
        client = try KubeClient(
            config: KubeConfig(
                server: "https://127.0.0.1:\(port)",
                certificateAuthorityPEM: Array(certificates.caCertificatePEM.utf8),
                credentials: .token("test")
            ),
            logger: logger
        )
    }

    enum FixtureError: Error { case notListening }

    func stop() async throws {
        try await client.shutdown()
        await group.triggerGracefulShutdown()
        try await task.value
        await cluster.shutdown()
    }

    /// Installs the Flagger CRDs Fledge ships.
    func installCRDs() async throws {
        for (_, crd) in CustomResourceDefinitions.all {
            _ = try await client.create("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
        }
    }

    func namespace(_ name: String) async throws {
        _ = try await client.create("/api/v1/namespaces", ["metadata": ["name": .string(name)]])
    }
}

/// Runs `body` against a fresh cluster and always stops it.
func withCluster(
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
func podinfoDeployment(namespace: String = "prod", image: String = "ghcr.io/stefanprodan/podinfo:3.1.0") -> JSONValue {
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

/// The error a call threw, as a KubeAPIError; records an issue when it succeeded.
func apiError(_ body: () async throws -> Void) async -> KubeAPIError? {
    do {
        try await body()
        Issue.record("the request succeeded")
        return nil
    } catch let error as KubeAPIError {
        return error
    } catch {
        Issue.record("unexpected error \(error)")
        return nil
    }
}

/// Polls until `condition` holds (the simulated controllers run in the background).
func eventually(
    timeout: Duration = .seconds(10),
    _ condition: () async throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(20))
    }
    return false
}

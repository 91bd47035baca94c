// Throughput of the embedded API server over real HTTPS: writes per second from concurrent KubeClients, and watch
// events per second delivered to a KubeClient watch. Prints numbers; asserts nothing.
import CertificateKit
import DevCluster
import Foundation
import JSONValue
import KubeClient
import Logging
import ServiceLifecycle

let seconds = Double(ProcessInfo.processInfo.environment["SECONDS"] ?? "") ?? 10
let writers = Int(ProcessInfo.processInfo.environment["WRITERS"] ?? "") ?? 16
var logger = Logger(label: "bench")
logger.logLevel = .error
let cluster = DevCluster(logger: logger)
let certificates = try CertificateFactory.make(dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"])
let server = DevClusterServer(cluster: cluster, certificates: certificates, logger: logger)
let group = ServiceGroup(configuration: .init(services: [server], logger: logger))
let serverTask = Task { try await group.run() }
guard let port = await server.port() else { fatalError("the server did not start") }
let config = KubeConfig(
    server: "https://127.0.0.1:\(port)",
    certificateAuthorityPEM: Array(certificates.caCertificatePEM.utf8),
    credentials: .token("bench")
)
let client = try KubeClient(config: config, logger: logger)
_ = try await client.create("/api/v1/namespaces", ["metadata": ["name": "bench"]])

// 1. Writes: `writers` concurrent loops creating ConfigMaps, then as many updates.
let start = ContinuousClock.now
let deadline = start + .seconds(seconds)
let written = try await withThrowingTaskGroup(of: Int.self) { tasks in
    for writer in 0..<writers {
        tasks.addTask {
            var count = 0
            while ContinuousClock.now < deadline {
                let name = "cm-\(writer)-\(count)"
                _ = try await client.create(
                    "/api/v1/namespaces/bench/configmaps",
                    [
                        "metadata": ["name": .string(name), "labels": ["writer": .string(String(writer))]],
                        "data": ["k": "v"],
                    ]
                )
                count += 1
            }
            return count
        }
    }
    return try await tasks.reduce(0, +)
}
let writeElapsed = ContinuousClock.now - start
let writeSeconds = Double(writeElapsed.components.seconds) + Double(writeElapsed.components.attoseconds) / 1e18
print(
    String(
        format: "writes: %d creates in %.1f s = %.0f writes/s (%d concurrent clients, HTTPS)",
        written,
        writeSeconds,
        Double(written) / writeSeconds,
        writers
    )
)

// 2. Watch: one KubeClient watch from the current revision while objects are written in process as fast as possible.
let list = try await client.get("/api/v1/namespaces/bench/configmaps?limit=1")
let from = list["metadata", "resourceVersion"]?.stringValue
let events = 50_000
let watchStart = ContinuousClock.now
let received = try await withThrowingTaskGroup(of: Int.self) { tasks in
    tasks.addTask {
        var count = 0
        for try await _ in client.watch(
            "/api/v1/namespaces/bench/configmaps",
            resourceVersion: from,
            timeoutSeconds: 120
        ) {
            count += 1
            if count == events { break }
        }
        return count
    }
    tasks.addTask {
        for index in 0..<events {
            let body: JSONValue = ["metadata": ["name": .string("w-\(index)")]]
            _ = await cluster.handle(
                APIRequest(method: "POST", path: "/api/v1/namespaces/bench/configmaps", body: body.serializedBytes())
            )
        }
        return 0
    }
    return try await tasks.reduce(0, +)
}
let watchElapsed = ContinuousClock.now - watchStart
let watchSeconds = Double(watchElapsed.components.seconds) + Double(watchElapsed.components.attoseconds) / 1e18
print(
    String(
        format: "watch: %d events delivered in %.2f s = %.0f events/s to one KubeClient watch",
        received,
        watchSeconds,
        Double(received) / watchSeconds
    )
)
let rss =
    (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8))?.split(separator: "\n")
    .first { $0.hasPrefix("VmHWM") } ?? ""
print("peak RSS: \(rss.split(separator: " ", omittingEmptySubsequences: true).dropFirst().joined(separator: " "))")
try await client.shutdown()
await group.triggerGracefulShutdown()
try await serverTask.value

import AsyncHTTPClient
import Foundation
import Hummingbird
import Progression
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// An exposition endpoint whose Linkerd-proxy counters grow by 99 successes, 1 failure and 100 fast requests in
/// the latency histogram per scrape.
final class LinkerdExposition: Sendable {
    private let scrapes = Mutex(0)

    func render() -> String {
        let scrape = scrapes.withLock { count in
            count += 1
            return count
        }
        let labels = #"namespace="prod",deployment="podinfo",direction="inbound""#
        let total = scrape * 100
        return """
            # TYPE response_total counter
            response_total{\(labels),classification="success",status_code="200"} \(scrape * 99)
            response_total{\(labels),classification="failure",status_code="500"} \(scrape)
            response_total{namespace="prod",deployment="other",direction="inbound",classification="failure"} \(total)
            # TYPE response_latency_ms histogram
            response_latency_ms_bucket{\(labels),le="10"} 0
            response_latency_ms_bucket{\(labels),le="50"} \(total)
            response_latency_ms_bucket{\(labels),le="100"} \(total)
            response_latency_ms_bucket{\(labels),le="+Inf"} \(total)
            response_latency_ms_sum{\(labels)} \(total * 30)
            response_latency_ms_count{\(labels)} \(total)

            """
    }
}

/// No free port could be found.
struct PortError: Error {}

@Suite("Built-in queries against a real Prometheus")
struct RealPrometheusTests {
    static let binary = "/usr/bin/prometheus"
    static let installed = FileManager.default.isExecutableFile(atPath: binary)

    /// A TCP port that was free a moment ago on 127.0.0.1.
    static func freePort() throws -> Int {
        #if canImport(Glibc)
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw PortError() }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(socket, generic, length) == 0 && getsockname(socket, generic, &length) == 0
            }
        }
        guard bound else { throw PortError() }
        return Int(UInt16(bigEndian: address.sin_port))
        #else
        throw PortError()
        #endif
    }

    @Test(
        "request-success-rate and request-duration read ~99 % and ~49.6 ms from scraped Linkerd counters",
        .enabled(if: installed, "prometheus is not installed at /usr/bin/prometheus (apt-get install prometheus)"),
        .timeLimit(.minutes(1))
    )
    func builtinQueries() async throws {
        let exposition = LinkerdExposition()
        let router = Router()
        router.get("/metrics") { _, _ in
            TestServer.respond(.ok, exposition.render(), contentType: "text/plain; version=0.0.4")
        }
        try await TestServer.with(router) { exporterPort in
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("fledge-prometheus-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let config = """
                global:
                  scrape_interval: 1s
                  evaluation_interval: 1s
                scrape_configs:
                  - job_name: linkerd-proxy
                    static_configs:
                      - targets: ["127.0.0.1:\(exporterPort)"]

                """
            let configFile = directory.appendingPathComponent("prometheus.yml")
            try config.write(to: configFile, atomically: true, encoding: .utf8)
            let port = try Self.freePort()
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Self.binary)
            process.arguments = [
                "--config.file=\(configFile.path)",
                "--storage.tsdb.path=\(directory.appendingPathComponent("data").path)",
                "--web.listen-address=127.0.0.1:\(port)",
            ]
            let log = directory.appendingPathComponent("prometheus.log")
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            let logHandle = try FileHandle(forWritingTo: log)
            process.standardOutput = logHandle
            process.standardError = logHandle
            try process.run()
            defer {
                process.terminate()
                process.waitUntilExit()
                try? logHandle.close()
            }

            let client = PrometheusClient(address: "http://127.0.0.1:\(port)", http: HTTPClient.shared)
            let successRate = try #require(
                LinkerdQueries.query(for: "request-success-rate", namespace: "prod", target: "podinfo", interval: "1m")
            )
            let duration = try #require(
                LinkerdQueries.query(for: "request-duration", namespace: "prod", target: "podinfo", interval: "1m")
            )
            var lastError: (any Error)?
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                do {
                    let rate = try await client.query(successRate)
                    let p99 = try await client.query(duration)
                    #expect(abs(rate - 99) < 0.01, "success rate \(rate)")
                    #expect(abs(p99 - 49.6) < 0.01, "p99 \(p99)")
                    return
                } catch {
                    lastError = error
                    try await Task.sleep(for: .milliseconds(500))
                }
            }
            let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            Issue.record("no value within 30 s; last error: \(String(describing: lastError))\n\(output.suffix(2000))")
        }
    }
}

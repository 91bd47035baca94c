import AsyncHTTPClient
import Dispatch
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import Testing

@Suite("Server flags of fledge serve, loadtester and playground", .serialized)
struct ServerFlagsTests {
    @Test(
        "bad server flags are refused before anything starts, naming the flag and the fix",
        arguments: [
            (["serve", "--cert-reload-interval", "0"], "--cert-reload-interval 0 must be at least 1"),
            (["serve", "--cert-reload-interval=-3"], "--cert-reload-interval -3 must be at least 1"),
            (["serve", "--drain-delay", "30"], "--drain-delay 30 must be shorter than --shutdown-timeout 25"),
            (["serve", "--drain-delay", "soon"], "--drain-delay soon is not a duration"),
            (["serve", "--tls-min-version", "1.0"], "TLS minimum version 1.0 is not supported; use 1.2 or 1.3"),
            (["serve", "--tls-cipher-suites", "RC4-SHA"], "cipher suite RC4-SHA is not supported"),
            (["serve", "--metrics-listen", "nowhere"], "--metrics-listen nowhere must be HOST:PORT"),
            (["serve", "--header-timeout", "0s"], "--header-timeout 0s must be positive"),
            (["serve", "--max-connections", "0"], "--max-connections 0 must be at least 1"),
            (["loadtester", "--body-timeout=-1s"], "--body-timeout -1s must be positive"),
            (["loadtester", "--max-connections", "0"], "--max-connections 0 must be at least 1"),
        ]
    )
    func badFlags(_ arguments: [String], _ message: String) throws {
        let result = try Fledge.run(arguments)
        #expect(result.status == 64)
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }

    @Test("fledge serve answers a connection made after SIGTERM during the drain delay, with /readyz failing")
    func drainAfterSigterm() async throws {
        let directory = try Fledge.temporaryDirectory()
        #expect(try Fledge.run(["certs", "--out-dir", directory, "--ip-address", "127.0.0.1"]).status == 0)
        let port = Fledge.freePort()
        let (process, _) = try Fledge.start([
            "serve", "--admission-only", "--listen", "127.0.0.1:\(port)", "--tls-cert-dir", directory,
            "--metrics-listen", "127.0.0.1:0", "--drain-delay", "20s",
        ])
        // It would drain for 20 s more after the test; nothing of it is left to check.
        defer { kill(process.processIdentifier, SIGKILL) }
        let client = try ServeCommandTests.client(ca: directory + "/ca.crt")
        try await ServeCommandTests.waitUntilReady(client, port: port)
        kill(process.processIdentifier, SIGTERM)
        // Each attempt is a new connection, as from a client whose endpoints have not caught up yet.
        var notReady = false
        for _ in 0..<100 where !notReady {
            let fresh = try ServeCommandTests.client(ca: directory + "/ca.crt")
            let response = try await fresh.execute(
                HTTPClientRequest(url: "https://127.0.0.1:\(port)/readyz"),
                timeout: .seconds(10)
            )
            notReady = response.status == .serviceUnavailable
            try await fresh.shutdown()
        }
        #expect(notReady)
        let late = try ServeCommandTests.client(ca: directory + "/ca.crt")
        var review = HTTPClientRequest(url: "https://127.0.0.1:\(port)/validate-flagger-app-v1beta1-canary")
        review.method = .POST
        review.headers.add(name: "Content-Type", value: "application/json")
        review.body = .bytes(ByteBuffer(bytes: try ServeCommandTests.review(uid: "after-sigterm")))
        let answer = try await late.execute(review, timeout: .seconds(10))
        #expect(answer.status == .ok)
        #expect(String(buffer: try await answer.body.collect(upTo: 1 << 20)).contains("after-sigterm"))
        #expect(process.isRunning)
        try await late.shutdown()
        try await client.shutdown()
    }

    @Test("fledge playground warns when its API server listens beyond loopback")
    func playgroundWarning() async throws {
        let directory = try Fledge.temporaryDirectory()
        let (process, stderr) = try Fledge.start([
            "playground", "--listen-api", "0.0.0.0:0", "--kubeconfig-out", directory + "/kubeconfig",
        ])
        let text = await Self.read(stderr, until: "accepts connections from the network")
        kill(process.processIdentifier, SIGKILL)
        #expect(text.contains("warning: --listen-api 0.0.0.0 accepts connections from the network"))
        #expect(text.contains("anyone who can reach it is cluster admin"))
        #expect(text.contains("127.0.0.1"))
    }

    /// Reads `pipe` on a thread of its own until `marker` appears or it ends.
    static func read(_ pipe: Pipe, until marker: String?) async -> String {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var text = ""
                while true {
                    let data = pipe.fileHandleForReading.availableData
                    if data.isEmpty { break }
                    text += String(decoding: data, as: UTF8.self)
                    if let marker, text.contains(marker) { break }
                }
                continuation.resume(returning: text)
            }
        }
    }
}

import Admission
import AsyncHTTPClient
import CertificateKit
import Dispatch
import Foundation
import JSONValue
import LoadTester
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import ServerGuards
import ServiceLifecycle
import Synchronization
import Testing
import WebhookServer

/// A reviewer whose reviews hold their thread, as a review computing for seconds would, until the test lets them go.
final class BlockingReviewer: AdmissionReviewer {
    private let semaphore = DispatchSemaphore(value: 0)
    let started = AsyncStream<Void>.makeStream()
    /// Reviews that gave up waiting: the test never got to release them (the server was stalled meanwhile).
    let gaveUp = Atomic<Int>(0)

    func review(_ endpoint: AdmissionEndpoint, body: ByteBufferView) async -> AdmissionHTTPResponse {
        started.continuation.yield()
        if !hold() { gaveUp.add(1, ordering: .relaxed) }
        return AdmissionService.failure(400, "held review answered")
    }

    /// Blocks the calling thread until released; false after 30 s, which only happens when the server is broken.
    private func hold() -> Bool {
        semaphore.wait(timeout: .now() + 30) == .success
    }

    func release(_ count: Int) {
        for _ in 0..<count { semaphore.signal() }
    }
}

/// A reviewer whose reviews wait (without holding a thread) until the test releases them one by one.
final class GatedReviewer: AdmissionReviewer {
    let started = AsyncStream<Void>.makeStream()
    private let gates = AsyncStream<Void>.makeStream()

    func review(_ endpoint: AdmissionEndpoint, body: ByteBufferView) async -> AdmissionHTTPResponse {
        started.continuation.yield()
        var iterator = gates.stream.makeAsyncIterator()
        _ = await iterator.next()
        return await AdmissionService().review(endpoint, body: body)
    }

    func release() { gates.continuation.yield() }
}

/// A drain whose wait ends when the test says so.
final class DrainControl: Sendable {
    let started = AsyncStream<Void>.makeStream()
    private let release = AsyncStream<Void>.makeStream()

    var wait: @Sendable (Duration) async throws -> Void {
        { _ in
            self.started.continuation.yield()
            var iterator = self.release.stream.makeAsyncIterator()
            _ = await iterator.next()
        }
    }

    func end() { release.continuation.yield() }
}

func first(_ stream: AsyncStream<Void>, count: Int = 1) async {
    var iterator = stream.makeAsyncIterator()
    for _ in 0..<count { _ = await iterator.next() }
}

let validatePath = "/validate-flagger-app-v1beta1-canary"

/// The seed review padded past the size that is reviewed inline, with an annotation of `padding` bytes.
func largeReview(uid: String, padding: Int = 64 * 1024) -> [UInt8] {
    guard var review = try? JSONValue(parsing: seedReview(uid: uid)) else { return [] }
    review.setMember(
        ["request", "object", "metadata", "annotations"],
        ["example.com/padding": .string(String(repeating: "a", count: padding))]
    )
    return review.serializedBytes()
}

@Suite("The admission server holds up against hostile and slow clients", .serialized)
struct HostileServerTests {
    // MARK: Finding 1: admission work off the I/O and cooperative threads

    @Test("/healthz answers while every admission thread is held by a large review that computes")
    func healthWhileReviewsCompute() async throws {
        let reviewer = BlockingReviewer()
        let fixture = try await ServerFixture(reviewer: reviewer) { $0.admissionThreads = 2 }
        // More held reviews than the cooperative pool has threads: were they run there, nothing else could run. (At
        // most 8, the client's connections per host.)
        let held = min(max(ProcessInfo.processInfo.activeProcessorCount, 2) + 1, 8)
        let client = try fixture.client()
        let probe = try fixture.client()
        let outcome: Result<[Int], any Error>
        do {
            outcome = .success(
                try await withThrowingTaskGroup(of: Int.self) { group in
                    for index in 0..<held {
                        group.addTask {
                            try await ServerFixture.post(
                                client,
                                fixture.base + validatePath,
                                body: largeReview(uid: "h\(index)")
                            )
                            .status
                        }
                    }
                    await first(reviewer.started.stream, count: 2)
                    let health = try await ServerFixture.get(probe, fixture.base + "/healthz")
                    #expect(health.status == 200)
                    #expect(try await ServerFixture.get(probe, fixture.base + "/readyz").status == 200)
                    reviewer.release(held)
                    return try await group.reduce(into: []) { $0.append($1) }
                }
            )
        } catch {
            reviewer.release(held)
            outcome = .failure(error)
        }
        #expect(reviewer.gaveUp.load(ordering: .relaxed) == 0, "/healthz waited for the held reviews")
        #expect((try? outcome.get()) == Array(repeating: 400, count: held), "\(outcome)")
        try await probe.shutdown()
        try await client.shutdown()
        try await fixture.stop()
    }

    // MARK: Finding 2: the memory budget

    @Test("a review beyond the memory budget is answered 429 with Retry-After, and the budget frees up after")
    func memoryBudget() async throws {
        let reviewer = GatedReviewer()
        let body = seedReview(uid: "budget")
        let fixture = try await ServerFixture(reviewer: reviewer) { configuration in
            configuration.memoryBudgetBytes = body.count + 10
            configuration.memoryBudgetPatience = .zero
        }
        let client = try fixture.client()
        let holder = Task { try await ServerFixture.post(client, fixture.base + validatePath, body: body).status }
        await first(reviewer.started.stream)
        #expect(fixture.server.budget.bytesInUse == body.count)

        var request = HTTPClientRequest(url: fixture.base + validatePath)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: seedReview(uid: "refused")))
        let refused = try await client.execute(request, timeout: .seconds(10))
        #expect(refused.status.code == 429)
        #expect(refused.headers.first(name: "Retry-After") == "1")
        let status = try JSONValue(parsing: Array(try await refused.body.collect(upTo: 1 << 20).readableBytesView))
        #expect(status["reason"] == "TooManyRequests")
        #expect(status["message"]?.stringValue?.contains("memory budget") == true)

        reviewer.release()
        #expect(try await holder.value == 200)
        #expect(fixture.server.budget.bytesInUse == 0)
        let after = Task { try await ServerFixture.post(client, fixture.base + validatePath, body: body).status }
        await first(reviewer.started.stream)
        reviewer.release()
        #expect(try await after.value == 200)
        try await client.shutdown()
        try await fixture.stop()
    }

    @Test("the byte budget grants in arrival order, makes a reservation wait for room, and gives up at its patience")
    func byteBudget() async throws {
        let budget = ByteBudget(capacity: 100)
        #expect(await budget.reserve(60, waitingAtMost: .zero) == 60)
        #expect(await budget.reserve(60, waitingAtMost: .zero) == nil)
        // Larger than the whole budget: it reserves all of it.
        let waiter = Task { await budget.reserve(500, waitingAtMost: .seconds(60)) }
        while budget.waiting == 0 { await Task.yield() }
        // A small one that would fit waits behind the large one.
        #expect(await budget.reserve(10, waitingAtMost: .zero) == nil)
        budget.release(60)
        #expect(await waiter.value == 100)
        #expect(budget.bytesInUse == 100)
        let cancelled = Task { await budget.reserve(1, waitingAtMost: .seconds(60)) }
        while budget.waiting == 0 { await Task.yield() }
        cancelled.cancel()
        #expect(await cancelled.value == nil)
        #expect(budget.waiting == 0)
        budget.release(100)
        #expect(budget.bytesInUse == 0)
    }

    // MARK: Finding 3: slow clients and too many connections

    @Test("a request head that does not arrive within the header timeout closes the connection")
    func headerTimeout() async throws {
        let fixture = try await ServerFixture {
            $0.guards = ServerGuardsConfiguration(headerTimeout: .milliseconds(200))
        }
        let connection = try await RawConnection.open(
            port: fixture.port,
            trusting: fixture.certificates.caCertificatePEM
        )
        try await connection.send("POST \(validatePath) HTTP/1.1\r\nHost: localhost\r\nContent-Type: appl")
        #expect(await connection.closedByServer())
        // A silent connection (no TLS handshake at all) is closed the same way.
        let silent = try await RawConnection.open(port: fixture.port)
        #expect(await silent.closedByServer())
        try await fixture.stop()
    }

    @Test("with HTTP/2 offered, a connection that never finishes its TLS handshake is closed at the header timeout")
    func handshakeTimeoutWithHTTP2() async throws {
        // Long enough that a busy host completes the good client's handshake well within it.
        let fixture = try await ServerFixture(http2: true) {
            $0.guards = ServerGuardsConfiguration(headerTimeout: .seconds(2))
        }
        let silent = try await RawConnection.open(port: fixture.port)
        #expect(await silent.closedByServer())
        // A client that completes its handshake is served as before.
        let client = try fixture.client()
        let status = try await shuttingDown([client]) {
            try await ServerFixture.get(client, fixture.base + "/healthz").status
        }
        #expect(status == 200)
        try await fixture.stop()
    }

    @Test("a kept-alive connection gets the header timeout again for its next request, not only the first")
    func headerTimeoutOnKeepAlive() async throws {
        // Long enough that a busy host completes the handshake and the first request well within it.
        let fixture = try await ServerFixture {
            $0.guards = ServerGuardsConfiguration(headerTimeout: .seconds(2))
        }
        let connection = try await RawConnection.open(
            port: fixture.port,
            trusting: fixture.certificates.caCertificatePEM
        )
        try await connection.send("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        #expect(await connection.receive("ok\n"))
        try await connection.send("GET /healthz HTTP/1.1\r\nHo")
        #expect(await connection.closedByServer())
        try await fixture.stop()
    }

    @Test("a request body that does not arrive within the body timeout closes the connection")
    func bodyTimeout() async throws {
        let fixture = try await ServerFixture {
            $0.guards = ServerGuardsConfiguration(headerTimeout: .seconds(60), bodyTimeout: .milliseconds(200))
        }
        let connection = try await RawConnection.open(
            port: fixture.port,
            trusting: fixture.certificates.caCertificatePEM
        )
        try await connection.send(
            "POST \(validatePath) HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                + "Content-Length: 1000\r\n\r\n{\"apiVersion\":"
        )
        #expect(await connection.closedByServer())
        try await fixture.stop()
    }

    @Test("connections beyond the limit are closed at once, and a closed one frees its place")
    func connectionLimit() async throws {
        let fixture = try await ServerFixture {
            $0.guards = ServerGuardsConfiguration(maximumConnections: 2)
        }
        let ca = fixture.certificates.caCertificatePEM
        var held: [RawConnection] = []
        for _ in 0..<2 {
            let connection = try await RawConnection.open(port: fixture.port, trusting: ca)
            try await connection.send("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            #expect(await connection.receive("ok\n"))
            held.append(connection)
        }
        let third = try await RawConnection.open(port: fixture.port, trusting: ca)
        #expect(await third.closedByServer())
        held.removeFirst().close()
        #expect(await Self.servedWithinRetries(port: fixture.port, trusting: ca))
        for connection in held { connection.close() }
        try await fixture.stop()
    }

    /// Opens connections until one is served: a place freed by a client's close is counted out when the server
    /// sees that close, a moment after the client made it. Each refused attempt ends with the server's close.
    static func servedWithinRetries(port: Int, trusting ca: String? = nil, attempts: Int = 50) async -> Bool {
        for _ in 0..<attempts {
            guard let connection = try? await RawConnection.open(port: port, trusting: ca) else { continue }
            try? await connection.send("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            let served = await connection.receive("200")
            connection.close()
            if served { return true }
        }
        return false
    }

    @Test("the load tester closes slow request heads and connections beyond its limit")
    func loadTesterGuards() async throws {
        var configuration = LoadTesterConfiguration(host: "127.0.0.1", port: 0)
        // Long enough that the held connections stay open while the third is refused, even on a busy host.
        configuration.guards = ServerGuardsConfiguration(headerTimeout: .seconds(2), maximumConnections: 2)
        let tester = try LoadTester(
            configuration: configuration,
            logger: Logger(label: "test") { _ in
                SwiftLogNoOpLogHandler()
            }
        )
        let group = ServiceGroup(configuration: .init(services: [tester], logger: Logger(label: "test")))
        let run = Task { try await group.run() }
        let port = try #require(await tester.port())

        let slow = try await RawConnection.open(port: port)
        try await slow.send("POST / HTTP/1.1\r\nHost: loadtester\r\nContent-Le")
        #expect(await slow.closedByServer())

        var held: [RawConnection] = []
        for _ in 0..<2 {
            let connection = try await RawConnection.open(port: port)
            try await connection.send("GET /healthz HTTP/1.1\r\nHost: loadtester\r\n\r\n")
            #expect(await connection.receive("OK"))
            held.append(connection)
        }
        let third = try await RawConnection.open(port: port)
        #expect(await third.closedByServer())
        held.removeFirst().close()
        #expect(await Self.servedWithinRetries(port: port))
        for connection in held { connection.close() }
        await group.triggerGracefulShutdown()
        try await run.value
    }

    // MARK: Finding 4: the drain

    @Test(
        "after graceful shutdown starts it keeps accepting while not ready, then stops and finishes what is in flight"
    )
    func drainKeepsAccepting() async throws {
        let drain = DrainControl()
        let reviewer = GatedReviewer()
        let fixture = try await ServerFixture(reviewer: reviewer) {
            $0.drainDelay = .seconds(5)
            $0.drainWait = drain.wait
        }
        await fixture.group.triggerGracefulShutdown()
        await first(drain.started.stream)
        #expect(!fixture.server.readiness.isReady)

        // A client that only now learns of the server (endpoints lag behind) is still answered.
        let late = try fixture.client()
        let url = fixture.base + validatePath
        try await shuttingDown([late]) {
            #expect(try await ServerFixture.get(late, fixture.base + "/readyz").status == 503)
            #expect(try await ServerFixture.get(late, fixture.base + "/healthz").status == 200)
            let review = Task { try await ServerFixture.post(late, url, body: seedReview(uid: "late")) }
            await first(reviewer.started.stream)
            reviewer.release()
            let answered = try await review.value
            #expect(answered.status == 200)
            #expect(try JSONValue(parsing: answered.body)["response", "uid"] == "late")

            // A review in flight when the drain delay ends still gets its answer.
            let inFlight = Task { try await ServerFixture.post(late, url, body: seedReview(uid: "in-flight")) }
            await first(reviewer.started.stream)
            drain.end()
            // Once the delay is over, new connections are refused. (Until the listener has closed, an attempt
            // still gets in; the server's quiescing closes each such one at once.)
            var refused = false
            for _ in 0..<200 where !refused {
                do {
                    let probe = try await RawConnection.open(port: fixture.port)
                    _ = await probe.closedByServer()
                } catch {
                    refused = true
                }
            }
            #expect(refused)
            reviewer.release()
            let finished = try await inFlight.value
            #expect(finished.status == 200)
            #expect(try JSONValue(parsing: finished.body)["response", "uid"] == "in-flight")
        }
        try await fixture.runTask.value
    }

    // MARK: Finding 5: TLS

    @Test("a client offering only a CBC-SHA1 suite fails the handshake, unless that suite is configured")
    func cbcRefused() async throws {
        let fixture = try await ServerFixture()
        let legacy = try await ServerFixture {
            $0.tls = try TLSPolicy.parse(minimumVersion: "1.2", cipherSuites: "ECDHE-ECDSA-AES128-SHA")
        }
        let both = [fixture.certificates.caCertificatePEM, legacy.certificates.caCertificatePEM]
        let cbc = try ServerFixture.client(
            trusting: both,
            maximumTLSVersion: .tlsv12,
            cipherSuites: [.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA]
        )
        let gcm = try ServerFixture.client(
            trusting: both,
            maximumTLSVersion: .tlsv12,
            cipherSuites: [.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]
        )
        await #expect(throws: (any Error).self) {
            _ = try await Self.handshake(cbc, fixture)
        }
        #expect(try await Self.handshake(gcm, fixture) == 200)
        #expect(try await Self.handshake(cbc, legacy) == 200)
        try await cbc.shutdown()
        try await gcm.shutdown()
        try await fixture.stop()
        try await legacy.stop()
    }

    /// The status of GET /healthz: the request gets an answer only when the TLS handshake succeeds.
    static func handshake(_ client: HTTPClient, _ fixture: ServerFixture) async throws -> Int {
        try await ServerFixture.get(client, fixture.base + "/healthz").status
    }

    @Test("with TLS 1.3 as the minimum a TLS 1.2 client fails and a TLS 1.3 client gets in")
    func tls13Minimum() async throws {
        let fixture = try await ServerFixture {
            $0.tls = try TLSPolicy.parse(minimumVersion: "1.3", cipherSuites: "")
        }
        let old = try ServerFixture.client(
            trusting: [fixture.certificates.caCertificatePEM],
            maximumTLSVersion: .tlsv12
        )
        await #expect(throws: (any Error).self) {
            _ = try await ServerFixture.get(old, fixture.base + "/healthz")
        }
        let current = try fixture.client()
        #expect(try await ServerFixture.get(current, fixture.base + "/healthz").status == 200)
        try await old.shutdown()
        try await current.shutdown()
        try await fixture.stop()
    }

    @Test(
        "TLS flags are checked with a message naming the choices",
        arguments: [
            ("1.1", "", "TLS minimum version 1.1 is not supported; use 1.2 or 1.3"),
            ("1.2", "TLS_RSA_WITH_RC4_128_SHA", "cipher suite TLS_RSA_WITH_RC4_128_SHA is not supported"),
            ("1.2", "TLS_AES_128_GCM_SHA256", "TLS 1.3 suites cannot be chosen"),
        ]
    )
    func tlsFlags(_ version: String, _ suites: String, _ message: String) {
        let error = #expect(throws: TLSPolicyError.self) {
            try TLSPolicy.parse(minimumVersion: version, cipherSuites: suites)
        }
        #expect(error?.message.contains(message) == true, "\(error?.message ?? "")")
    }

    @Test("cipher suites are read by IANA or OpenSSL name, in any case, in the order given")
    func suiteNames() throws {
        let policy = try TLSPolicy.parse(
            minimumVersion: "1.2",
            cipherSuites: "ecdhe-rsa-aes256-gcm-sha384, TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"
        )
        #expect(policy.cipherSuites.map(\.openSSL) == ["ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305"])
        #expect(TLSPolicy.default.cipherSuites.filter { !$0.isModern }.isEmpty)
        #expect(TLSPolicy.default.cipherSuites.count == 6)
    }

    // MARK: Finding 6: /metrics exposure

    @Test("with a metrics listener, /metrics is served there behind the token and not on the webhook port")
    func metricsListener() async throws {
        let tokenFile = FileManager.default.temporaryDirectory.appendingPathComponent("token-\(UUID())").path
        #expect(FileManager.default.createFile(atPath: tokenFile, contents: Data("s3cret\n".utf8)))
        let fixture = try await ServerFixture {
            $0.metrics = MetricsExposure(place: .separate(host: "127.0.0.1", port: 0), tokenFile: tokenFile)
        }
        let metricsPort = try #require(await fixture.server.metricsPort())
        let client = try fixture.client()
        #expect(try await ServerFixture.get(client, fixture.base + "/metrics").status == 404)

        let plain = HTTPClient(eventLoopGroupProvider: .singleton)
        let url = "http://127.0.0.1:\(metricsPort)/metrics"
        let anonymous = try await ServerFixture.get(plain, url)
        #expect(anonymous.status == 401)
        #expect(anonymous.headers.first(name: "WWW-Authenticate") == "Bearer")
        var wrong = HTTPClientRequest(url: url)
        wrong.headers.add(name: "Authorization", value: "Bearer s3crex")
        #expect(try await plain.execute(wrong, timeout: .seconds(10)).status.code == 401)
        var right = HTTPClientRequest(url: url)
        right.headers.add(name: "Authorization", value: "Bearer s3cret")
        let scraped = try await plain.execute(right, timeout: .seconds(10))
        #expect(scraped.status.code == 200)
        #expect(
            String(buffer: try await scraped.body.collect(upTo: 1 << 20)).contains(
                "fledge_admission_requests_in_flight"
            )
        )
        // The probes answer there too, for clusters that require client certificates on the webhook port.
        #expect(try await ServerFixture.get(plain, "http://127.0.0.1:\(metricsPort)/readyz").status == 200)
        try await plain.shutdown()
        try await client.shutdown()
        try await fixture.stop()
    }

    @Test("without a metrics exposure /metrics is served nowhere")
    func metricsOff() async throws {
        let fixture = try await ServerFixture { $0.metrics = nil }
        let client = try fixture.client()
        #expect(try await ServerFixture.get(client, fixture.base + "/metrics").status == 404)
        #expect(await fixture.server.metricsPort() == nil)
        try await client.shutdown()
        try await fixture.stop()
    }

    // MARK: Finding 7: the certificate reload interval

    @Test("a zero or negative certificate reload interval is refused, naming the setting")
    func reloadInterval() throws {
        let volume = try SecretVolume()
        for interval in [Duration.zero, .seconds(-1)] {
            let error = #expect(throws: WebhookServerConfigurationError.self) {
                _ = try WebhookServer(
                    configuration: WebhookServerConfiguration(
                        certificateDirectory: volume.directory,
                        certificateReloadInterval: interval
                    ),
                    admission: AdmissionService(),
                    logger: Logger(label: "test")
                )
            }
            #expect(error?.description.contains("certificate reload interval: must be positive") == true)
        }
    }

    // MARK: Finding 8: client certificates

    @Test("with a client CA, a certificate from another CA is refused as well as none")
    func foreignClientCertificate() async throws {
        let fixture = try await ServerFixture(clientCA: true)
        let stranger = try CertificateFactory.make(dnsNames: ["stranger"], ipAddresses: [])
        let foreign = try ServerFixture.client(
            trusting: [fixture.certificates.caCertificatePEM],
            clientCertificate: stranger
        )
        await #expect(throws: (any Error).self) {
            _ = try await ServerFixture.post(foreign, fixture.base + validatePath, body: seedReview())
        }
        try await foreign.shutdown()
        try await fixture.stop()
    }
}

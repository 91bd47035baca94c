import Admission
import AsyncHTTPClient
import CertificateKit
import Foundation
import JSONValue
import NIOCore
import NIOHTTP1
import NIOSSL
import ServiceLifecycle
import Testing
import WebhookServer

@Suite("Admission server over real TLS", .serialized)
struct WebhookServerTests {
    @Test("answers v1 and v1beta1 reviews: patch, allow and deny")
    func reviews() async throws {
        let fixture = try await ServerFixture()
        let client = try fixture.client()
        let mutate = try await ServerFixture.post(
            client,
            fixture.base + "/mutate-flagger-app-v1beta1-canary?timeout=10s",
            body: seedReview()
        )
        #expect(mutate.status == 200)
        let patched = try JSONValue(parsing: mutate.body)
        #expect(patched["response", "uid"] == "uid-1")
        #expect(patched["response", "patchType"] == "JSONPatch")

        let allowed = try await ServerFixture.post(
            client,
            fixture.base + "/validate-flagger-app-v1beta1-canary",
            body: seedReview(apiVersion: "admission.k8s.io/v1beta1", uid: "uid-2")
        )
        let allowedJSON = try JSONValue(parsing: allowed.body)
        #expect(allowedJSON["apiVersion"] == "admission.k8s.io/v1beta1")
        #expect(allowedJSON["response", "allowed"] == true)

        let denied = try await ServerFixture.post(
            client,
            fixture.base + "/validate-flagger-app-v1beta1-canary",
            body: seedReview(uid: "uid-3", stepWeight: 150)
        )
        let deniedJSON = try JSONValue(parsing: denied.body)
        #expect(deniedJSON["response", "allowed"] == false)
        #expect(deniedJSON["response", "status", "code"] == 403)
        #expect(
            deniedJSON["response", "status", "message"]?.stringValue?.contains(
                "spec.analysis.stepWeight: Invalid value: 150: must be between 1 and 100"
            ) == true
        )
        try await client.shutdown()
        try await fixture.stop()
    }

    @Test("bad requests get their status and the server keeps serving")
    func badRequests() async throws {
        let fixture = try await ServerFixture()
        let client = try fixture.client()
        let url = fixture.base + "/validate-flagger-app-v1beta1-canary"

        let get = try await ServerFixture.get(client, url)
        #expect(get.status == 405)
        #expect(get.headers.first(name: "Allow") == "POST")
        #expect(try await ServerFixture.post(client, url, body: seedReview(), contentType: "text/plain").status == 415)
        #expect(try await ServerFixture.post(client, url, body: seedReview(), contentType: nil).status == 415)
        for refused in ["application/jsonx", "application/json-patch+json", "application/", "json", " "] {
            #expect(
                try await ServerFixture.post(client, url, body: seedReview(), contentType: refused).status == 415,
                "\(refused)"
            )
        }
        for accepted in ["Application/JSON", " application/json ", "application/json ;charset=utf-8"] {
            #expect(
                try await ServerFixture.post(client, url, body: seedReview(), contentType: accepted).status == 200,
                "\(accepted)"
            )
        }
        #expect(
            try await ServerFixture.post(
                client,
                url,
                body: seedReview(),
                contentType: "application/json; charset=utf-8"
            )
            .status == 200
        )
        let notJSON = try await ServerFixture.post(client, url, body: Array("{\"apiVersion\":".utf8))
        #expect(notJSON.status == 400)
        #expect(String(decoding: notJSON.body, as: UTF8.self).contains("request body is not JSON"))
        #expect(try await ServerFixture.get(client, fixture.base + "/nope").status == 404)

        // Over the limit, with a Content-Length and streamed without one.
        let big = [UInt8](repeating: UInt8(ascii: " "), count: 7 * 1024 * 1024 + 1)
        #expect(try await ServerFixture.post(client, url, body: big).status == 413)
        var streamed = HTTPClientRequest(url: url)
        streamed.method = .POST
        streamed.headers.add(name: "Content-Type", value: "application/json")
        let (chunks, writer) = AsyncStream<ByteBuffer>.makeStream()
        for _ in 0..<8 { writer.yield(ByteBuffer(bytes: [UInt8](repeating: 0x20, count: 1024 * 1024))) }
        writer.finish()
        streamed.body = .stream(chunks, length: .unknown)
        let streamedResponse = try await client.execute(streamed, timeout: .seconds(10))
        #expect(streamedResponse.status.code == 413)

        #expect(try await ServerFixture.get(client, fixture.base + "/healthz").body == "ok\n")
        #expect(try await ServerFixture.post(client, url, body: seedReview()).status == 200)
        try await client.shutdown()
        try await fixture.stop()
    }

    @Test("reports readiness, health and Prometheus metrics")
    func observability() async throws {
        let fixture = try await ServerFixture()
        let client = try fixture.client()
        #expect(try await ServerFixture.get(client, fixture.base + "/readyz").status == 200)
        #expect(fixture.server.readiness.isReady)
        _ = try await ServerFixture.post(
            client,
            fixture.base + "/mutate-flagger-app-v1beta1-canary",
            body: seedReview()
        )
        _ = try await ServerFixture.post(client, fixture.base + "/validate-flagger-app-v1beta1-canary", body: [1, 2])
        let metrics = try await ServerFixture.get(client, fixture.base + "/metrics").body
        #expect(
            metrics.contains(
                #"fledge_admission_requests_total{webhook="mutate-canary",code="200",verdict="patched"} 1"#
            )
        )
        #expect(
            metrics.contains(
                #"fledge_admission_requests_total{webhook="validate-canary",code="400",verdict="error"} 1"#
            )
        )
        #expect(metrics.contains("fledge_admission_duration_seconds_bucket"))
        #expect(metrics.contains("fledge_admission_requests_in_flight 0"))
        let expiry = metrics.split(separator: "\n").first {
            $0.hasPrefix("fledge_certificate_expiry_timestamp_seconds ")
        }
        let seconds = try #require(expiry.flatMap { Double($0.split(separator: " ")[1]) })
        #expect(abs(seconds - Date().addingTimeInterval(365 * 24 * 3600).timeIntervalSince1970) < 3600)
        try await client.shutdown()
        try await fixture.stop()
        #expect(!fixture.server.readiness.isReady)
    }

    @Test("refuses TLS older than 1.2 and offers only HTTP/1.1")
    func tlsVersions() async throws {
        let fixture = try await ServerFixture()
        let old = try ServerFixture.client(
            trusting: [fixture.certificates.caCertificatePEM],
            maximumTLSVersion: .tlsv11
        )
        await #expect(throws: (any Error).self) {
            _ = try await ServerFixture.get(old, fixture.base + "/healthz")
        }
        try await old.shutdown()
        let curl = try Curl.run([
            "-sS", "--http2", "--cacert", fixture.directory + "/ca.crt", "-o", "/dev/null", "-w", "%{http_version}",
            fixture.base + "/healthz",
        ])
        #expect(curl.output == "1.1")
        try await fixture.stop()
    }

    @Test("HTTP/2 is negotiated only when enabled, and still follows certificate rotation")
    func http2() async throws {
        let fixture = try await ServerFixture(reloadInterval: .milliseconds(100), http2: true)
        let version = { (ca: String) throws -> String in
            try Curl.run([
                "-sS", "--http2", "--cacert", ca, "-o", "/dev/null", "-w", "%{http_version}", fixture.base + "/healthz",
            ]).output
        }
        #expect(try version(fixture.directory + "/ca.crt") == "2")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("review-\(UUID()).json").path
        #expect(FileManager.default.createFile(atPath: file, contents: Data(seedReview(uid: "h2"))))
        let answer = try Curl.run([
            "-sS", "--http2", "--cacert", fixture.directory + "/ca.crt", "-H", "Content-Type: application/json",
            "--data-binary", "@" + file, fixture.base + "/validate-flagger-app-v1beta1-canary",
        ])
        #expect(try JSONValue(parsing: answer.output)["response", "uid"] == "h2")

        var volume = SecretVolume(reusing: fixture.directory, generation: 1)
        let next = try CertificateFactory.make(dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"])
        try volume.publish(next)
        let newCA = FileManager.default.temporaryDirectory.appendingPathComponent("ca-\(UUID()).crt").path
        #expect(FileManager.default.createFile(atPath: newCA, contents: Data(next.caCertificatePEM.utf8)))
        var rotated = false
        for _ in 0..<50 where !rotated {
            try await Task.sleep(for: .milliseconds(100))
            rotated = (try? version(newCA)) == "2"
        }
        #expect(rotated)
        try await fixture.stop()
    }

    @Test("curl: allow, deny and patch over HTTPS")
    func curl() async throws {
        let fixture = try await ServerFixture()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("review-\(UUID()).json").path
        #expect(FileManager.default.createFile(atPath: file, contents: Data(seedReview(uid: "curl-1"))))
        let result = try Curl.run([
            "-sS", "--fail-with-body", "--cacert", fixture.directory + "/ca.crt", "-H",
            "Content-Type: application/json",
            "--data-binary", "@" + file, fixture.base + "/mutate-flagger-app-v1beta1-canary?timeout=10s",
        ])
        #expect(result.status == 0)
        let json = try JSONValue(parsing: result.output)
        #expect(json["response", "uid"] == "curl-1")
        #expect(json["response", "patch"] != nil)
        #expect(FileManager.default.createFile(atPath: file, contents: Data(seedReview(uid: "curl-2", stepWeight: 0))))
        let denied = try Curl.run([
            "-sS", "--cacert", fixture.directory + "/ca.crt", "-H", "Content-Type: application/json",
            "--data-binary", "@" + file, fixture.base + "/validate-flagger-app-v1beta1-canary",
        ])
        #expect(try JSONValue(parsing: denied.output)["response", "allowed"] == false)
        let bad = try Curl.run([
            "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", fixture.directory + "/ca.crt",
            "-H", "Content-Type: application/json", "--data-binary", "[[[",
            fixture.base + "/validate-apps-v1-deployment",
        ])
        #expect(bad.output == "400")
        try await fixture.stop()
    }

    @Test("with a client CA, only clients presenting a certificate it signed get in")
    func clientCertificates() async throws {
        let fixture = try await ServerFixture(clientCA: true)
        let anonymous = try fixture.client()
        await #expect(throws: (any Error).self) {
            _ = try await ServerFixture.get(anonymous, fixture.base + "/healthz")
        }
        try await anonymous.shutdown()
        let known = try ServerFixture.client(
            trusting: [fixture.certificates.caCertificatePEM],
            clientCertificate: fixture.certificates
        )
        #expect(try await ServerFixture.get(known, fixture.base + "/healthz").status == 200)
        try await known.shutdown()
        try await fixture.stop()
    }

    @Test("a rotated certificate is served to new connections and no request fails meanwhile")
    func rotation() async throws {
        var volume = try SecretVolume()
        let fixture = try await ServerFixture(reloadInterval: .milliseconds(100), volume: volume)
        let next = try CertificateFactory.make(dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"])
        let both = try ServerFixture.client(trusting: [fixture.certificates.caCertificatePEM, next.caCertificatePEM])
        let url = fixture.base + "/validate-flagger-app-v1beta1-canary"

        let load = Task {
            var failures = 0
            var successes = 0
            for index in 0..<400 {
                do {
                    let response = try await ServerFixture.post(both, url, body: seedReview(uid: "r-\(index)"))
                    if response.status == 200 { successes += 1 } else { failures += 1 }
                } catch {
                    failures += 1
                }
            }
            return (successes, failures)
        }
        try await Task.sleep(for: .milliseconds(200))
        volume = SecretVolume(reusing: fixture.directory, generation: 1)
        try volume.publish(next)
        // A client trusting only the new CA gets in once the new certificate is loaded.
        let onlyNew = try ServerFixture.client(trusting: [next.caCertificatePEM])
        var rotated = false
        for _ in 0..<50 where !rotated {
            try await Task.sleep(for: .milliseconds(100))
            rotated = (try? await ServerFixture.get(onlyNew, fixture.base + "/healthz"))?.status == 200
        }
        #expect(rotated)
        let (successes, failures) = await load.value
        #expect(failures == 0)
        #expect(successes == 400)
        #expect(fixture.server.certificates.reloadCount == 1)
        try await onlyNew.shutdown()
        try await both.shutdown()
        try await fixture.stop()
    }

    @Test("a changed certificate that does not load keeps the previous one serving")
    func brokenRotation() async throws {
        let fixture = try await ServerFixture(reloadInterval: .milliseconds(50))
        let client = try fixture.client()
        let keyPath = fixture.directory + "/..1/tls.key"
        try Data("not a key".utf8).write(to: URL(fileURLWithPath: keyPath))
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await ServerFixture.get(client, fixture.base + "/healthz").status == 200)
        #expect(fixture.server.certificates.reloadCount == 0)
        try await client.shutdown()
        try await fixture.stop()
    }

    @Test("graceful shutdown lets a request in flight finish and refuses new connections")
    func drain() async throws {
        let fixture = try await ServerFixture()
        let client = try fixture.client()
        let body = seedReview(uid: "in-flight")
        let (stream, continuation) = AsyncStream<ByteBuffer>.makeStream()
        var request = HTTPClientRequest(url: fixture.base + "/validate-flagger-app-v1beta1-canary")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .stream(stream, length: .known(Int64(body.count)))
        continuation.yield(ByteBuffer(bytes: body.prefix(100)))
        let inFlight = Task { () -> (Int, [UInt8]) in
            let response = try await client.execute(request, timeout: .seconds(20))
            let bytes = try await response.body.collect(upTo: 1 << 20)
            return (Int(response.status.code), Array(bytes.readableBytesView))
        }
        try await Task.sleep(for: .milliseconds(300))
        await fixture.group.triggerGracefulShutdown()
        try await Task.sleep(for: .milliseconds(300))
        #expect(!fixture.server.readiness.isReady)
        let fresh = try fixture.client()
        await #expect(throws: (any Error).self) {
            _ = try await ServerFixture.get(fresh, fixture.base + "/healthz")
        }
        continuation.yield(ByteBuffer(bytes: body.dropFirst(100)))
        continuation.finish()
        let result = await inFlight.result
        try await fresh.shutdown()
        try await client.shutdown()
        let (status, answer) = try result.get()
        #expect(status == 200)
        #expect(try JSONValue(parsing: answer)["response", "uid"] == "in-flight")
        try await fixture.runTask.value
    }
}

extension SecretVolume {
    init(reusing directory: String, generation: Int) {
        self.init(existing: directory, generation: generation)
    }
}

/// Runs curl and returns its exit status and standard output.
enum Curl {
    static let path = "/usr/bin/curl"
    static let install = "`apt-get install curl`"

    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try #require(
            FileManager.default.isExecutableFile(atPath: path),
            "curl is not installed at \(path): this test talks to the server with it. Install with \(install)"
        )
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
